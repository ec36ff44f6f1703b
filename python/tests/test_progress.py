"""Progress reports and cancellation (``progress=``, pdb_set_progress).

Checked for every function that takes ``progress=``: the reports end with done == total
in the documented units, the results equal those without reports, reports are
rate-limited, a truthy return cancels promptly (counted in work units, from the
library's message) with inputs unchanged, an exception raised by the callback surfaces
as itself, the handler is per thread, tqdm bars appear when tqdm is installed and are
skipped silently when it is not; and the C interface from a C program.
"""
import math
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import pdeblocks as pdb
from pdeblocks._lib import lib

ROOT = Path(__file__).resolve().parents[2]
K = pdb.DifferenceOperator([0, 1])
G = pdb.Diffusivity("perona_malik", 0.3)


class Recorder:
    """A callback that records its reports and can cancel at the k-th (1-based)."""

    def __init__(self, cancel_at=0):
        self.reports = []
        self.times = []
        self.cancel_at = cancel_at

    def __call__(self, done, total, value):
        self.reports.append((done, total, value))
        self.times.append(time.monotonic())
        return len(self.reports) == self.cancel_at

    @property
    def last(self):
        return self.reports[-1]


def signals(batch, n, seed=0):
    return np.random.default_rng(seed).standard_normal((batch, n))


def every(callback):
    """Report as often as the library looks at the clock."""
    return pdb.Progress(callback, interval=0)


def cancelled_after(error):
    """(done, total) from the library's cancellation message."""
    m = re.search(r"after (\d+) of (\d+)", str(error))
    assert m, str(error)
    return int(m.group(1)), int(m.group(2))


# ---- every function reaches its total, with the result of a call without reports --------------

def _runs():
    f = signals(3, 200)
    bound = pdb.stable_tau(K, G, 200)
    tau = 0.9 * bound
    A = pdb.poisson_1d(511)
    b = np.sin(np.arange(A.n) * 0.1)
    net = pdb.Network([pdb.DiffusionBlock([K], [G], 0.2) for _ in range(4)])
    x = signals(5, 64)
    return {
        # name: (function of progress, expected total)
        "explicit": (lambda p: pdb.explicit(f, K, G, tau, 40, progress=p), 3 * 40),
        "fsi": (lambda p: pdb.fsi(f, K, G, tau, 5, 3, progress=p), 3 * 5 * 3),
        "fed": (lambda p: pdb.fed(f, K, G, tau, 5, 3, progress=p), 3 * 5 * 3),
        "implicit": (lambda p: pdb.implicit(f, K, G, 0.1, 6, 20, tol=1e-9, progress=p), 3 * 6),
        "evolve explicit": (lambda p: pdb.evolve(f, K, G, 20 * bound, scheme="explicit", progress=p)[0], 3 * 20),
        "evolve fsi": (lambda p: pdb.evolve(f, K, G, 30.0, scheme="fsi", cycles=2, progress=p)[0], None),
        "semi_implicit direct": (lambda p: pdb.semi_implicit(f, K, G, 2.0, 5, progress=p), 3 * 5),
        "semi_implicit multigrid": (
            lambda p: pdb.semi_implicit(f, K, G, 2.0, 5, solver="multigrid", tol=1e-8, progress=p), 3 * 5),
        "Multigrid.solve": (lambda p: pdb.Multigrid(A).solve(b, tol=1e-9, progress=p)[0], None),
        "cg": (lambda p: pdb.cg(A, b, tol=1e-9, progress=p)[0], None),
        "Network.forward": (lambda p: net.forward(x, progress=p), 5 * 4),
        "Network.predict": (lambda p: net.predict(x, progress=p), 5 * 4),
        "Network.backward": (lambda p: (net.forward(x), net.backward(x, progress=p))[1][1], 5 * 4),
    }


RUNS = _runs()


@pytest.mark.parametrize("name", sorted(RUNS))
def test_reports_end_at_done_equal_total_and_results_are_unchanged(name):
    run, expected_total = RUNS[name]
    rec = Recorder()
    with_reports = run(every(rec))
    without = run(None)
    np.testing.assert_array_equal(with_reports, without)
    assert rec.reports, "no report at all"
    done, total, _ = rec.last
    assert done == total
    if expected_total is not None:
        assert total == expected_total
    dones = [d for d, _, _ in rec.reports]
    assert dones == sorted(dones) and all(0 <= d <= t for d, t, _ in rec.reports if t >= 0)


def test_evolve_fsi_counts_cycles_times_cycle_length_times_rows():
    f = signals(2, 100)
    rec = Recorder()
    _, info = pdb.evolve(f, K, G, 30.0, scheme="fsi", cycles=2, progress=every(rec))
    assert rec.last[:2] == (2 * info["cycles"] * info["cycle_length"],) * 2


def test_solvers_report_the_relative_residual_and_end_at_the_cycles_done():
    A = pdb.poisson_1d(2047)
    b = np.cos(np.arange(A.n) * 0.05)
    rec = Recorder()
    x, info = pdb.Multigrid(A).solve(b, tol=1e-10, progress=every(rec))
    rel = info["relative_residuals"]
    assert rec.last[:2] == (info["cycles"], info["cycles"])
    assert len(rec.reports) > 2
    for done, total, value in rec.reports:
        assert value == pytest.approx(rel[done], rel=1e-12)
    rec = Recorder()
    x, info = pdb.cg(A, b, tol=1e-10, progress=every(rec))
    assert rec.last[:2] == (info["iterations"], info["iterations"])
    assert rec.last[2] == pytest.approx(info["relative_residuals"][-1], rel=1e-12)


def test_a_batch_of_solves_reports_one_count_over_the_rows():
    A = pdb.poisson_1d(255)
    b = np.stack([np.ones(A.n), np.linspace(0, 1, A.n), np.sin(np.arange(A.n))])
    rec = Recorder()
    _, infos = pdb.Multigrid(A).solve(b, tol=1e-9, maxiter=40, progress=every(rec))
    cycles = sum(i["cycles"] for i in infos)
    assert rec.last[:2] == (cycles, cycles)
    # while running, the total counts max_cycles for the rows not yet solved
    assert all(t <= 3 * 40 for _, t, _ in rec.reports)
    dones = [d for d, _, _ in rec.reports]
    assert dones == sorted(dones)


def test_implicit_value_is_the_last_steps_final_update():
    f = signals(1, 80)
    rec = Recorder()
    u, info = pdb.implicit(f[0], K, G, 0.1, 8, 50, tol=1e-10, return_info=True, progress=every(rec))
    value = rec.last[2]
    assert 0 < value <= 1e-10 and value <= info["residual"]
    rec = Recorder()
    pdb.explicit(f[0], K, G, 0.1, 8, progress=every(rec))
    assert all(math.isnan(v) for _, _, v in rec.reports)


# ---- rate limit ---------------------------------------------------------------------------------

def test_an_infinite_interval_gives_only_the_final_report():
    rec = Recorder()
    pdb.explicit(signals(4, 3000), K, G, 0.2, 500, progress=pdb.Progress(rec, interval=math.inf))
    assert rec.reports == [(2000, 2000, rec.last[2])]


def test_reports_before_the_last_are_at_least_the_interval_apart():
    interval = 0.02
    rec = Recorder()
    start = time.monotonic()
    pdb.explicit(signals(2, 20000), K, G, 0.2, 2000, progress=pdb.Progress(rec, interval=interval))
    regular = rec.times[:-1]
    if regular:
        assert regular[0] - start >= interval
    assert all(b - a >= interval for a, b in zip(regular, regular[1:]))
    # a report every 20 ms at most: far fewer reports than flushes of the workers' counts
    assert len(rec.reports) <= (rec.times[-1] - start) / interval + 2


# ---- cancellation ---------------------------------------------------------------------------------

def test_cancelling_at_the_first_report_stops_long_before_the_end():
    f = signals(1, 8192)
    keep = f.copy()
    steps = 2_000_000  # hours of work if the cancellation were ignored
    rec = Recorder(cancel_at=1)
    with pytest.raises(pdb.CancelledError) as err:
        pdb.explicit(f, K, G, 0.2, steps, progress=every(rec))
    done, total = cancelled_after(err.value)
    assert total == steps
    assert done == rec.reports[0][0]  # one row: it stops at the step after the report
    assert done * 10_000 < steps
    assert len(rec.reports) == 1
    np.testing.assert_array_equal(f, keep)
    assert err.value.status == -8 and isinstance(err.value, pdb.PDEBlocksError)


@pytest.mark.parametrize("scheme", ["explicit", "fsi", "fed", "implicit"])
def test_every_worker_of_a_batch_stops(scheme):
    f = signals(16, 4096)
    keep = f.copy()
    rec = Recorder(cancel_at=1)
    with pytest.raises(pdb.CancelledError) as err:
        if scheme == "explicit":
            pdb.explicit(f, K, G, 0.2, 100_000, progress=every(rec))
        elif scheme == "fsi":
            pdb.fsi(f, K, G, 0.2, 50, 2_000, progress=every(rec))
        elif scheme == "fed":
            pdb.fed(f, K, G, 0.2, 50, 2_000, progress=every(rec))
        else:
            pdb.implicit(f, K, G, 0.05, 100_000, 3, progress=every(rec))
    done, total = cancelled_after(err.value)
    assert done * 1000 < total
    np.testing.assert_array_equal(f, keep)


def test_a_cancelled_solve_and_forward_pass_return_nothing_and_forget_the_pass():
    A = pdb.poisson_1d(1023)
    with pytest.raises(pdb.CancelledError):
        pdb.cg(A, np.ones(A.n), tol=1e-15, maxiter=5000, progress=every(Recorder(cancel_at=1)))
    net = pdb.Network([pdb.DiffusionBlock([K], [G], 0.2) for _ in range(3)])
    x = signals(4, 32)
    net.forward(x)
    with pytest.raises(pdb.CancelledError):
        net.forward(x, progress=pdb.Progress(lambda d, t, v: True, interval=math.inf))
    with pytest.raises(pdb.PDEBlocksError, match="no recorded forward pass"):
        net.backward(x)
    # a cancelled backward pass keeps the recorded forward pass
    net.forward(x)
    with pytest.raises(pdb.CancelledError):
        net.backward(x, progress=pdb.Progress(lambda d, t, v: True, interval=math.inf))
    gin, gp = net.backward(x)
    assert gin.shape == x.shape and np.isfinite(gp).all()


def test_a_truthy_final_report_cancels_too():
    with pytest.raises(pdb.CancelledError):
        pdb.explicit(signals(1, 50), K, G, 0.2, 10, progress=pdb.Progress(lambda d, t, v: d == t, interval=math.inf))


# ---- exceptions inside the callback -----------------------------------------------------------------

class Boom(Exception):
    pass


def test_an_exception_in_the_callback_surfaces_as_itself_and_stops_the_run():
    seen = []

    def callback(done, total, value):
        seen.append(done)
        raise Boom(f"at {done}")

    f = signals(1, 8192)
    with pytest.raises(Boom, match="at "):
        pdb.explicit(f, K, G, 0.2, 1_000_000, progress=every(callback))
    assert len(seen) == 1
    # the handler is gone: a later call without progress= makes no reports
    pdb.explicit(f, K, G, 0.2, 100)
    assert len(seen) == 1


def test_an_exception_raised_on_a_worker_thread_surfaces_on_the_calling_thread():
    def callback(done, total, value):
        raise Boom(threading.current_thread().name)

    with pytest.raises(Boom):
        pdb.explicit(signals(16, 4096), K, G, 0.2, 10_000, progress=every(callback))


def test_keyboard_interrupt_in_the_callback_stops_a_long_run():
    def callback(done, total, value):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        pdb.explicit(signals(1, 8192), K, G, 0.2, 1_000_000, progress=every(callback))


# ---- thread-locality --------------------------------------------------------------------------------------

def test_a_handler_is_used_only_by_calls_on_its_own_thread():
    """Thread A runs with a callback while thread B makes calls of a different total without
    one; every report A's callback receives has A's total."""
    rec = Recorder()
    stop = threading.Event()
    errors = []

    def other():
        try:
            g = signals(1, 4000, seed=2)
            while not stop.is_set():
                pdb.explicit(g, K, G, 0.2, 37)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    t = threading.Thread(target=other)
    t.start()
    try:
        for _ in range(5):
            pdb.explicit(signals(2, 20000), K, G, 0.2, 100, progress=every(rec))
    finally:
        stop.set()
        t.join()
    assert not errors
    assert {total for _, total, _ in rec.reports} == {200}


# ---- arguments and tqdm ----------------------------------------------------------------------------------

def test_bad_progress_arguments_are_refused_before_running():
    f = signals(1, 10)
    keep = f.copy()
    with pytest.raises(pdb.PDEBlocksError, match="progress must be"):
        pdb.explicit(f, K, G, 0.2, 5, progress="yes")
    with pytest.raises(pdb.PDEBlocksError, match="interval"):
        pdb.Progress(print, interval=-1)
    with pytest.raises(pdb.PDEBlocksError, match="interval"):
        pdb.Progress(print, interval=float("nan"))
    with pytest.raises(pdb.PDEBlocksError, match="callable"):
        pdb.Progress(42)
    np.testing.assert_array_equal(f, keep)


def test_progress_false_and_none_make_no_reports():
    f = signals(1, 100)
    np.testing.assert_array_equal(pdb.explicit(f, K, G, 0.2, 5, progress=False), pdb.explicit(f, K, G, 0.2, 5))


def test_progress_true_without_tqdm_runs_without_a_bar(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    f = signals(2, 100)
    np.testing.assert_array_equal(pdb.explicit(f, K, G, 0.2, 30, progress=True), pdb.explicit(f, K, G, 0.2, 30))
    assert capsys.readouterr().err == ""


def test_progress_true_shows_a_completed_tqdm_bar(capsys):
    pytest.importorskip("tqdm")
    f = signals(2, 100)
    u = pdb.explicit(f, K, G, 0.2, 30, progress=True)
    np.testing.assert_array_equal(u, pdb.explicit(f, K, G, 0.2, 30))
    err = capsys.readouterr().err
    assert "explicit" in err and "60/60" in err and "100%" in err
    A = pdb.poisson_1d(255)
    x, info = pdb.Multigrid(A).solve(np.ones(A.n), tol=1e-8, progress=pdb.Progress(interval=0))
    err = capsys.readouterr().err
    assert f"{info['cycles']}/{info['cycles']}" in err and "residual=" in err


# ---- the C interface ---------------------------------------------------------------------------------------

def test_c_program_uses_the_handler_with_user_data_cancels_and_is_thread_local(tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    libdir = Path(lib._name).parent
    exe = tmp_path / "progress"
    subprocess.run([cc, "-std=c11", "-Wall", "-Wextra", "-Werror", f"-I{ROOT / 'include'}",
                    str(ROOT / "Tests/native/progress.c"), f"-L{libdir}", "-lpdeblocks", f"-Wl,-rpath,{libdir}",
                    "-lm", "-pthread", "-o", str(exe)], check=True)
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    checks = [line for line in run.stdout.splitlines() if line.startswith("ok ")]
    assert len(checks) == 20, run.stdout

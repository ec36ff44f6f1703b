"""The progress callback is consulted on a pace set by work, and nested calls run without it.

With ``interval=0`` the library consults the callback at every hand-over of a worker's
counts, which happens once per ``SAMPLES = 32768`` samples of work (``ProgressTicker``).
So a call that does ``W`` samples of work on one row consults it at least
``W // (2 * SAMPLES)`` times, whatever its units (steps, sweeps, blocks) cost: checked
here with a lower bound of ``W`` counted from the arguments (sweeps·n, filters·taps·n,
cycles·n). A cancel is then honoured after a bounded amount of work, also for an
implicit step of 10^6 sweeps (run in a subprocess with a timeout).

And a library call made inside the callback does not inherit the handler: it neither
re-enters the callback nor is cancelled by it (from Python; the C side is checked by
``Tests/native/fuzz_abi.c``, ``fuzz_memory_hostile``).
"""
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import pdeblocks as pdb

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = 1 << 15
K = pdb.DifferenceOperator([0, 1])
LIN = pdb.Diffusivity("linear", 1.0)


class Counter:
    def __init__(self):
        self.reports = []

    def __call__(self, done, total, value):
        self.reports.append((done, total))
        return False


def consultations(run):
    c = Counter()
    run(pdb.Progress(c, interval=0))
    return len(c.reports)


def _signal(n, batch=1):
    return np.sin(np.arange(batch * n) * 0.37).reshape(batch, n) if batch > 1 else np.sin(np.arange(n) * 0.37)


# name: (call with progress p, lower bound of the samples of work on one row)
RUNS = {
    # 40 steps of 5000 sweeps on n = 8: one step is 40 000 samples, more than a hand-over
    "implicit with many sweeps": (
        lambda p: pdb.implicit(_signal(8), K, LIN, 0.2, 40, 5000, tol=0, progress=p), 40 * 5000 * 8),
    "explicit": (lambda p: pdb.explicit(_signal(64), K, LIN, 0.2, 20_000, progress=p), 20_000 * 64),
    "fsi": (lambda p: pdb.fsi(_signal(64), K, LIN, 0.2, 2000, 5, progress=p), 2000 * 5 * 64),
    "fed": (lambda p: pdb.fed(_signal(64), K, LIN, 0.2, 2000, 5, progress=p), 2000 * 5 * 64),
    # 8 blocks of 64 filters of 3 taps on n = 64: a block is 64·(2·3+1)·64 = 28 672 samples
    "Network.predict with many filters": (
        lambda p: pdb.Network([pdb.DiffusionBlock([pdb.Stencil([1.0, -2.0, 1.0], -1)] * 64, "linear", 1e-3)] * 8)
        .predict(_signal(64), progress=p), 8 * 64 * 7 * 64),
    # a block is one unit that is not split: 2 blocks of 2000 sweeps give (at least) one
    # consultation per block, i.e. a work bound of one hand-over per block
    "Network.forward with implicit blocks": (
        lambda p: pdb.Network([pdb.ImplicitBlock(pdb.DiffusionBlock([K] * 4, "linear", 0.01), 2000)] * 2)
        .forward(_signal(32), progress=p), 2 * 2 * SAMPLES),
    # every semi-implicit step solves with at least one cycle of 64·n samples (n = 64)
    "semi_implicit multigrid": (
        lambda p: pdb.semi_implicit(_signal(64), K, LIN, 2.0, 300, solver="multigrid", tol=1e-10, progress=p),
        300 * 64 * 64),
}


@pytest.mark.parametrize("name", sorted(RUNS))
def test_the_callback_is_consulted_at_least_once_per_two_hand_overs_of_work(name):
    run, work = RUNS[name]
    count = consultations(run)
    assert count >= work // (2 * SAMPLES), (count, work)


def test_network_backward_consults_the_callback_per_work_too():
    net = pdb.Network([pdb.DiffusionBlock([pdb.Stencil([1.0, -2.0, 1.0], -1)] * 64, "linear", 1e-3)] * 8)
    x = _signal(64)
    net.forward(x)
    c = Counter()
    net.backward(x, progress=pdb.Progress(c, interval=0))
    assert len(c.reports) >= 8 * 64 * 7 * 64 // (2 * SAMPLES)


def test_an_implicit_step_of_a_million_sweeps_is_cancelled_at_the_first_report():
    # 1000 steps of 10^6 sweeps on n = 8 are hours of work; the first consultation comes
    # after ~4096 sweeps and cancels. Run in a subprocess: a library that ignores the
    # cancel within a step would hang here, not in pytest.
    script = textwrap.dedent("""
        import numpy as np, pdeblocks as pdb, re
        calls = []
        def cancel(done, total, value):
            calls.append(done)
            return True
        f = np.sin(np.arange(8) * 0.3)
        try:
            pdb.implicit(f, pdb.DifferenceOperator([0, 1]), pdb.Diffusivity("linear", 1.0), 0.2, 1000, 10**6,
                         tol=0, progress=pdb.Progress(cancel, interval=0))
        except pdb.CancelledError as e:
            done = int(re.search(r"after (\\d+) of", str(e)).group(1))
            print("CANCELLED", len(calls), done)
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                         env={**__import__("os").environ, "PYTHONPATH": str(ROOT / "python")})
    assert run.returncode == 0, run.stderr[-2000:]
    words = run.stdout.split()
    assert words[0] == "CANCELLED", run.stdout
    calls, done = int(words[1]), int(words[2])
    assert calls == 1  # one consultation, which cancelled
    assert done == 0   # within the first step (of 10^6 sweeps)


# ---- nested calls ---------------------------------------------------------------------------

def test_a_call_inside_the_callback_runs_without_the_outer_handler_and_is_not_cancelled_by_it():
    f = _signal(4096)
    inner_f = _signal(200)
    expected_inner = pdb.explicit(inner_f, K, LIN, 0.2, 5000)
    seen, inner_results, depth = [], [], [0]

    def outer(done, total, value):
        depth[0] += 1
        try:
            seen.append((depth[0], total))
            if depth[0] == 1 and not inner_results:
                # would re-enter this callback with its own total (5000), and be cancelled
                # by the True returned below, if it inherited the handler
                inner_results.append(pdb.explicit(inner_f, K, LIN, 0.2, 5000))
            return True
        finally:
            depth[0] -= 1

    with pytest.raises(pdb.CancelledError):
        pdb.implicit(f, K, LIN, 0.2, 10_000, 200, tol=0, progress=pdb.Progress(outer, interval=0))
    assert seen and all(d == 1 and t == 10_000 for d, t in seen), seen
    assert len(inner_results) == 1
    np.testing.assert_array_equal(inner_results[0], expected_inner)


def test_the_outer_handler_is_back_after_the_callback_and_a_nested_progress_reports_to_its_own():
    f = _signal(1024)
    outer_totals, inner_totals = [], []

    def inner(done, total, value):
        inner_totals.append(total)

    def outer(done, total, value):
        outer_totals.append(total)
        if len(outer_totals) == 1:
            pdb.explicit(_signal(100), K, LIN, 0.2, 77, progress=pdb.Progress(inner, interval=0))
        return False

    pdb.explicit(f, K, LIN, 0.2, 3000, progress=pdb.Progress(outer, interval=0))
    assert inner_totals and set(inner_totals) == {77}
    assert len(outer_totals) >= 2 and set(outer_totals) == {3000}  # reports after the nested call came back
    assert outer_totals[-1] == 3000

"""Threads: results are bitwise identical for every thread count, batches and long signals."""
import numpy as np
import pytest

import pdeblocks as pdb


@pytest.fixture
def restore_threads():
    yield
    pdb.set_num_threads(0)


def run_all(f, K, g, tau):
    return [
        pdb.explicit(f, K, g, tau, 6),
        pdb.fsi(f, K, g, tau, 5, 2),
        pdb.fed(f, K, g, tau, 5, 2),
        pdb.implicit(f, K, g, 0.4 * tau, 3, 4),
    ]


@pytest.mark.parametrize("shape", [(16, 4096), (1, 1 << 19)])
def test_results_do_not_depend_on_the_thread_count(shape, restore_threads):
    rng = np.random.default_rng(3)
    f = np.cumsum(rng.standard_normal(shape), axis=1) / 50
    K = pdb.DifferenceOperator([0, 1])
    g = pdb.Diffusivity("perona_malik", 0.05)
    tau = pdb.stable_tau(K, g, shape[1])
    pdb.set_num_threads(1)
    one = run_all(f, K, g, tau)
    for t in (2, 3, 8):
        pdb.set_num_threads(t)
        assert pdb.get_num_threads() == t
        for a, b in zip(one, run_all(f, K, g, tau)):
            np.testing.assert_array_equal(a, b)
    # and the batch equals its rows computed one at a time
    if shape[0] > 1:
        np.testing.assert_array_equal(one[0][5], pdb.explicit(f[5], K, g, tau, 6))


def test_default_and_bad_thread_counts(restore_threads):
    pdb.set_num_threads(0)
    assert pdb.get_num_threads() >= 1
    with pytest.raises(pdb.PDEBlocksError, match="threads"):
        pdb.set_num_threads(-1)


def test_eight_python_threads_at_once_match_serial_calls():
    """The GIL is released during calls (ctypes.CDLL) and the library is reentrant:
    8 threads calling different entry points concurrently get the serial results."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(11)
    K = pdb.DifferenceOperator([0, 0, 1])
    jobs = []
    for i in range(32):
        f = rng.standard_normal((3, 700))
        g = pdb.Diffusivity(pdb.DIFFUSIVITIES[i % len(pdb.DIFFUSIVITIES)], 0.3 + 0.1 * i)
        tau = pdb.stable_tau(K, g, 700)
        kind = i % 4
        if kind == 0:
            jobs.append(lambda f=f, g=g, tau=tau: pdb.explicit(f, K, g, tau, 40))
        elif kind == 1:
            jobs.append(lambda f=f, g=g, tau=tau: pdb.fsi(f, K, g, tau, 6, 3))
        elif kind == 2:
            jobs.append(lambda f=f, g=g, tau=tau: pdb.implicit(f, K, g, 0.2 * tau, 5, 6))
        else:
            jobs.append(lambda f=f: K.adjoint(K.apply(f)))
    serial = [job() for job in jobs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(3):
            parallel = list(pool.map(lambda job: job(), jobs))
            for a, b in zip(serial, parallel):
                np.testing.assert_array_equal(a, b)
    # errors raised concurrently carry their own thread's message
    def failing(i):
        try:
            pdb.explicit(np.ones(10), K, pdb.Diffusivity("linear"), 10.0 + i, 1)
        except pdb.UnstableError as e:
            return str(e)
    messages = list(ThreadPoolExecutor(max_workers=8).map(failing, range(16)))
    for i, m in enumerate(messages):
        assert f"tau = {10.0 + i}" in m


def test_a_forked_child_gets_the_same_results_after_the_parent_used_the_worker_threads(restore_threads):
    # fork() copies the worker pool's state but not its threads; with workers waiting on a
    # condition variable in the parent, signalling it in the child blocked forever (found by
    # running this after the test above). The child now starts the pool over (pthread_atfork).
    import os
    pdb.set_num_threads(2)
    n = 1 << 18
    f = np.cumsum(np.random.default_rng(0).standard_normal(n)) / 100
    K = pdb.DifferenceOperator([0, 1])
    g = pdb.Diffusivity("perona_malik", 0.5)
    tau = pdb.stable_tau(K, g, n)
    parent = (pdb.explicit(f, K, g, tau, 10), pdb.fsi(f, K, g, tau, 4, 2))
    pid = os.fork()
    if pid == 0:
        child = (pdb.explicit(f, K, g, tau, 10), pdb.fsi(f, K, g, tau, 4, 2))
        os._exit(0 if all(np.array_equal(a, b) for a, b in zip(parent, child)) else 3)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0

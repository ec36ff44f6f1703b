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

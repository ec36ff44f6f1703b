"""Explicit scheme (eq. 4) as a chain of diffusion blocks, and its stability bound (Theorem 2)."""
import numpy as np
import pytest

import pdeblocks as pdb
from conftest import dense_stencil, explicit_reference, noisy_step, DIFFUSIVITY_NAMES

OPERATORS = {"dx": ([0, 1], 1.0), "dxx": ([0, 0, 1], 1.0)}


@pytest.mark.parametrize("name", DIFFUSIVITY_NAMES)
@pytest.mark.parametrize("op", ["dx", "dxx", "mixed"])
def test_explicit_matches_dense_transcription_of_eq4(name, op, rng):
    n, lam, steps = 64, 0.3, 40
    alphas = {"dx": [0, 1], "dxx": [0, 0, 1], "mixed": [0.1, 1.0, 0.5]}[op]
    K = pdb.DifferenceOperator(alphas)
    g = pdb.Diffusivity(name, lam)
    tau = 0.9 * pdb.stable_tau(K, g, n)
    D = dense_stencil(K.weights, K.offset, n)
    f = rng.standard_normal((3, n))
    got = pdb.explicit(f, K, g, tau, steps)
    for b in range(3):
        want = explicit_reference(f[b], D, name, lam, tau, steps)
        np.testing.assert_allclose(got[b], want, rtol=0, atol=1e-12 * max(1, np.abs(want).max()))
    # single signal = row of the batch
    np.testing.assert_array_equal(pdb.explicit(f[1], K, g, tau, steps), got[1])


def test_history_records_every_kth_state(rng):
    K, g, n = pdb.DifferenceOperator([0, 1]), pdb.Diffusivity("perona_malik", 0.2), 50
    f = rng.standard_normal(n)
    tau = pdb.stable_tau(K, g, n)
    u, hist = pdb.explicit(f, K, g, tau, 25, record_every=10)
    assert hist.shape == (3, n)
    np.testing.assert_array_equal(hist[0], f)
    np.testing.assert_array_equal(hist[1], pdb.explicit(f, K, g, tau, 10))
    np.testing.assert_array_equal(hist[2], pdb.explicit(f, K, g, tau, 20))
    np.testing.assert_array_equal(u, pdb.explicit(f, K, g, tau, 25))
    fb = rng.standard_normal((2, n))
    _, hb = pdb.explicit(fb, K, g, tau, 4, record_every=2)
    assert hb.shape == (3, 2, n)
    np.testing.assert_array_equal(hb[2, 1], pdb.explicit(fb[1], K, g, tau, 4))


@pytest.mark.parametrize("name", DIFFUSIVITY_NAMES)
@pytest.mark.parametrize("op", ["dx", "dxx"])
def test_theorem2_norm_never_increases_at_the_bound(name, op, rng):
    n = 128
    K = pdb.DifferenceOperator(OPERATORS[op][0])
    g = pdb.Diffusivity(name, 0.1)
    tau = pdb.stable_tau(K, g, n)  # exactly at the (certified) bound
    step = np.repeat([0.0, 1.0, -0.5, 2.0], n // 4)
    signals = np.vstack([rng.standard_normal((3, n)), step, step + 0.05 * rng.standard_normal(n)])
    _, hist = pdb.explicit(signals, K, g, tau, 1000, record_every=1)
    norms = np.linalg.norm(hist, axis=2)  # (1001, batch)
    assert np.all(norms[1:] <= norms[:-1] * (1 + 1e-12))


@pytest.mark.parametrize("op", ["dx", "dxx"])
def test_above_the_bound_is_refused_and_can_blow_up_with_the_opt_out(op, rng):
    n = 128
    K = pdb.DifferenceOperator(OPERATORS[op][0])
    g = pdb.Diffusivity("linear")
    bound = pdb.stable_tau(K, g, n)
    f = rng.standard_normal(n)
    with pytest.raises(pdb.UnstableError, match=f"stability bound {bound!r}"):
        pdb.explicit(f, K, g, 1.5 * bound, 10)
    u = pdb.explicit(f, K, g, 1.5 * bound, 200, check_stability=False)
    assert np.linalg.norm(u) > 1e6 * np.linalg.norm(f)


def test_lipschitz_bound_is_the_papers_and_never_larger_than_sup_g_bound():
    K, n = pdb.DifferenceOperator([0, 1]), 100
    for name in DIFFUSIVITY_NAMES:
        g = pdb.Diffusivity(name, 0.5)
        a, b = pdb.stable_tau(K, g, n), pdb.stable_tau(K, g, n, bound="lipschitz")
        assert b <= a
        np.testing.assert_allclose(b, 2 / (g.lipschitz * K.norm_squared(n)), rtol=1e-15)
        np.testing.assert_allclose(a, 2 / (g.sup_g * K.norm_squared(n)), rtol=1e-15)


def test_perona_malik_keeps_an_edge_that_linear_diffusion_blurs():
    n = 200
    clean, f = noisy_step(n, sigma=0.02, jumps=(0.5,), levels=(0.0, 1.0))
    K = pdb.DifferenceOperator([0, 1])
    steps = 400
    edge = lambda u: u[n // 2 + 3] - u[n // 2 - 4]  # jump height across the edge
    lin = pdb.explicit(f, K, "linear", pdb.stable_tau(K, "linear", n), steps)
    pm_g = pdb.Diffusivity("perona_malik", 0.1)
    pm = pdb.explicit(f, K, pm_g, pdb.stable_tau(K, pm_g, n), steps)
    assert edge(pm) > 0.9      # edge kept: jump of ~1 survives
    assert edge(lin) < 0.6     # linear diffusion smears it over many samples
    # and Perona-Malik still removes the noise away from the edge
    assert np.std(pm[20:80]) < 0.5 * np.std(f[20:80])


# ---- bad input: a clear error, nothing written, inputs unmodified ----

def _setup():
    return pdb.DifferenceOperator([0, 1]), pdb.Diffusivity("perona_malik", 0.5)


@pytest.mark.parametrize("f,match", [
    (np.zeros(0), "signal length n must be at least 2|positive"),
    (np.zeros(1), "at least 2"),
    (np.zeros((0, 10)), "batch must be positive"),
    (np.array([0.0, np.nan, 1.0]), "non-finite"),
    (np.array([0.0, np.inf, 1.0]), "non-finite"),
])
def test_bad_signals_are_refused(f, match):
    K, g = _setup()
    keep = f.copy()
    with pytest.raises(pdb.PDEBlocksError, match=match):
        pdb.explicit(f, K, g, 0.1, 3)
    np.testing.assert_array_equal(f, keep)


@pytest.mark.parametrize("tau", [0.0, -0.1, np.nan, np.inf])
def test_bad_step_sizes_are_refused(tau):
    K, g = _setup()
    with pytest.raises(pdb.PDEBlocksError, match="tau"):
        pdb.explicit(np.ones(10), K, g, tau, 3)


def test_other_bad_arguments_are_refused():
    K, g = _setup()
    f = np.linspace(0, 1, 10)
    with pytest.raises(pdb.PDEBlocksError, match="steps"):
        pdb.explicit(f, K, g, 0.1, -1)
    with pytest.raises(pdb.PDEBlocksError, match="record_every"):
        pdb.explicit(f, K, g, 0.1, 3, record_every=-2)
    with pytest.raises(pdb.PDEBlocksError, match="unknown diffusivity"):
        pdb.explicit(f, K, "nope", 0.1, 3)
    with pytest.raises(pdb.PDEBlocksError, match="Stencil"):
        pdb.explicit(f, [1, -1], g, 0.1, 3)
    with pytest.raises(pdb.PDEBlocksError, match="bound"):
        pdb.stable_tau(K, g, 10, bound="nope")
    with pytest.raises(pdb.PDEBlocksError, match="at least 2"):
        pdb.stable_tau(K, g, 1)
    with pytest.raises(pdb.PDEBlocksError, match="dtype"):
        pdb.explicit(np.array(["a", "b"]), K, g, 0.1, 3)
    assert pdb.PDEBlocksError.__mro__[1] is ValueError


def test_zero_steps_returns_a_copy_and_integer_input_is_converted():
    K, g = _setup()
    f = np.arange(10)
    u = pdb.explicit(f, K, g, 0.1, 0)
    assert u.dtype == np.float64 and u is not f
    np.testing.assert_array_equal(u, f)


def test_huge_or_non_integer_counts_are_clear_errors_not_wraparound():
    K, g = _setup()
    f = np.linspace(0, 1, 10)
    with pytest.raises(pdb.PDEBlocksError, match="out of range"):
        pdb.explicit(f, K, g, 0.1, 2**70)
    with pytest.raises(pdb.PDEBlocksError, match="history would hold"):
        pdb.explicit(f, K, g, 0.1, 10**15, record_every=1)
    with pytest.raises(pdb.PDEBlocksError, match="integer"):
        pdb.explicit(f, K, g, 0.1, 2.5)


@pytest.mark.parametrize("name", DIFFUSIVITY_NAMES)
@pytest.mark.parametrize("weights, offset, n", [
    ([0.3, -1.2, 2.0, 0.1, -0.7, 0.5], -4, 1 << 17),  # general taps, whole tiles
    ([-1.0, 1.0], 0, (1 << 17) + 3),                    # two taps, a 3-column last tile
    ([1.0, -2.0, 1.0], -1, (1 << 17) + 8192 + 40),      # three taps, last tile inside the halo
    ([0.5, -1.5, 1.0, 0.25], 3, (1 << 17) + 8191),      # a positive offset (cuts corrupt q-1+o columns)
    ([-1.0, 1.0], -3, (1 << 17) + 5),                    # |offset| > q - 1
])
def test_temporal_blocking_of_long_signals_equals_the_step_by_step_evolution(name, weights, offset, n):
    # N >= 2^17 without recording takes the temporally blocked path (several steps per sweep
    # over memory; tiles away from the ends skip the boundary code); recording every state
    # forces the step-by-step path. 21 steps = two full sweeps of 8 and a partial one; 2 steps
    # = one short sweep.
    f = np.cumsum(np.random.default_rng(5).standard_normal(n)) / 300
    K = pdb.Stencil(weights, offset)
    g = pdb.Diffusivity(name, 0.5)
    tau = 0.9 * pdb.stable_tau(K, g, n)
    for steps in (2, 21):
        blocked = pdb.explicit(f, K, g, tau, steps)
        stepwise = pdb.explicit(f, K, g, tau, steps, record_every=steps)[0]
        assert np.abs(blocked - stepwise).max() <= 1e-14 * np.abs(stepwise).max()


def test_a_batch_of_long_signals_evolves_each_row_as_alone_and_as_step_by_step():
    # Rows of a batch take the in-place blocked path one per worker (no work buffers).
    n = (1 << 17) + 1000
    F = np.cumsum(np.random.default_rng(8).standard_normal((3, n)), axis=1) / 300
    K = pdb.DifferenceOperator([0, 1])
    g = pdb.Diffusivity("perona_malik", 0.5)
    tau = pdb.stable_tau(K, g, n)
    batch = pdb.explicit(F, K, g, tau, 17)
    for b in range(3):
        np.testing.assert_array_equal(batch[b], pdb.explicit(F[b], K, g, tau, 17))
    stepwise = pdb.explicit(F, K, g, tau, 17, record_every=17)[0]
    assert np.abs(batch - stepwise).max() <= 1e-14 * np.abs(stepwise).max()

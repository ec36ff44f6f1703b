"""Schemes on finite input never return NaN/inf silently (issue 12, item 9 and its clearer errors).

A result beyond double precision is an error naming the scheme, the position and the cause;
a finite answer that exists is computed; a tau or T too large for double precision is named.
"""
import numpy as np
import pytest

import pdeblocks as pb
from pdeblocks import PDEBlocksError

K = pb.DifferenceOperator([0, 1])
ZERO = pb.Stencil([0.0], 0)          # the zero operator: every scheme leaves f unchanged
F = np.ones(64) + np.arange(64) % 2


def test_explicit_overflow_is_an_error_naming_scheme_position_and_cause():
    f = np.array([1e308, -1e308] * 32)
    with pytest.raises(PDEBlocksError, match=r"explicit scheme.*row 0, column \d+.*overflow") as e:
        pb.explicit(f, K, "linear", 0.2, 3)
    assert e.value.status == -3      # PDB_ERR_NONFINITE


def test_explicit_with_unchecked_unstable_tau_names_the_bound_not_nan():
    with pytest.raises(PDEBlocksError, match="above the stability bound"):
        pb.explicit(F, K, "linear", 3.0, 400, check_stability=False)


def test_ordinary_results_are_unchanged_by_the_check():
    # the checked path (unchecked tau) and the direct path agree bit for bit where finite
    tau = 0.9 * pb.stable_tau(K, "perona_malik", 64)
    f = np.random.default_rng(2).standard_normal((3, 64))
    np.testing.assert_array_equal(pb.explicit(f, K, "perona_malik", tau, 20),
                                  pb.explicit(f, K, "perona_malik", tau, 20, check_stability=False))


@pytest.mark.parametrize("scheme", ["fsi", "fed"])
def test_huge_step_on_zero_operator_is_exact_or_names_tau(scheme):
    if scheme == "fsi":
        np.testing.assert_array_equal(pb.fsi(F, ZERO, "linear", 1e308, 3, 1), F)
    else:
        with pytest.raises(PDEBlocksError, match="tau_max = 1e\\+308 is too large for double precision"):
            pb.fed(F, ZERO, "linear", 1e308, 3, 1)


def test_implicit_with_contraction_check_off_does_not_return_nan_as_converged():
    with pytest.raises(PDEBlocksError, match="implicit scheme.*contraction bound"):
        pb.implicit(F, K, "linear", 100.0, 40, 40, check_contraction=False, return_info=True)


@pytest.mark.parametrize("scheme", ["fsi", "fed"])
def test_evolve_with_huge_T_names_T(scheme):
    with pytest.raises(PDEBlocksError, match=r"stopping time T = 1\.79e\+308 is too large"):
        pb.evolve(F, ZERO, "linear", 1.79e308, scheme=scheme)
    u, info = pb.evolve(F, ZERO, "linear", 1e308, scheme=scheme)   # representable: computed
    np.testing.assert_array_equal(u, F)
    assert info["time"] == pytest.approx(1e308, rel=1e-12)


@pytest.mark.parametrize("tau", [1e15, 1e16])
def test_semi_implicit_tau_too_large_for_double_precision_is_named(tau):
    rng = np.random.default_rng(0)
    f = np.repeat([0.0, 1.0], 32) + 0.1 * rng.standard_normal(64)
    with pytest.raises(PDEBlocksError, match=r"semi-implicit scheme: tau = \S+ is too large for double precision") as e:
        pb.semi_implicit(f, K, pb.Diffusivity("perona_malik", 0.1), tau, 5)
    assert float(str(e.value).split("tau = ")[1].split()[0]) == tau


def test_semi_implicit_conserves_the_mean_where_it_runs():
    rng = np.random.default_rng(0)
    f = np.repeat([0.0, 1.0], 32) + 0.1 * rng.standard_normal(64)
    for tau in [1e2, 1e6]:
        u = pb.semi_implicit(f, K, pb.Diffusivity("perona_malik", 0.1), tau, 5)
        assert abs(u.mean() - f.mean()) <= 1.5e-8 * np.abs(f).max()


def test_nan_in_a_batch_is_named_by_row_and_column():
    f = np.ones((5, 40))
    f[3, 17] = np.nan
    with pytest.raises(PDEBlocksError, match=r"f contains a non-finite value \(nan\) at row 3, column 17"):
        pb.explicit(f, K, "linear", 0.2, 3)


@pytest.mark.parametrize("batch_chunk", [1, 3])
def test_dask_names_the_global_row_of_a_nan(batch_chunk):
    pytest.importorskip("dask")
    from pdeblocks.dask import map_signals
    x = np.ones((10, 40))
    x[7, 17] = np.nan
    with pytest.raises(PDEBlocksError, match=r"at row 7, column 17"):
        map_signals(pb.explicit, x, K, "linear", 0.2, 3, batch_chunk=batch_chunk).compute(scheduler="synchronous")


@pytest.mark.parametrize("inference", [False, True])
def test_a_residual_relu_network_on_huge_finite_input_is_an_error_not_inf(inference):
    # out = x + W2 relu(W1 x): with W1 = [2], W2 = [1] and x = ±1e308 the sum overflows to ±inf.
    # Finite input, non-finite output: the library must raise naming the position, out unchanged.
    net = pb.Network([pb.ResidualBlock([pb.Stencil([2.0])], [pb.Stencil([1.0])])])
    x = np.tile([1e308, -1e308], (2, 16))
    with pytest.raises(PDEBlocksError, match=r"not finite .* row 0, column 0") as info:
        net.predict(x) if inference else net.forward(x)
    assert info.value.status == -3
    # The same network on ordinary input is still exact (checked against the formula).
    y = np.tile([1.0, -1.0], (2, 16))
    expected = y + np.maximum(2 * y, 0)
    np.testing.assert_array_equal(net.predict(y) if inference else net.forward(y), expected)


@pytest.mark.parametrize("name", ["perona_malik", "perona_malik_rational", "charbonnier", "weickert"])
def test_backward_through_a_finite_forward_with_overflowing_flux_argument_is_finite(name):
    # (K x)² / λ² overflows to ∞ for K x ~ 2e200: the forward pass is finite (Φ → its limit), so
    # the gradients must be too (they were NaN: exp(−∞)·(1 − ∞), −∞/∞).
    K = pb.Stencil([-1.0, 1.0])
    net = pb.Network([pb.DiffusionBlock([K], [pb.Diffusivity(name, 1.0)], 0.1)])
    x = np.tile([1e200, -1e200], (2, 8))
    w = np.random.default_rng(5).standard_normal(x.shape)
    y = net.forward(x)
    gi, gp = net.backward(w)
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(gi)) and np.all(np.isfinite(gp))
    if name == "perona_malik":
        # Φ and Φ′ vanish there: the block is the identity, its gradients exact
        np.testing.assert_array_equal(y, x)
        np.testing.assert_array_equal(gi, w)
        np.testing.assert_array_equal(gp, np.zeros_like(gp))

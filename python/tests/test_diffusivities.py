"""Diffusivities g(s^2), fluxes Phi(s) = g(s^2) s, Phi', sup g and Lipschitz constants."""
import numpy as np
import pytest

import pdeblocks as pdb
from conftest import g_reference, DIFFUSIVITY_NAMES


@pytest.mark.parametrize("name", DIFFUSIVITY_NAMES)
@pytest.mark.parametrize("lam", [0.05, 0.7, 3.0])
def test_g_and_flux_match_the_formulas(name, lam):
    s = np.linspace(-10 * lam, 10 * lam, 2001)
    g = pdb.Diffusivity(name, lam)
    np.testing.assert_allclose(g.g(s * s), g_reference(name, s * s, lam), rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(g.flux(s), g_reference(name, s * s, lam) * s, rtol=1e-14, atol=1e-300)


@pytest.mark.parametrize("name", DIFFUSIVITY_NAMES)
def test_flux_derivative_matches_central_differences(name):
    lam = 0.8
    g = pdb.Diffusivity(name, lam)
    s = np.linspace(-5, 5, 1001) + 1e-3  # avoid s = 0 exactly for weickert's flat start
    h = 1e-6
    fd = (g.flux(s + h) - g.flux(s - h)) / (2 * h)
    np.testing.assert_allclose(g.flux_derivative(s), fd, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", DIFFUSIVITY_NAMES)
def test_lipschitz_constant_bounds_every_difference_quotient_and_is_attained(name):
    g = pdb.Diffusivity(name, 1.0)
    h = 2.0**-14  # exact grid s = i h
    s = np.arange(0, 20 * 2**14 + 1) * h
    phi = g.flux(s)
    quotients = np.abs(np.diff(phi)) / h
    # a difference quotient carries a rounding error of at most 2 eps max|Phi| / h
    assert quotients.max() <= g.lipschitz + 2 * np.finfo(float).eps * np.abs(phi).max() / h
    assert quotients.max() >= g.lipschitz * (1 - 1e-6)
    assert g.sup_g == 1.0
    assert g.g(0.0) == 1.0


def test_lipschitz_constants_have_the_expected_values():
    for name in ["linear", "perona_malik", "perona_malik_rational", "charbonnier"]:
        assert abs(pdb.Diffusivity(name).lipschitz - 1) < 1e-9
    assert abs(pdb.Diffusivity("weickert").lipschitz - 2.335) < 1e-3
    # independent of lambda
    assert pdb.Diffusivity("weickert", 0.01).lipschitz == pdb.Diffusivity("weickert", 100).lipschitz


def test_perona_malik_activation_is_antisymmetric_and_nonmonotone():
    g = pdb.Diffusivity("perona_malik", 1.0)
    s = np.linspace(0, 5, 501)
    np.testing.assert_array_equal(g.flux(-s), -g.flux(s))
    d = np.diff(g.flux(s))
    assert (d > 0).any() and (d < 0).any()  # rises, then falls: maximum at s = lambda
    assert abs(s[np.argmax(g.flux(s))] - 1.0) < 0.011


@pytest.mark.parametrize("lam", [0.0, -1.0, np.nan, np.inf])
def test_bad_contrast_parameter_is_refused(lam):
    with pytest.raises(pdb.PDEBlocksError, match="lambda"):
        pdb.Diffusivity("perona_malik", lam)


def test_unknown_name_is_refused_with_the_known_names():
    with pytest.raises(pdb.PDEBlocksError, match="unknown diffusivity 'tukey'.*perona_malik"):
        pdb.Diffusivity("tukey")


def test_negative_s2_and_nan_are_refused():
    g = pdb.Diffusivity("perona_malik")
    with pytest.raises(pdb.PDEBlocksError, match="nonnegative"):
        g.g([1.0, -1.0])
    with pytest.raises(pdb.PDEBlocksError, match="NaN"):
        g.flux([np.nan])


@pytest.mark.parametrize("name", DIFFUSIVITY_NAMES)
def test_flux_curvature_bound_used_by_the_lipschitz_search_holds(name):
    # LipschitzSearch relies on |phi''| <= 21 on [0, 16] (phi = Phi' at lambda = 1).
    g = pdb.Diffusivity(name, 1.0)
    x = np.linspace(0, 16, 1_600_001)
    d = g.flux_derivative(x)
    assert (np.abs(np.diff(d)) / np.diff(x)).max() <= 21


METHODS = ["g", "flux", "flux_derivative"]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("bad", [np.array([1.0 + 2.0j, 0.5]), np.array([0.5, "x"], dtype=object),
                                 np.array([True, False]), 1.0 + 0.0j, True])
def test_complex_object_and_bool_inputs_are_refused_like_every_array_argument(method, bad):
    """README: complex/object arrays are refused; bool is refused too, as by every array
    conversion of the wrapper (as_input accepts integer and float kinds only)."""
    g = pdb.Diffusivity("perona_malik", 0.7)
    with pytest.raises(pdb.PDEBlocksError, match=r"must be a real numeric array, got dtype (complex|object|bool)"):
        getattr(g, method)(bad)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("scalar", [0.3, 2, np.float64(0.3), np.float32(0.25), np.array(0.3), np.int64(3)])
def test_a_scalar_gives_a_python_float_equal_to_the_array_result(method, scalar):
    g = pdb.Diffusivity("perona_malik", 0.7)
    value = getattr(g, method)(scalar)
    assert type(value) is float
    assert value == getattr(g, method)(np.array([float(scalar)]))[0]


@pytest.mark.parametrize("method", METHODS)
def test_arrays_keep_their_shape_and_match_elementwise_calls(method):
    g = pdb.Diffusivity("charbonnier", 0.7)
    x = np.abs(np.random.default_rng(3).normal(size=(3, 4, 5)))[:, ::2]       # non-contiguous, 3-D
    out = getattr(g, method)(x)
    assert out.shape == x.shape and out.dtype == np.float64
    assert np.array_equal(out, np.array([getattr(g, method)(v) for v in x.ravel()]).reshape(x.shape))
    empty = getattr(g, method)(np.zeros((0, 2)))
    assert empty.shape == (0, 2)

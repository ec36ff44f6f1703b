"""Stencils with mirrored boundaries: K, K^T, dense matrix, certified ||K||^2, difference operators."""
import math

import numpy as np
import pytest

import pdeblocks as pdb
from conftest import dense_stencil


def random_stencils(rng, count=40):
    for _ in range(count):
        q = int(rng.integers(1, 8))
        offset = int(rng.integers(-6, 4))
        n = int(rng.integers(1, 20))  # includes N smaller than the stencil
        yield rng.standard_normal(q), offset, n


def test_adjoint_identity_holds_for_random_stencils_offsets_and_lengths(rng):
    for w, o, n in random_stencils(rng, 200):
        K = pdb.Stencil(w, o)
        u, v = rng.standard_normal(n), rng.standard_normal(n)
        lhs, rhs = K.apply(u) @ v, u @ K.adjoint(v)
        knorm = math.sqrt(K.norm_squared(n))
        assert abs(lhs - rhs) <= 1e-12 * np.linalg.norm(u) * np.linalg.norm(v) * max(knorm, 1e-300)


def test_apply_and_adjoint_equal_an_independent_dense_matrix(rng):
    for w, o, n in random_stencils(rng):
        K = pdb.Stencil(w, o)
        D = dense_stencil(w, o, n)
        U = rng.standard_normal((3, n))
        np.testing.assert_allclose(K.apply(U), U @ D.T, rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(K.adjoint(U), U @ D, rtol=1e-13, atol=1e-13)
        np.testing.assert_array_equal(K.matrix(n), D)


def test_long_signals_match_dense_reference_in_interior_and_boundary(rng):
    w, o, n = rng.standard_normal(5), -2, 300
    K = pdb.Stencil(w, o)
    D = dense_stencil(w, o, n)
    u = rng.standard_normal(n)
    np.testing.assert_allclose(K.apply(u), D @ u, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(K.adjoint(u), D.T @ u, rtol=1e-13, atol=1e-13)


def test_norm_squared_is_certified_upper_bound_within_1e6(rng):
    cases = list(random_stencils(rng, 60)) + [([-1.0, 1.0], 0, 1000), ([1.0, -2.0, 1.0], -1, 777)]
    for w, o, n in cases:
        K = pdb.Stencil(w, o)
        true = np.linalg.norm(dense_stencil(w, o, n), 2) ** 2
        got = K.norm_squared(n)
        assert got >= true * (1 - 1e-14), (w, o, n)
        assert got <= true * (1 + 1e-6) + 1e-300, (w, o, n)


def test_forward_difference_norm_matches_closed_form():
    # Mirrored forward difference: K^T K is the Neumann Laplacian, lambda_max = 4 cos^2(pi/(2n)).
    for n in (2, 3, 10, 1000, 100_000):
        K = pdb.DifferenceOperator([0, 1])
        exact = 4 * math.cos(math.pi / (2 * n)) ** 2
        got = K.norm_squared(n)
        assert exact <= got <= exact * (1 + 1e-6)


def test_difference_operator_weights_follow_the_binomial_formula():
    h = 0.5
    for m in range(0, 7):
        alphas = [0.0] * m + [1.0]
        K = pdb.DifferenceOperator(alphas, h)
        expected = [(-1) ** (m - j) * math.comb(m, j) / h**m for j in range(m + 1)]
        np.testing.assert_allclose(K.weights, expected, rtol=1e-15)
        assert K.offset == -(m // 2)


def test_difference_operator_sums_orders_into_one_stencil(rng):
    alphas = [0.5, -1.0, 2.0, 0.0, 0.25]
    K = pdb.DifferenceOperator(alphas, h=0.1)
    n = 40
    total = sum(a * pdb.DifferenceOperator([0.0] * m + [1.0], h=0.1).matrix(n) for m, a in enumerate(alphas) if a)
    np.testing.assert_allclose(K.matrix(n), total, rtol=1e-13, atol=1e-9)


@pytest.mark.parametrize("bad", [[], [np.nan], [1.0, np.inf]])
def test_bad_stencils_are_refused(bad):
    with pytest.raises(pdb.PDEBlocksError):
        pdb.Stencil(bad)


def test_stencil_inputs_are_not_modified_and_mismatched_shapes_refused(rng):
    K = pdb.DifferenceOperator([0, 1])
    u = rng.standard_normal((2, 7))
    keep = u.copy()
    K.apply(u)
    K.adjoint(u)
    np.testing.assert_array_equal(u, keep)
    with pytest.raises(pdb.PDEBlocksError, match="dimensions"):
        K.apply(np.zeros((2, 2, 2)))
    with pytest.raises(pdb.PDEBlocksError, match="non-finite"):
        K.apply(np.array([1.0, np.nan, 2.0]))
    with pytest.raises(pdb.PDEBlocksError):
        K.apply(np.zeros(0))
    with pytest.raises(pdb.PDEBlocksError, match="all alphas are zero"):
        pdb.DifferenceOperator([0, 0])
    with pytest.raises(pdb.PDEBlocksError, match="h must be positive"):
        pdb.DifferenceOperator([0, 1], h=0)


def test_non_contiguous_and_integer_arrays_are_converted(rng):
    K = pdb.Stencil([1.0, -2.0, 1.0], -1)
    big = rng.standard_normal((4, 20))
    view = big[:, ::2]  # non-contiguous
    np.testing.assert_allclose(K.apply(view), K.apply(np.ascontiguousarray(view)))
    ints = np.arange(10)
    np.testing.assert_allclose(K.apply(ints), K.apply(ints.astype(float)))
    with pytest.raises(pdb.PDEBlocksError, match="dtype"):
        K.apply(np.ones(5, dtype=complex))

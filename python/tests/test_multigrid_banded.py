"""Banded matrices, the direct banded solver, and the Poisson / diffusion-system constructors,
checked against dense numpy constructions written here."""
import numpy as np
import pytest
import scipy.sparse as sp

import pdeblocks as pb
from pdeblocks import PDEBlocksError

RNG = np.random.default_rng(20240604)


def mirror(j, n):
    """Half-sample symmetric, 2n-periodic extension index (DESIGN.md)."""
    period = 2 * n
    k = j % period
    return k if k < n else period - 1 - k


def dense_stencil(weights, offset, n):
    """The N x N matrix of a mirrored stencil, from its definition."""
    K = np.zeros((n, n))
    for i in range(n):
        for j, w in enumerate(weights):
            K[i, mirror(i + offset + j, n)] += w
    return K


def random_banded(n, lower, upper, rng=RNG):
    offsets = list(range(-lower, upper + 1))
    diags = [rng.standard_normal(n - abs(k)) for k in offsets]
    return offsets, diags


# ---- construction -----------------------------------------------------------

@pytest.mark.parametrize("n,lower,upper", [(1, 0, 0), (5, 1, 1), (9, 2, 1), (12, 0, 3), (7, 3, 0)])
def test_banded_matrix_from_diagonals_equals_dense_diags(n, lower, upper):
    offsets, diags = random_banded(n, lower, upper)
    A = pb.BandedMatrix(offsets, diags)
    dense = sum(np.diag(d, k) for k, d in zip(offsets, diags))
    assert A.shape == (n, n) and A.lower == lower and A.upper == upper
    np.testing.assert_array_equal(A.todense(), dense)
    for k, d in zip(offsets, diags):
        np.testing.assert_array_equal(A.diagonal(k), d)


def test_band_storage_layout_is_row_major_with_zero_outside_slots():
    A = pb.BandedMatrix([-1, 0, 2], [[1.0, 2, 3, 4], [5.0, 6, 7, 8, 9], [10.0, 11, 12]])
    dense = A.todense()
    for i in range(A.n):
        for j in range(A.n):
            d = j - i
            if -A.lower <= d <= A.upper:
                assert A.band[i, d + A.lower] == dense[i, j]
    assert A.band[0, 0] == 0 and A.band[4, 3] == 0 and A.band[3, 3] == 0


def test_scalar_diagonals_need_n_and_broadcast():
    A = pb.BandedMatrix([-1, 0, 1], [-1.0, 2.0, -1.0], n=6)
    np.testing.assert_array_equal(A.todense(), 2 * np.eye(6) - np.eye(6, k=1) - np.eye(6, k=-1))
    with pytest.raises(PDEBlocksError, match="n is required"):
        pb.BandedMatrix([0], [1.0])


def test_from_scipy_and_to_scipy_round_trip():
    n = 40
    offsets, diags = random_banded(n, 2, 3)
    S = sp.diags(diags, offsets, shape=(n, n), format="csr")
    A = pb.BandedMatrix.from_scipy(S)
    np.testing.assert_array_equal(A.todense(), S.toarray())
    np.testing.assert_array_equal(A.to_scipy().toarray(), S.toarray())
    # duplicates in COO are summed, as scipy does
    coo = sp.coo_matrix(([1.0, 2.0, 3.0], ([0, 0, 1], [1, 1, 0])), shape=(3, 3))
    np.testing.assert_array_equal(pb.BandedMatrix.from_scipy(coo).todense(), coo.toarray())


def test_from_scipy_refuses_unbounded_bandwidth_and_non_square():
    n = 300
    S = sp.eye(n, format="lil")
    S[0, n - 1] = 1.0
    with pytest.raises(PDEBlocksError, match="bandwidth 299"):
        pb.BandedMatrix.from_scipy(S.tocsr())
    with pytest.raises(PDEBlocksError, match="square"):
        pb.BandedMatrix.from_scipy(sp.csr_matrix(np.ones((3, 4))))


@pytest.mark.parametrize("lower,upper", [(0, 0), (1, 1), (2, 3), (4, 1)])
def test_matvec_equals_dense_product_for_vectors_and_batches(lower, upper):
    n = 37
    offsets, diags = random_banded(n, lower, upper)
    A = pb.BandedMatrix(offsets, diags)
    x = RNG.standard_normal((4, n))
    x_copy = x.copy()
    np.testing.assert_allclose(A.matvec(x), x @ A.todense().T, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(A @ x[1], A.todense() @ x[1], rtol=1e-13, atol=1e-13)
    np.testing.assert_array_equal(x, x_copy)


def test_transpose_is_the_dense_transpose():
    offsets, diags = random_banded(11, 2, 1)
    A = pb.BandedMatrix(offsets, diags)
    np.testing.assert_array_equal(A.T.todense(), A.todense().T)


# ---- direct solver ---------------------------------------------------------------

def test_direct_solver_on_spd_tridiagonal_uses_no_pivoting_and_is_exact():
    n = 1000
    A = pb.poisson_1d(n)
    b = RNG.standard_normal(n)
    x, strategy = A.solve(b, return_strategy=True)
    assert strategy == "spd"
    ref = np.linalg.solve(A.todense(), b)
    np.testing.assert_allclose(x, ref, rtol=1e-9, atol=1e-12 * np.abs(ref).max())


@pytest.mark.parametrize("lower,upper", [(2, 2), (3, 1), (1, 4)])
def test_direct_solver_on_diagonally_dominant_band_skips_pivoting(lower, upper):
    n = 60
    offsets, diags = random_banded(n, lower, upper)
    dense = sum(np.diag(d, k) for k, d in zip(offsets, diags))
    boost = np.abs(dense).sum(axis=1) + 1.0
    diags[offsets.index(0)] = boost
    A = pb.BandedMatrix(offsets, diags)
    b = RNG.standard_normal((3, n))
    x, strategy = A.solve(b, return_strategy=True)
    assert strategy == "diagonally_dominant"
    np.testing.assert_allclose(x, np.linalg.solve(A.todense(), b.T).T, rtol=1e-11, atol=1e-12)


def test_direct_solver_pivots_when_needed():
    # zero diagonal: impossible without pivoting
    n = 30
    offsets, diags = random_banded(n, 2, 1)
    diags[offsets.index(0)] = np.zeros(n)
    A = pb.BandedMatrix(offsets, diags)
    b = RNG.standard_normal(n)
    x, strategy = A.solve(b, return_strategy=True)
    assert strategy == "partial_pivoting"
    np.testing.assert_allclose(A.todense() @ x, b, rtol=1e-9, atol=1e-9)


def test_symmetric_indefinite_matrix_falls_back_to_pivoting():
    # symmetric with a positive diagonal, but indefinite: the second pivot 2 - 9/2 < 0
    A = pb.BandedMatrix([-1, 0, 1], [3 * np.ones(4), 2 * np.ones(5), 3 * np.ones(4)])
    assert np.linalg.eigvalsh(A.todense()).min() < 0
    b = RNG.standard_normal(5)
    x, strategy = A.solve(b, return_strategy=True)
    assert strategy == "partial_pivoting"
    np.testing.assert_allclose(x, np.linalg.solve(A.todense(), b), rtol=1e-12, atol=1e-12)


def test_singular_matrix_is_a_clear_error():
    # pure Neumann Laplacian: constant vectors in the kernel
    n = 8
    main = 2.0 * np.ones(n)
    main[[0, -1]] = 1.0
    A = pb.BandedMatrix([-1, 0, 1], [-np.ones(n - 1), main, -np.ones(n - 1)])
    with pytest.raises(PDEBlocksError, match="singular"):
        A.solve(np.ones(n))


# ---- constructors ---------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 2, 7, 64])
def test_poisson_1d_is_the_dirichlet_second_difference(n):
    h = 1.0 / (n + 1)
    ref = (2 * np.eye(n) - np.eye(n, k=1) - np.eye(n, k=-1)) / h**2
    A = pb.poisson_1d(n)
    assert A.grid == "vertex"
    np.testing.assert_allclose(A.todense(), ref, rtol=1e-15)
    np.testing.assert_allclose(pb.poisson_1d(n, h=0.5).todense(), ref * h**2 / 0.25, rtol=1e-15)
    # eigenvalues (4/h^2) sin^2(k pi / (2(n+1)))
    k = np.arange(1, n + 1)
    np.testing.assert_allclose(np.linalg.eigvalsh(A.todense()), 4 / h**2 * np.sin(k * np.pi / (2 * (n + 1)))**2,
                               rtol=1e-10)


STENCILS = [
    ([-1.0, 1.0], 0),              # forward difference
    ([1.0, -2.0, 1.0], -1),        # second difference
    ([-0.5, 0.0, 0.5], -1),        # centred difference
    ([1.0, -3.0, 3.0, -1.0], -1),  # third difference
    ([0.2, 0.5, -0.1, 0.3, -0.4, 0.1], -4),  # long, asymmetric
]


@pytest.mark.parametrize("weights,offset", STENCILS)
@pytest.mark.parametrize("n", [1, 2, 3, 10, 33])
def test_diffusion_system_equals_dense_identity_plus_tau_KT_W_K(weights, offset, n):
    tau = 0.37
    w = RNG.uniform(0.0, 2.0, n)
    w[RNG.integers(0, n)] = 0.0
    K = pb.Stencil(weights, offset)
    A = pb.diffusion_system(K, w, tau)
    Kd = dense_stencil(weights, offset, n)
    ref = np.eye(n) + tau * Kd.T @ np.diag(w) @ Kd
    assert A.grid == "cell"
    np.testing.assert_allclose(A.todense(), ref, rtol=1e-13, atol=1e-13)
    dense = A.todense()
    np.testing.assert_array_equal(dense, dense.T)  # exactly symmetric
    assert np.linalg.eigvalsh(dense).min() >= 1 - 1e-12


def test_diffusion_system_with_perona_malik_weights_of_a_signal():
    n = 50
    u = np.repeat([0.0, 1.0, 0.3], [20, 15, 15]) + 0.01 * RNG.standard_normal(n)
    K = pb.DifferenceOperator([0, 1], h=1.0 / n)
    g = pb.Diffusivity("perona_malik", 5.0)
    w = g.g(K.apply(u)**2)
    tau = 1e-3
    A = pb.diffusion_system(K, w, tau)
    Kd = dense_stencil(K.weights, K.offset, n)
    np.testing.assert_allclose(A.todense(), np.eye(n) + tau * Kd.T @ np.diag(w) @ Kd, rtol=1e-12, atol=1e-12)


# ---- bad input ---------------------------------------------------------------------

def test_bad_banded_inputs_are_clear_errors():
    with pytest.raises(PDEBlocksError, match="distinct"):
        pb.BandedMatrix([0, 0], [np.ones(3), np.ones(3)])
    with pytest.raises(PDEBlocksError, match="length"):
        pb.BandedMatrix([0, 1], [np.ones(3), np.ones(3)])
    with pytest.raises(PDEBlocksError, match="non-finite"):
        pb.BandedMatrix([0], [np.array([1.0, np.nan])])
    A = pb.poisson_1d(5)
    for bad in (np.ones(4), np.ones((2, 6))):
        with pytest.raises(PDEBlocksError, match="length"):
            A.matvec(bad)
        with pytest.raises(PDEBlocksError, match="length"):
            A.solve(bad)
    b = np.array([1.0, np.nan, 0, 0, 0])
    b_copy = b.copy()
    with pytest.raises(PDEBlocksError, match="non-finite"):
        A.solve(b)
    np.testing.assert_array_equal(b, b_copy)
    with pytest.raises(PDEBlocksError):
        pb.poisson_1d(0)
    with pytest.raises(PDEBlocksError, match="h"):
        pb.poisson_1d(4, h=-1.0)


def test_bad_diffusion_system_inputs_are_clear_errors():
    K = pb.Stencil([-1.0, 1.0])
    w = np.ones(6)
    w_copy = w.copy()
    with pytest.raises(PDEBlocksError, match="tau"):
        pb.diffusion_system(K, w, 0.0)
    with pytest.raises(PDEBlocksError, match="nonnegative"):
        pb.diffusion_system(K, -w, 1.0)
    with pytest.raises(PDEBlocksError, match="non-finite"):
        pb.diffusion_system(K, np.array([1.0, np.inf, 1.0]), 1.0)
    with pytest.raises(PDEBlocksError, match="Stencil"):
        pb.diffusion_system(np.ones(2), w, 1.0)
    np.testing.assert_array_equal(w, w_copy)

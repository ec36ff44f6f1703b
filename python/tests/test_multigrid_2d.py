"""2D multigrid on images: operators against independent numpy/scipy references, the
hierarchy's transfers and Galerkin operators against dense products, convergence
(mesh independence, jumping coefficients), the U-net form, CG, and bad input."""
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import pdeblocks as pb
from pdeblocks import PDEBlocksError


def laplacian_1d(n):
    return sp.diags([-np.ones(n - 1), 2 * np.ones(n), -np.ones(n - 1)], [-1, 0, 1])


def forward_difference(n):
    """Forward differences with the half-sample mirror: the last row is zero."""
    D = sp.lil_matrix((n, n))
    for i in range(n - 1):
        D[i, i], D[i, i + 1] = -1.0, 1.0
    return D.tocsr()


def diffusion_reference(w, tau, per_filter=None):
    """I + tau (Dx^T Wx Dx + Dy^T Wy Dy) for gradient_2d, built from Kronecker products."""
    h, wd = w.shape[-2:]
    Dx = sp.kron(sp.eye(h), forward_difference(wd))
    Dy = sp.kron(forward_difference(h), sp.eye(wd))
    wx, wy = (w[0], w[1]) if per_filter else (w, w)
    return (sp.eye(h * wd) + tau * (Dx.T @ sp.diags(wx.ravel()) @ Dx + Dy.T @ sp.diags(wy.ravel()) @ Dy)).toarray()


def jump_weights(shape, seed=0, low=1e-6):
    """A piecewise-constant pattern of weights 1 and `low` (squares and stripes)."""
    h, w = shape
    i, j = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    rng = np.random.default_rng(seed)
    pattern = ((i // 7 + j // 5) % 2 == 0) | (rng.random(shape) < 0.05)
    return np.where(pattern, 1.0, low)


# ---- operators ------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(1, 1), (1, 5), (4, 1), (5, 7), (8, 6)])
def test_poisson_2d_is_the_kronecker_sum(shape):
    h, w = shape
    ref = (sp.kron(laplacian_1d(h), sp.eye(w)) + sp.kron(sp.eye(h), laplacian_1d(w))).toarray() / 0.5 ** 2
    A = pb.poisson_2d(shape, h=0.5)
    assert np.array_equal(A.to_scipy().toarray(), ref)
    assert np.array_equal(A.diagonal(), np.diag(ref))
    x = np.random.default_rng(1).standard_normal(shape)
    assert np.allclose(A.matvec(x), (ref @ x.ravel()).reshape(shape), rtol=1e-14, atol=1e-12)


@pytest.mark.parametrize("shape", [(6, 9), (7, 4), (1, 6)])
def test_diffusion_system_gradient_is_the_dense_reference(shape):
    rng = np.random.default_rng(2)
    w = rng.random(shape)
    A = pb.diffusion_system(pb.gradient_2d(), w, 3.5)
    assert isinstance(A, pb.StencilField2D) and A.grid == "cell"
    dense = A.to_scipy().toarray()
    assert np.allclose(dense, diffusion_reference(w, 3.5), rtol=1e-14, atol=1e-13)
    assert np.array_equal(dense, dense.T)   # assembled exactly symmetric
    assert not np.any(A.coefficients[[0, 2, 6, 8]])   # 5-point


def test_diffusion_system_per_filter_weights():
    rng = np.random.default_rng(3)
    w = rng.random((2, 5, 6))
    A = pb.diffusion_system(pb.gradient_2d(), w, 0.7)
    assert np.allclose(A.to_scipy().toarray(), diffusion_reference(w, 0.7, per_filter=True), rtol=1e-14, atol=1e-13)


def test_diffusion_system_two_by_two_bank_is_nine_point():
    bank = [pb.Stencil2D([[-0.5, 0.5], [-0.5, 0.5]]), pb.Stencil2D([[-0.5, -0.5], [0.5, 0.5]])]
    shape = (5, 7)
    w = np.random.default_rng(4).random(shape)
    A = pb.diffusion_system(bank, w, 2.0)
    Ks = [k.matrix(shape) for k in bank]   # the library's dense stencil matrices (mirror included)
    ref = np.eye(35) + 2.0 * sum(K.T @ np.diag(w.ravel()) @ K for K in Ks)
    assert np.allclose(A.to_scipy().toarray(), ref, rtol=1e-14, atol=1e-13)
    assert np.any(A.coefficients[[0, 2, 6, 8]])


def test_diffusion_system_refuses_wide_banks_and_bad_weights():
    with pytest.raises(PDEBlocksError, match="9-point"):
        pb.diffusion_system([pb.Stencil2D([[-1.0, 0.0, 1.0]], offset=(0, -1))], np.ones((5, 5)), 1.0)
    with pytest.raises(PDEBlocksError, match="nonnegative"):
        pb.diffusion_system(pb.gradient_2d(), -np.ones((4, 4)), 1.0)
    with pytest.raises(PDEBlocksError, match="tau"):
        pb.diffusion_system(pb.gradient_2d(), np.ones((4, 4)), 0.0)
    with pytest.raises(PDEBlocksError):
        pb.diffusion_system(pb.gradient_2d(), np.ones((3, 4, 4)), 1.0)   # 3 weight images for 2 filters


# ---- solving -------------------------------------------------------------------

SHAPES = [(17, 17), (16, 20), (33, 8), (5, 40), (31, 30)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("smoother", ["red_black", "gauss_seidel", "symmetric_gauss_seidel", "gauss_seidel_forward", "jacobi"])
def test_solve_matches_spsolve(shape, smoother):
    rng = np.random.default_rng(5)
    A = pb.diffusion_system(pb.gradient_2d(), jump_weights(shape), 50.0)
    b = rng.standard_normal(shape)
    mg = pb.Multigrid(A, smoother=smoother, coarsest=4)
    assert isinstance(mg, pb.Multigrid2D) and len(mg.levels) >= 2
    x, info = mg.solve(b, tol=1e-10, maxiter=400)
    assert info["converged"], info["message"]
    ref = spla.spsolve(A.to_scipy().tocsc(), b.ravel()).reshape(shape)
    assert np.allclose(x, ref, rtol=0, atol=1e-8 * np.abs(ref).max())


@pytest.mark.parametrize("cycle", ["V", "W", "F"])
@pytest.mark.parametrize("transfer", ["auto", "vertex", "cell"])
def test_cycles_and_transfers_solve_poisson(cycle, transfer):
    A = pb.poisson_2d((31, 31))
    b = np.random.default_rng(6).standard_normal((31, 31))
    x, info = pb.Multigrid(A, cycle=cycle, transfer=transfer, coarsest=9).solve(b, tol=1e-10)
    # "cell" puts Neumann weights at Dirichlet boundaries: it converges, more slowly
    assert info["converged"] and info["cycles"] <= (40 if transfer == "cell" else 12), info["message"]
    assert np.allclose(A.matvec(x), b, atol=1e-8)


def test_poisson_factor_is_mesh_independent():
    factors = []
    for n in (31, 63, 127, 255):
        x, info = pb.Multigrid(pb.poisson_2d((n, n))).solve(np.ones((n, n)), tol=1e-8)
        factors.append(info["convergence_factor"])
    assert max(factors) <= 0.1, factors
    assert max(factors) - min(factors) < 0.02, factors


def edge_lines(shape, low=1e-6):
    """Weight 1 with lines of weight `low` (edges of a Perona-Malik diffusivity), at odd and
    even rows and columns."""
    w = np.ones(shape)
    w[:, 5::23] = low
    w[7::19, :] = low
    return w


def test_jumping_coefficients_matrix_dependent_transfer():
    shape = (96, 80)
    A = pb.diffusion_system(pb.gradient_2d(), edge_lines(shape), 100.0)
    b = np.random.default_rng(7).standard_normal(shape)
    x, info = pb.Multigrid(A, transfer="matrix").solve(b, tol=1e-8)
    bilinear = pb.Multigrid(A, transfer="cell").solve(b, tol=1e-8, maxiter=30)[1]
    assert info["converged"], info["message"]
    assert info["convergence_factor"] < 0.6 and info["convergence_factor"] < 0.75 * bilinear["convergence_factor"]
    ref = spla.spsolve(A.to_scipy().tocsc(), b.ravel()).reshape(shape)
    assert np.abs(x - ref).max() <= 1e-6 * np.abs(ref).max()


@pytest.mark.parametrize("column", [20, 21])
def test_two_grid_follows_an_edge_line(column):
    # one line of weight 1e-6 cuts the image in two Neumann regions; the two-grid method
    # (exact coarse solve) must interpolate each region's constant, wherever the line lies
    w = np.ones((32, 32))
    w[:, column] = 1e-6
    A = pb.diffusion_system(pb.gradient_2d(), w, 1e4)
    x, info = pb.Multigrid(A, transfer="matrix", max_levels=2, coarsest=1).solve(
        np.random.default_rng(11).standard_normal((32, 32)), tol=1e-8)
    assert info["converged"] and info["convergence_factor"] <= 0.2, info["message"]


def test_transfers_are_adjoint_and_galerkin_is_rap():
    shape = (13, 10)
    A = pb.diffusion_system(pb.gradient_2d(), jump_weights(shape, low=1e-3), 20.0)
    for transfer in ("matrix", "cell"):
        mg = pb.Multigrid(A, transfer=transfer, coarsest=4)
        nf, nc = mg.levels[0], mg.levels[1]
        P = np.column_stack([mg.prolong(0, e) for e in np.eye(nc)])
        R = np.column_stack([mg.restrict(0, e) for e in np.eye(nf)])
        assert np.allclose(R, P.T / 4, rtol=1e-15, atol=1e-15)
        Ac = mg.level_matrix(1).to_scipy().toarray()
        assert np.allclose(Ac, R @ A.to_scipy().toarray() @ P, rtol=1e-12, atol=1e-12)
        assert np.allclose(Ac, Ac.T, rtol=1e-13, atol=1e-13)
        assert mg.shapes[1] == (6, 5)
    # bilinear interpolation reproduces constants away from Dirichlet boundaries
    mg = pb.Multigrid(pb.poisson_2d((15, 15)), transfer="vertex", coarsest=4)
    fine = mg.prolong(0, np.ones(49)).reshape(15, 15)
    assert np.allclose(fine[1:-1, 1:-1], 1) and np.allclose(fine[0, 1:-1], 0.5)


def test_matrix_dependent_interpolation_is_bilinear_for_poisson():
    A = pb.poisson_2d((15, 15))
    a, b = (pb.Multigrid(A, transfer=t, coarsest=4) for t in ("matrix", "vertex"))
    for e in np.eye(49)[::5]:
        assert np.allclose(a.prolong(0, e), b.prolong(0, e), rtol=1e-15, atol=1e-15)


def test_unet_cycle_equals_classical_cycle():
    shape = (23, 18)
    A = pb.diffusion_system(pb.gradient_2d(), jump_weights(shape), 100.0)
    rng = np.random.default_rng(8)
    x0, b = rng.standard_normal(shape), rng.standard_normal(shape)
    for cycle in ("V", "W", "F"):
        mg = pb.Multigrid(A, cycle=cycle, coarsest=4)
        xh, bh, rh = mg.unet_cycle(x0, b)
        assert np.allclose(xh, mg.cycle(x0, b), rtol=0, atol=1e-12)
        assert np.array_equal(bh, b)
        assert np.allclose(rh, b - A.matvec(xh), atol=1e-12)


def test_preconditioned_cg_and_scipy_preconditioner():
    shape = (40, 33)
    A = pb.diffusion_system(pb.gradient_2d(), jump_weights(shape), 1e3)
    b = np.random.default_rng(9).standard_normal(shape)
    mg = pb.Multigrid(A)
    x, info = pb.cg(A, b, preconditioner=mg, tol=1e-10)
    assert info["converged"] and info["iterations"] <= 40
    assert np.linalg.norm(A.matvec(x) - b) <= 1e-10 * np.linalg.norm(b)
    plain = pb.cg(A, b, tol=1e-10)[1]
    assert plain["iterations"] > 3 * info["iterations"]
    y, status = spla.cg(A.to_scipy(), b.ravel(), M=mg.aspreconditioner(), rtol=1e-10)
    assert status == 0 and np.allclose(y.reshape(shape), x, atol=1e-7)


def test_batches_and_flat_vectors():
    A = pb.poisson_2d((9, 12))
    mg = pb.Multigrid(A, coarsest=4)
    rng = np.random.default_rng(10)
    B = rng.standard_normal((3, 9, 12))
    X, infos = mg.solve(B, tol=1e-10)
    assert X.shape == B.shape and all(i["converged"] for i in infos)
    x1, _ = mg.solve(B[1].ravel(), tol=1e-10)
    assert x1.shape == (108,) and np.allclose(x1, X[1].ravel())
    assert np.allclose(mg.cycle(np.zeros_like(B), B)[2], mg.cycle(np.zeros((9, 12)), B[2]))


# ---- bad input -----------------------------------------------------------------

def test_bad_operators_are_refused():
    A = pb.poisson_2d((8, 8))
    c = A.coefficients.copy()
    c[5, 3, 3] -= 0.5   # east coupling changed alone: not symmetric
    with pytest.raises(PDEBlocksError, match="symmetric"):
        pb.Multigrid(pb.StencilField2D(c), coarsest=4)
    c = -A.coefficients   # negative diagonal (negative definite)
    with pytest.raises(PDEBlocksError, match="diagonal"):
        pb.Multigrid(pb.StencilField2D(c), coarsest=4)
    c = A.coefficients.copy()
    c[3, 2, 0] = -1.0   # a west coupling at the first column points outside
    with pytest.raises(PDEBlocksError, match="outside"):
        pb.Multigrid(pb.StencilField2D(c), coarsest=4)
    c = A.coefficients.copy()
    c[4, 0, 0] = np.nan
    with pytest.raises(PDEBlocksError, match="finite"):
        pb.StencilField2D(c).matvec(np.ones((8, 8)))
    with pytest.raises(PDEBlocksError):
        pb.StencilField2D(np.ones((8, 4, 4)))
    with pytest.raises(PDEBlocksError):
        pb.poisson_2d((0, 5))


def test_singular_neumann_problem_is_reported():
    # the pure Neumann Laplacian K^T K (tau = 1, no identity): constants are its null space
    A = pb.diffusion_system(pb.gradient_2d(), np.ones((16, 16)), 1.0)
    c = A.coefficients.copy()
    c[4] -= 1.0
    with pytest.raises(PDEBlocksError, match="singular"):
        pb.Multigrid(pb.StencilField2D(c), coarsest=4)


def test_wrong_shapes_and_options_are_refused():
    mg = pb.Multigrid(pb.poisson_2d((9, 9)), coarsest=4)
    with pytest.raises(PDEBlocksError, match="9x9"):
        mg.solve(np.ones((9, 8)))
    with pytest.raises(PDEBlocksError):
        mg.cycle(np.ones((9, 9)), np.ones(81))
    with pytest.raises(PDEBlocksError):
        mg.solve(np.full((9, 9), np.nan))
    with pytest.raises(PDEBlocksError):
        mg.level_matrix(7)
    with pytest.raises(PDEBlocksError):
        pb.Multigrid(pb.poisson_2d((9, 9)), smoother="nope")
    with pytest.raises(PDEBlocksError, match="coarsest"):
        pb.Multigrid(pb.poisson_2d((3, 3)), coarsest=9)
    with pytest.raises(PDEBlocksError):
        pb.Multigrid(pb.poisson_2d((9, 9)), pre=0, post=0)

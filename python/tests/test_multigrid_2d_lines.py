"""2D multigrid for Perona-Malik systems: the alternating zebra line smoother against a
dense transcription of exact line solves, the symmetry of its cycles (CG preconditioning),
the convergence factors measured on the camera image and an edge-line pattern at
tau = 1e4 (bounds = measured values with margin), and bad input."""
import numpy as np
import pytest

import pdeblocks as pb
from pdeblocks import PDEBlocksError


def pm_weights(u, lam):
    """Lagged Perona-Malik diffusivity 1/(1 + |grad u|^2/lam^2), clipped to [1e-6, 1]."""
    gx = np.diff(u, axis=1, append=u[:, -1:])
    gy = np.diff(u, axis=0, append=u[-1:, :])
    return np.clip(1 / (1 + (gx ** 2 + gy ** 2) / lam ** 2), 1e-6, 1)


def edge_lines(shape, low=1e-6):
    w = np.ones(shape)
    w[:, 5::23] = low
    w[7::19, :] = low
    return w


def random_weights(shape, seed):
    rng = np.random.default_rng(seed)
    return np.where(rng.random(shape) < 0.3, 1e-4, 1.0) * rng.uniform(0.5, 2, shape)


def dense_line_sweep(A, x, b, shape, reverse):
    """Block Gauss-Seidel with exact line solves: even rows, odd rows, even columns, odd
    columns (reverse: the opposite order), x[L] = A[L,L]^{-1} (b - A[L,~L] x[~L])."""
    h, w = shape
    idx = np.arange(h * w).reshape(h, w)
    blocks = [idx[i] for i in range(0, h, 2)], [idx[i] for i in range(1, h, 2)], \
        [idx[:, j] for j in range(0, w, 2)], [idx[:, j] for j in range(1, w, 2)]
    x = x.ravel().copy()
    for colour in (reversed(blocks) if reverse else blocks):
        for L in colour:
            rest = b.ravel()[L] - A[L] @ x + A[np.ix_(L, L)] @ x[L]
            x[L] = np.linalg.solve(A[np.ix_(L, L)], rest)
    return x


@pytest.mark.parametrize("shape", [(9, 12), (14, 7)])
@pytest.mark.parametrize("pre, post", [(1, 0), (0, 1), (2, 1)])
def test_two_level_cycle_is_the_dense_line_sweep_and_exact_coarse_correction(shape, pre, post):
    # max_levels=2: the coarse level is solved exactly, so one cycle is
    # S_post^post (x + P Ac^{-1} R (b - A S_pre^pre x)); level 1 is a 9-point Galerkin
    # operator, so a 3-level hierarchy also checks the sweep on 9-point fields.
    A = pb.diffusion_system(pb.gradient_2d(), random_weights(shape, 1), 30.0)
    rng = np.random.default_rng(2)
    for levels in (2, 3):
        mg = pb.Multigrid(A, smoother="alternating_line", pre=pre, post=post, max_levels=levels, coarsest=1)
        op = A if levels == 2 else mg.level_matrix(1)
        fine = op.image_shape
        sub = mg if levels == 2 else pb.Multigrid(op, smoother="alternating_line", pre=pre, post=post,
                                                  max_levels=2, coarsest=1)
        D = op.to_scipy().toarray()
        P = np.column_stack([sub.prolong(0, e) for e in np.eye(sub.levels[1])])
        Ac = sub.level_matrix(1).to_scipy().toarray()
        x0, b = rng.standard_normal(fine), rng.standard_normal(fine)
        x = x0.ravel()
        for _ in range(pre):
            x = dense_line_sweep(D, x, b, fine, reverse=False)
        x = x + P @ np.linalg.solve(Ac, P.T @ (b.ravel() - D @ x) / 4)
        for _ in range(post):
            x = dense_line_sweep(D, x, b, fine, reverse=True)
        got = sub.cycle(x0, b).ravel()
        assert np.allclose(got, x, rtol=0, atol=1e-11 * np.abs(x).max())


@pytest.mark.parametrize("cycle", ["V", "W"])
def test_symmetric_line_cycles_are_symmetric_preconditioners(cycle):
    shape = (37, 30)
    A = pb.diffusion_system(pb.gradient_2d(), edge_lines(shape), 1e4)
    mg = pb.Multigrid(A, smoother="alternating_line", pre=2, post=2, cycle=cycle, coarsest=16)
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal(shape), rng.standard_normal(shape)
    zero = np.zeros(shape)
    Mx, My = mg.cycle(zero, x), mg.cycle(zero, y)
    assert abs(np.vdot(x, My) - np.vdot(Mx, y)) <= 1e-12 * np.linalg.norm(x) * np.linalg.norm(My)
    assert np.vdot(x, Mx) > 0
    # an unequal number of sweeps is not symmetric (the check above can fail)
    skew = pb.Multigrid(A, smoother="alternating_line", pre=2, post=0, cycle=cycle, coarsest=16)
    Sx, Sy = skew.cycle(zero, x), skew.cycle(zero, y)
    assert abs(np.vdot(x, Sy) - np.vdot(Sx, y)) > 1e-6 * np.linalg.norm(x) * np.linalg.norm(Sy)


def factor(A, b, **options):
    _, info = pb.Multigrid(A, **options).solve(b, tol=1e-8, maxiter=60)
    assert info["converged"], info["message"]
    return info["convergence_factor"]


@pytest.fixture(scope="module")
def camera():
    skimage = pytest.importorskip("skimage.data")
    return skimage.camera().astype(float) / 255


# Measured (512^2, tau = 1e4, b ~ N(0, 1) seed 0; bench/multigrid_2d.py prints them):
#   camera lam=0.05   red_black V(2,2) 0.43   alternating_line V(2,2) 0.24   W(2,2) 0.08
#   camera lam=0.01   red_black V(2,2) 0.77   alternating_line V(2,2) 0.65   W(2,2) 0.39
#   edge lines        red_black V(2,2) 0.92   alternating_line V(2,2) 0.51   W(2,2) 0.04
def test_camera_factors(camera):
    rng = np.random.default_rng(0)
    A = pb.diffusion_system(pb.gradient_2d(), pm_weights(camera, 0.05), 1e4)
    b = rng.standard_normal(camera.shape)
    assert factor(A, b, smoother="alternating_line") <= 0.3
    assert factor(A, b, smoother="alternating_line", cycle="W") <= 0.15
    A = pb.diffusion_system(pb.gradient_2d(), pm_weights(camera, 0.01), 1e4)
    assert factor(A, b, smoother="alternating_line", cycle="W") <= 0.45


def test_edge_line_factors():
    A = pb.diffusion_system(pb.gradient_2d(), edge_lines((512, 512)), 1e4)
    b = np.random.default_rng(0).standard_normal((512, 512))
    assert factor(A, b, smoother="alternating_line", cycle="W") <= 0.1
    assert factor(A, b, smoother="alternating_line") <= 0.65


def test_cg_with_line_multigrid(camera):
    # CG preconditioned by one W(2,2) line cycle: measured 0.14 per iteration (camera
    # lam=0.01) and 0.02 (edge lines), against 0.34 and 0.71 with red_black V(2,2)
    rng = np.random.default_rng(0)
    for w, bound in ((pm_weights(camera, 0.01), 0.2), (edge_lines((512, 512)), 0.05)):
        A = pb.diffusion_system(pb.gradient_2d(), w, 1e4)
        b = rng.standard_normal(w.shape)
        mg = pb.Multigrid(A, smoother="alternating_line", cycle="W")
        x, info = pb.cg(A, b, preconditioner=mg, tol=1e-8)
        assert info["converged"] and info["convergence_factor"] <= bound, info["message"]
        assert np.linalg.norm(b - A.matvec(x)) <= 1e-8 * np.linalg.norm(b)


def test_line_smoother_is_refused_for_1d_hierarchies():
    A = pb.poisson_1d(31)
    with pytest.raises(PDEBlocksError, match="2D hierarchy"):
        pb.Multigrid(A, smoother="alternating_line")
    with pytest.raises(PDEBlocksError, match="omega"):
        pb.Multigrid(pb.poisson_2d((9, 9)), smoother="alternating_line", omega=0.5)


def test_interpolation_skips_a_coarse_pixel_cut_off_on_all_sides():
    # Edge lines at column 5 and row 7 (odd: coarse) meet at the coarse pixel (7, 5), which
    # is coupled to nothing (weights 1e-6 on all sides). The fine pixel (6, 5) is coupled
    # strongly only to (6, 4), in the region of the coarse pixel (5, 5): its interpolation
    # must follow (5, 5), not take half of the isolated (7, 5).
    w = np.ones((32, 32))
    w[:, 5] = 1e-6
    w[7, :] = 1e-6
    A = pb.diffusion_system(pb.gradient_2d(), w, 1e4)
    mg = pb.Multigrid(A, max_levels=2, coarsest=1)
    hc, wc = mg.shapes[1]

    def column(I, J):
        e = np.zeros((hc, wc))
        e[I, J] = 1
        return mg.prolong(0, e.ravel()).reshape(32, 32)

    assert column(2, 2)[6, 5] >= 0.99 and column(3, 2)[6, 5] <= 0.01
    assert column(3, 1)[7, 4] >= 0.99 and column(3, 2)[7, 4] <= 0.01   # (7, 4) hangs on (6, 4) too
    # the constant of the region rows 0-7, columns 0-5 is interpolated exactly
    region = np.zeros((hc, wc))
    region[:4, :3] = 1
    region[3, 2] = 0   # the isolated pixel (7, 5) is not in it
    fine = mg.prolong(0, region.ravel()).reshape(32, 32)
    inside = np.zeros((32, 32), bool)
    inside[:8, :6] = True
    inside[7, 5] = False
    assert np.allclose(fine[inside], 1, atol=1e-3)


def test_two_grid_factor_on_edge_lines_with_point_smoothing():
    # measured 0.13 (0.95 before coarse pixels' region connections were followed)
    A = pb.diffusion_system(pb.gradient_2d(), edge_lines((128, 128)), 1e4)
    b = np.random.default_rng(1).standard_normal((128, 128))
    assert factor(A, b, max_levels=2, coarsest=1) <= 0.2

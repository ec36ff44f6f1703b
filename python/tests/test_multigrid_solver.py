"""Multigrid hierarchies, cycles and solves, against dense numpy references written here:
transfer operators from their formulas, Galerkin products R A P, a dense two-grid cycle,
the U-net form against the classical cycle, mesh independence, robustness for jumping
diffusion weights, and bad input."""
import numpy as np
import pytest

import pdeblocks as pb
from pdeblocks import PDEBlocksError

RNG = np.random.default_rng(7)


# ---- numpy references -------------------------------------------------------------

def low(i):
    """Lower coarse column of fine row i (the library's convention)."""
    return (i - 2 + (i & 1)) >> 1


def vertex_P(n):
    nc = n // 2
    P = np.zeros((n, nc))
    for i in range(n):
        if i % 2 == 1:
            P[i, (i - 1) // 2] = 1.0
        else:
            J = i // 2
            if J - 1 >= 0:
                P[i, J - 1] = 0.5
            if J < nc:
                P[i, J] = 0.5
    return P


def cell_P(n):
    nc = (n + 1) // 2
    P = np.zeros((n, nc))
    for i in range(n):
        J = i // 2
        near, far = J, (J - 1 if i % 2 == 0 else J + 1)
        far = min(max(far, 0), nc - 1)  # mirrored: e_{-1} = e_0, e_{nc} = e_{nc-1}
        P[i, near] += 0.75
        P[i, far] += 0.25
    return P


def black_box_P(A):
    """Operator-induced interpolation (vertex coarsening), lumping each side of the row."""
    n = A.shape[0]
    nc = n // 2
    P = np.zeros((n, nc))
    for i in range(n):
        if i % 2 == 1:
            P[i, (i - 1) // 2] = 1.0
            continue
        lo = low(i)
        if lo >= 0:
            P[i, lo] = -A[i, :i].sum() / A[i, i]
        if lo + 1 < nc:
            P[i, lo + 1] = -A[i, i + 1:].sum() / A[i, i]
    return P


def transfer_matrices(kind, A):
    n = A.shape[0]
    if kind == "vertex":
        P = vertex_P(n)
        return P, 0.5 * P.T
    if kind == "cell":
        P = cell_P(n)
        return P, 0.5 * P.T
    P = black_box_P(A)
    return P, 0.5 * black_box_P(A.T).T


def gs_forward(A, b, x):
    x = x.copy()
    for i in range(len(b)):
        x[i] = (b[i] - A[i, :i] @ x[:i] - A[i, i + 1:] @ x[i + 1:]) / A[i, i]
    return x


def gs_backward(A, b, x):
    x = x.copy()
    for i in reversed(range(len(b))):
        x[i] = (b[i] - A[i, :i] @ x[:i] - A[i, i + 1:] @ x[i + 1:]) / A[i, i]
    return x


def gs_colour(A, b, x, parity):
    x = x.copy()
    for i in range(parity, len(b), 2):
        x[i] = (b[i] - A[i, :i] @ x[:i] - A[i, i + 1:] @ x[i + 1:]) / A[i, i]
    return x


def jacobi(A, b, x, omega):
    D = np.diag(A)
    return x + omega * (b - A @ x) / D


def default_omega(A):
    return 4.0 / (3.0 * (np.abs(A).sum(axis=1) / np.abs(np.diag(A))).max())


def smooth(A, b, x, smoother, times, post, omega=None):
    for _ in range(times):
        if smoother == "jacobi":
            x = jacobi(A, b, x, omega if omega is not None else default_omega(A))
        elif smoother == "gauss_seidel":
            x = gs_backward(A, b, x) if post else gs_forward(A, b, x)
        elif smoother == "gauss_seidel_forward":
            x = gs_forward(A, b, x)
        elif smoother == "symmetric_gauss_seidel":
            x = gs_backward(A, b, gs_forward(A, b, x))
        elif smoother == "red_black":
            x = gs_colour(A, b, gs_colour(A, b, x, 0), 1) if post else gs_colour(A, b, gs_colour(A, b, x, 1), 0)
    return x


def two_grid(A, b, x, P, R, smoother, pre, post):
    """One two-grid cycle with an exact coarse solve, from the textbook formula."""
    x = smooth(A, b, x, smoother, pre, post=False)
    AH = R @ A @ P
    e = np.linalg.solve(AH, R @ (b - A @ x))
    x = x + P @ e
    return smooth(A, b, x, smoother, post, post=True)


def asymptotic_factor(mg, n, cycles=8, seed=0):
    """Worst residual reduction per cycle over cycles 2..`cycles` for A x = 0 from a random
    x0: with b = 0 there is no rounding floor (the iterate itself shrinks)."""
    x0 = np.random.default_rng(seed).standard_normal(n)
    _, info = mg.solve(np.zeros(n), x0, tol=0.0, maxiter=cycles)
    r = info["residuals"]
    assert info["cycles"] == cycles and np.all(np.isfinite(r)) and r[-1] > 0
    return float(np.max(r[2:] / r[1:-1]))


def pm_diffusion_matrix(n, tau_over_h2, seed, jumps=6):
    """I + tau K^T diag(w) K for Perona-Malik weights of a noisy piecewise-constant signal:
    w is ~1 inside segments and 1e-8 across the jumps."""
    rng = np.random.default_rng(seed)
    h = 1.0 / n
    margin = min(5, n // 4)
    candidates = np.arange(margin, n - margin)
    edges = np.sort(rng.choice(candidates, size=min(jumps, candidates.size), replace=False))
    u = np.zeros(n)
    for e in edges:
        u[e:] += rng.choice([-1.0, 1.0])
    u += 1e-4 * rng.standard_normal(n)
    K = pb.DifferenceOperator([0, 1], h=h)
    lam = (1.0 / h) / np.sqrt(2 * np.log(1e8))  # g = 1e-8 at a unit jump
    w = pb.Diffusivity("perona_malik", lam).g(K.apply(u) ** 2)
    return pb.diffusion_system(K, w, tau_over_h2 * h * h), w


# ---- transfer operators and Galerkin products ----------------------------------------

def dense_transfer(mg, level):
    nf, nc = mg.levels[level], mg.levels[level + 1]
    P = np.column_stack([mg.prolong(level, np.eye(nc)[J]) for J in range(nc)])
    R = np.column_stack([mg.restrict(level, np.eye(nf)[i]) for i in range(nf)])
    return P, R


@pytest.mark.parametrize("n", [7, 8, 31, 40, 63])
def test_vertex_transfer_is_linear_interpolation_and_full_weighting(n):
    mg = pb.Multigrid(pb.poisson_1d(n), transfer="vertex")
    for level in range(len(mg.levels) - 1):
        P, R = dense_transfer(mg, level)
        np.testing.assert_allclose(P, vertex_P(mg.levels[level]), atol=1e-15)
        np.testing.assert_allclose(R, 0.5 * vertex_P(mg.levels[level]).T, atol=1e-15)


@pytest.mark.parametrize("n", [6, 9, 32, 45])
def test_cell_transfer_is_mirrored_cell_centred_interpolation(n):
    A, _ = pm_diffusion_matrix(n, 1.0, seed=n, jumps=0)
    mg = pb.Multigrid(A, transfer="cell")
    for level in range(len(mg.levels) - 1):
        P, R = dense_transfer(mg, level)
        np.testing.assert_allclose(P, cell_P(mg.levels[level]), atol=1e-15)
        np.testing.assert_allclose(R, 0.5 * cell_P(mg.levels[level]).T, atol=1e-15)
        np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-15)  # constants are reproduced


@pytest.mark.parametrize("n", [9, 30, 64])
def test_matrix_dependent_transfer_is_operator_induced(n):
    A, _ = pm_diffusion_matrix(n, 100.0, seed=n)
    mg = pb.Multigrid(A, transfer="matrix")
    for level in range(len(mg.levels) - 1):
        Al = mg.level_matrix(level).todense()
        P, R = dense_transfer(mg, level)
        Pref, Rref = transfer_matrices("matrix", Al)
        np.testing.assert_allclose(P, Pref, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(R, Rref, rtol=1e-13, atol=1e-15)


def nonsymmetric_matrix(n):
    main = 4.0 + RNG.uniform(0, 1, n)
    return pb.BandedMatrix([-1, 0, 1], [-1.5 + 0.3 * RNG.uniform(size=n - 1), main, -0.5 - 0.3 * RNG.uniform(size=n - 1)])


@pytest.mark.parametrize("kind,matrix", [
    ("vertex", lambda: pb.poisson_1d(31)),
    ("vertex", lambda: pb.poisson_1d(50)),
    ("cell", lambda: pm_diffusion_matrix(45, 30.0, seed=3, jumps=0)[0]),
    ("cell", lambda: pb.diffusion_system(pb.Stencil([1.0, -2.0, 1.0], -1), RNG.uniform(0.5, 1, 40), 0.3)),
    ("matrix", lambda: pm_diffusion_matrix(64, 1e4, seed=4)[0]),
    ("matrix", lambda: pb.diffusion_system(pb.Stencil([-0.5, 0.0, 0.5], -1), RNG.uniform(0.1, 1, 37), 2.0)),
    ("matrix", lambda: nonsymmetric_matrix(33)),
    ("matrix", lambda: pb.BandedMatrix([-2, -1, 0, 1], [RNG.uniform(-1, 0, 38), RNG.uniform(-1, 0, 39), 5 + RNG.uniform(0, 1, 40),
                                                         RNG.uniform(-1, 0, 39)])),
])
def test_galerkin_coarse_operators_equal_dense_R_A_P(kind, matrix):
    A = matrix()
    mg = pb.Multigrid(A, transfer=kind)
    assert mg.transfer == kind
    np.testing.assert_array_equal(mg.level_matrix(0).todense(), A.todense())
    for level in range(len(mg.levels) - 1):
        Al = mg.level_matrix(level).todense()
        P, R = transfer_matrices(kind, Al)
        ref = R @ Al @ P
        got = mg.level_matrix(level + 1).todense()
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())


def test_galerkin_poisson_is_the_poisson_matrix_of_twice_the_spacing():
    mg = pb.Multigrid(pb.poisson_1d(63))
    for level, n in enumerate(mg.levels):
        h = 1.0 / (n + 1)
        np.testing.assert_allclose(mg.level_matrix(level).todense(), pb.poisson_1d(n, h).todense(), rtol=1e-13)


def test_automatic_transfer_follows_grid_and_coefficient_jumps():
    assert pb.Multigrid(pb.poisson_1d(31)).transfer == "vertex"
    smooth_sys, _ = pm_diffusion_matrix(40, 10.0, seed=1, jumps=0)
    assert pb.Multigrid(smooth_sys).transfer == "cell"
    jumpy, _ = pm_diffusion_matrix(40, 10.0, seed=1)
    assert pb.Multigrid(jumpy).transfer == "matrix"
    assert pb.Multigrid(pb.BandedMatrix.from_scipy(pb.poisson_1d(31).to_scipy())).transfer == "matrix"


# ---- cycles against a dense two-grid -------------------------------------------------------

SMOOTHERS = ["gauss_seidel", "gauss_seidel_forward", "symmetric_gauss_seidel", "red_black", "jacobi"]


@pytest.mark.parametrize("smoother", SMOOTHERS)
@pytest.mark.parametrize("pre,post", [(2, 2), (1, 0), (0, 3)])
@pytest.mark.parametrize("case", ["poisson_odd", "poisson_even", "diffusion_cell", "diffusion_matrix"])
def test_two_level_cycle_equals_dense_two_grid(smoother, pre, post, case):
    if case == "poisson_odd":
        A, kind = pb.poisson_1d(31), "vertex"
    elif case == "poisson_even":
        A, kind = pb.poisson_1d(36), "vertex"
    elif case == "diffusion_cell":
        A, kind = pm_diffusion_matrix(29, 50.0, seed=2, jumps=0)[0], "cell"
    else:
        A, kind = pm_diffusion_matrix(40, 1e3, seed=5)[0], "matrix"
    mg = pb.Multigrid(A, smoother=smoother, pre=pre, post=post, max_levels=2, transfer=kind)
    assert len(mg.levels) == 2
    Ad = A.todense()
    P, R = transfer_matrices(kind, Ad)
    b = RNG.standard_normal(A.n)
    x = RNG.standard_normal(A.n)
    x_copy, b_copy = x.copy(), b.copy()
    ref = two_grid(Ad, b, x, P, R, smoother, pre, post)
    got = mg.cycle(x, b)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())
    np.testing.assert_array_equal(x, x_copy)
    np.testing.assert_array_equal(b, b_copy)


def test_jacobi_weight_is_settable():
    A = pb.poisson_1d(31)
    mg = pb.Multigrid(A, smoother="jacobi", omega=0.5, pre=1, post=1, max_levels=2)
    P, R = transfer_matrices("vertex", A.todense())
    b, x = RNG.standard_normal(31), RNG.standard_normal(31)
    Ad = A.todense()
    x1 = jacobi(Ad, b, x, 0.5)
    x1 = x1 + P @ np.linalg.solve(R @ Ad @ P, R @ (b - Ad @ x1))
    ref = jacobi(Ad, b, x1, 0.5)
    np.testing.assert_allclose(mg.cycle(x, b), ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())


# ---- the U-net form ---------------------------------------------------------------------------

@pytest.mark.parametrize("cycle", ["V", "W", "F"])
@pytest.mark.parametrize("smoother", SMOOTHERS)
@pytest.mark.parametrize("matrix", ["poisson", "diffusion"])
def test_unet_form_equals_classical_cycle(cycle, smoother, matrix):
    A = pb.poisson_1d(100) if matrix == "poisson" else pm_diffusion_matrix(77, 1e3, seed=9)[0]
    mg = pb.Multigrid(A, smoother=smoother, cycle=cycle, pre=2, post=1)
    assert len(mg.levels) >= 4
    b = RNG.standard_normal(A.n)
    x = RNG.standard_normal(A.n)
    channels = mg.unet_cycle(x, b)
    assert channels.shape == (3, A.n)
    classical = mg.cycle(x, b)
    scale = np.abs(classical).max()
    np.testing.assert_allclose(channels[0], classical, rtol=1e-12, atol=1e-12 * scale)
    np.testing.assert_array_equal(channels[1], b)
    np.testing.assert_allclose(channels[2], b - A.todense() @ channels[0], rtol=1e-10,
                               atol=1e-12 * np.abs(b).max() * 1e3)


def test_unet_form_of_two_level_cycle_with_exact_coarse_solve_matches_dense_formula():
    A = pb.poisson_1d(63)
    mg = pb.Multigrid(A, max_levels=2)
    P, R = transfer_matrices("vertex", A.todense())
    b = RNG.standard_normal(63)
    ref = two_grid(A.todense(), b, np.zeros(63), P, R, "gauss_seidel", 2, 2)
    np.testing.assert_allclose(mg.unet_cycle(np.zeros(63), b)[0], ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())


def test_unet_and_cycles_accept_batches():
    mg = pb.Multigrid(pb.poisson_1d(40))
    b = RNG.standard_normal((3, 40))
    x = RNG.standard_normal((3, 40))
    out = mg.cycle(x, b)
    net = mg.unet_cycle(x, b)
    assert out.shape == (3, 40) and net.shape == (3, 3, 40)
    for r in range(3):
        np.testing.assert_allclose(out[r], mg.cycle(x[r], b[r]), rtol=0, atol=0)
        np.testing.assert_allclose(net[r, 0], out[r], rtol=1e-12, atol=1e-12)


# ---- convergence -------------------------------------------------------------------------------

MESH_SIZES = [2**k - 1 for k in range(6, 21)] + [100, 1000, 4096, 10_000, 65_536, 99_999, 1_000_000, 2**20 + 1]


def test_poisson_mesh_independence_table(capsys):
    """V(2,2) Gauss-Seidel <= 0.1 and V(1,1) weighted Jacobi <= 0.35 at every n (release library)."""
    rows = []
    for n in MESH_SIZES:
        A = pb.poisson_1d(n)
        gs = asymptotic_factor(pb.Multigrid(A), n)
        jac = asymptotic_factor(pb.Multigrid(A, smoother="jacobi", pre=1, post=1), n)
        rows.append((n, gs, jac))
        assert gs <= 0.1, (n, gs)
        assert jac <= 0.35, (n, jac)
    with capsys.disabled():
        print("\n  n          V(2,2) GS   V(1,1) Jacobi   (asymptotic residual reduction per cycle)")
        for n, gs, jac in rows:
            print(f"  {n:<10d} {gs:9.4f}   {jac:9.4f}")


@pytest.mark.parametrize("n", [2**k - 1 for k in range(6, 17, 2)] + [100, 4096, 65_536, 99_999])
@pytest.mark.parametrize("smoother,pre,post", [("gauss_seidel", 2, 2), ("jacobi", 1, 1), ("symmetric_gauss_seidel", 1, 1)])
def test_w_and_f_cycles_are_at_least_as_good_as_v(n, smoother, pre, post):
    A = pb.poisson_1d(n)
    factors = {c: asymptotic_factor(pb.Multigrid(A, cycle=c, smoother=smoother, pre=pre, post=post), n)
               for c in ["V", "W", "F"]}
    assert factors["W"] <= factors["V"] * (1 + 1e-6)
    assert factors["F"] <= factors["V"] * (1 + 1e-6)


def test_solve_reaches_tolerance_above_the_rounding_floor():
    n = 2**16 - 1
    A = pb.poisson_1d(n)
    x_true = RNG.standard_normal(n)
    b = A.matvec(x_true)
    mg = pb.Multigrid(A)
    x, info = mg.solve(b, tol=1e-9)
    assert info["converged"] and info["cycles"] <= 12
    r = info["relative_residuals"]
    assert r[-1] <= 1e-9 and np.all(r[1:] < r[:-1])
    assert info["convergence_factor"] <= 0.1
    np.testing.assert_allclose(np.linalg.norm(b - A.matvec(x)) / np.linalg.norm(b), r[-1], rtol=1e-6)
    np.testing.assert_allclose(info["convergence_factor"], (r[-1] / r[0]) ** (1 / info["cycles"]), rtol=1e-12)


@pytest.mark.parametrize("n", [255, 256, 1001, 4096])
@pytest.mark.parametrize("tau_over_h2", [1.0, 1e2, 1e4])
@pytest.mark.parametrize("seed", [0, 1])
def test_diffusion_systems_with_jumping_perona_malik_weights_converge_fast(n, tau_over_h2, seed):
    A, w = pm_diffusion_matrix(n, tau_over_h2, seed)
    interior = w[:-1]
    assert interior.min() <= 1.1e-8 and interior.max() >= 0.99  # weights span 1e-8 ... 1
    mg = pb.Multigrid(A)
    assert mg.transfer == "matrix"
    assert asymptotic_factor(mg, n, seed=seed) <= 0.3
    b = np.random.default_rng(seed).standard_normal(n)
    x, info = mg.solve(b, tol=1e-10)
    assert info["converged"] and info["convergence_factor"] <= 0.3
    np.testing.assert_allclose(x, A.solve(b), rtol=1e-8, atol=1e-8 * np.abs(A.solve(b)).max())


def test_red_black_cycle_is_a_direct_solver_for_tridiagonal_systems():
    """Red (coarse) points first, then black: the pre-sweep ends with an F-relaxation, and with
    operator-induced interpolation one V-cycle solves a tridiagonal system (cyclic reduction)."""
    for A in [pb.poisson_1d(1023), pm_diffusion_matrix(1000, 1e3, seed=3)[0]]:
        mg = pb.Multigrid(A, smoother="red_black", pre=1, post=0, transfer="matrix")
        b = RNG.standard_normal(A.n)
        x, info = mg.solve(b, tol=1e-12, maxiter=1)
        assert info["converged"], info["message"]


# ---- bad input and non-convergence -------------------------------------------------------------

def test_tolerance_below_rounding_floor_stops_at_max_cycles_and_reports():
    n = 2**12 - 1
    mg = pb.Multigrid(pb.poisson_1d(n))
    x, info = mg.solve(np.ones(n) + RNG.uniform(size=n), tol=1e-18, maxiter=15)
    assert not info["converged"] and info["cycles"] == 15
    assert "not converged" in info["message"]
    assert np.all(np.isfinite(x))


def test_indefinite_system_does_not_hang_and_reports_non_convergence():
    n = 127
    h = 1.0 / (n + 1)
    A = pb.BandedMatrix([-1, 0, 1], [-np.ones(n - 1) / h**2, (2 - 300 * h * h) * np.ones(n) / h**2,
                                     -np.ones(n - 1) / h**2], grid="vertex")
    mg = pb.Multigrid(A)
    x, info = mg.solve(RNG.standard_normal(n), tol=1e-10, maxiter=25)
    assert not info["converged"] and info["cycles"] <= 25
    assert "converged" in info["message"] or "diverged" in info["message"]


def test_singular_system_is_a_clear_error():
    n = 64
    main = 2.0 * np.ones(n)
    main[[0, -1]] = 1.0
    A = pb.BandedMatrix([-1, 0, 1], [-np.ones(n - 1), main, -np.ones(n - 1)], grid="cell")
    with pytest.raises(PDEBlocksError, match="singular"):
        pb.Multigrid(A)


def test_hierarchy_needs_more_unknowns_than_the_coarsest_level():
    with pytest.raises(PDEBlocksError, match="too small"):
        pb.Multigrid(pb.poisson_1d(3))
    with pytest.raises(PDEBlocksError, match="too small"):
        pb.Multigrid(pb.poisson_1d(10), coarsest=10)
    assert pb.Multigrid(pb.poisson_1d(4)).levels == [4, 2]


def test_bad_solver_arguments_are_clear_errors():
    A = pb.poisson_1d(31)
    with pytest.raises(PDEBlocksError, match="smoother"):
        pb.Multigrid(A, smoother="sor")
    with pytest.raises(PDEBlocksError, match="cycle"):
        pb.Multigrid(A, cycle="X")
    with pytest.raises(PDEBlocksError, match="omega"):
        pb.Multigrid(A, smoother="gauss_seidel", omega=0.5)
    with pytest.raises(PDEBlocksError, match="omega"):
        pb.Multigrid(A, smoother="jacobi", omega=2.5)
    with pytest.raises(PDEBlocksError, match="smoothing"):
        pb.Multigrid(A, pre=0, post=0)
    with pytest.raises(PDEBlocksError, match="max_levels"):
        pb.Multigrid(A, max_levels=1)
    with pytest.raises(PDEBlocksError, match="transfer"):
        pb.Multigrid(A, transfer="bilinear")
    with pytest.raises(PDEBlocksError, match="square"):
        pb.Multigrid(np.ones((3, 4)))
    zero_diag = pb.BandedMatrix([-1, 0, 1], [np.ones(9), np.r_[np.ones(5), 0, np.ones(4)], np.ones(9)])
    with pytest.raises(PDEBlocksError, match="diagonal"):
        pb.Multigrid(zero_diag)


def test_bad_vectors_are_clear_errors_and_leave_inputs_unmodified():
    mg = pb.Multigrid(pb.poisson_1d(31))
    b = RNG.standard_normal(31)
    b[4] = np.nan
    b_copy = b.copy()
    with pytest.raises(PDEBlocksError, match="non-finite"):
        mg.solve(b)
    with pytest.raises(PDEBlocksError, match="non-finite"):
        mg.cycle(np.zeros(31), b)
    with pytest.raises(PDEBlocksError, match="non-finite"):
        mg.unet_cycle(np.zeros(31), b)
    np.testing.assert_array_equal(b, b_copy)
    with pytest.raises(PDEBlocksError, match="length"):
        mg.solve(np.ones(30))
    with pytest.raises(PDEBlocksError, match="shape"):
        mg.solve(np.ones(31), x0=np.ones(32))
    with pytest.raises(PDEBlocksError, match="same shape"):
        mg.cycle(np.ones(31), np.ones(30))
    with pytest.raises(PDEBlocksError, match="tol"):
        mg.solve(np.ones(31), tol=-1.0)
    with pytest.raises(PDEBlocksError, match="maxiter"):
        mg.solve(np.ones(31), maxiter=-1)
    with pytest.warns(DeprecationWarning), pytest.raises(PDEBlocksError, match="max_cycles"):
        mg.solve(np.ones(31), max_cycles=-1)   # the deprecated name, in its message
    with pytest.raises(PDEBlocksError, match="out of range"):
        mg.level_matrix(7)
    with pytest.raises(PDEBlocksError, match="out of range"):
        mg.prolong(3, np.ones(3))


def test_closed_hierarchy_is_an_error_not_a_crash():
    mg = pb.Multigrid(pb.poisson_1d(31))
    mg.close()
    with pytest.raises(PDEBlocksError, match="closed"):
        mg.solve(np.ones(31))
    mg.close()  # idempotent


def test_hierarchies_and_unets_release_their_handles():
    import ctypes
    from pdeblocks._lib import call, lib
    live = lib.pdb_live_handles

    def count():
        c = ctypes.c_int64()
        call(live, ctypes.addressof(c))
        return c.value

    before = count()
    mgs = [pb.Multigrid(pb.poisson_1d(31)) for _ in range(3)]
    net = pb.TwoLevelUNet()
    assert count() == before + 4
    mgs[0].close()
    del mgs, net
    import gc
    gc.collect()
    assert count() == before

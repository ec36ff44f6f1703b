"""Conjugate gradients (plain and multigrid-preconditioned), semi-implicit diffusion and the
generic two-level U-net, against numpy transcriptions written here."""
import numpy as np
import pytest

import pdeblocks as pb
from pdeblocks import PDEBlocksError, NotConvergedError

RNG = np.random.default_rng(11)


def mirror(j, n):
    period = 2 * n
    k = j % period
    return k if k < n else period - 1 - k


def dense_stencil(weights, offset, n):
    K = np.zeros((n, n))
    for i in range(n):
        for j, w in enumerate(weights):
            K[i, mirror(i + offset + j, n)] += w
    return K


def pm_g(s2, lam):
    return np.exp(-s2 / (2 * lam * lam))


def pcg_reference(A, b, iterations, precondition=lambda r: r.copy()):
    """Hestenes-Stiefel PCG, textbook form."""
    x = np.zeros_like(b)
    r = b - A @ x
    z = precondition(r)
    p = z.copy()
    rz = r @ z
    for _ in range(iterations):
        q = A @ p
        alpha = rz / (p @ q)
        x = x + alpha * p
        r = r - alpha * q
        z = precondition(r)
        rz_new = r @ z
        p = z + (rz_new / rz) * p
        rz = rz_new
    return x


def pm_system(n, tau_over_h2, seed=0):
    rng = np.random.default_rng(seed)
    h = 1.0 / n
    u = np.cumsum(rng.choice([0.0, 0.0, 0.0, 1.0, -1.0], n)) + 1e-3 * rng.standard_normal(n)
    K = pb.DifferenceOperator([0, 1], h=h)
    w = pb.Diffusivity("perona_malik", (1.0 / h) / 6.0).g(K.apply(u) ** 2)
    return pb.diffusion_system(K, w, tau_over_h2 * h * h)


# ---- conjugate gradients -----------------------------------------------------------

def test_cg_iterates_equal_textbook_cg():
    A = pb.poisson_1d(200)
    b = RNG.standard_normal(200)
    x, info = pb.cg(A, b, tol=0.0, maxiter=7)
    assert info["iterations"] == 7 and not info["converged"]
    ref = pcg_reference(A.todense(), b, 7)
    np.testing.assert_allclose(x, ref, rtol=1e-10, atol=1e-12 * np.abs(ref).max())


def test_multigrid_preconditioned_cg_iterates_equal_textbook_pcg():
    A = pm_system(300, 1e3, seed=2)
    mg = pb.Multigrid(A)
    b = RNG.standard_normal(300)
    x, info = pb.cg(A, b, preconditioner=mg, tol=0.0, maxiter=4)
    ref = pcg_reference(A.todense(), b, 4, precondition=lambda r: mg.cycle(np.zeros_like(r), r))
    np.testing.assert_allclose(x, ref, rtol=1e-9, atol=1e-11 * np.abs(ref).max())


@pytest.mark.parametrize("matrix", ["poisson", "pm"])
def test_multigrid_preconditioner_makes_cg_converge_in_few_iterations(matrix):
    n = 2**14 - 1
    A = pb.poisson_1d(n) if matrix == "poisson" else pm_system(n, 1e4, seed=3)
    x_true = RNG.standard_normal(n)
    b = A.matvec(x_true)
    x, info = pb.cg(A, b, preconditioner="multigrid", tol=1e-10)
    assert info["converged"] and info["iterations"] <= 10, info["message"]
    plain_x, plain = pb.cg(A, b, tol=1e-10, maxiter=200)
    assert plain["iterations"] > 5 * info["iterations"]
    assert np.linalg.norm(b - A.matvec(x)) <= 1e-9 * np.linalg.norm(b)
    for smoother, pre in [("jacobi", 1), ("symmetric_gauss_seidel", 1), ("red_black", 2)]:
        _, i2 = pb.cg(A, b, preconditioner=pb.Multigrid(A, smoother=smoother, pre=pre, post=pre), tol=1e-10)
        assert i2["converged"] and i2["iterations"] <= 25


def test_cg_refuses_non_symmetric_systems_and_non_symmetric_preconditioners():
    n = 31
    A = pb.poisson_1d(n)
    N = pb.BandedMatrix([-1, 0, 1], [-np.ones(n - 1), 3 * np.ones(n), -0.5 * np.ones(n - 1)])
    with pytest.raises(PDEBlocksError, match="symmetric"):
        pb.cg(N, np.ones(n))
    for mg in [pb.Multigrid(A, smoother="gauss_seidel_forward"), pb.Multigrid(A, pre=2, post=1),
               pb.Multigrid(A, cycle="F")]:
        with pytest.raises(PDEBlocksError, match="symmetric cycle"):
            pb.cg(A, np.ones(n), preconditioner=mg)
    with pytest.raises(PDEBlocksError, match="order"):
        pb.cg(A, np.ones(n), preconditioner=pb.Multigrid(pb.poisson_1d(40)))
    with pytest.raises(PDEBlocksError, match="preconditioner"):
        pb.cg(A, np.ones(n), preconditioner="ilu")


def test_cg_breakdown_on_indefinite_matrix_is_reported_not_hung():
    A = pb.BandedMatrix([-1, 0, 1], [np.ones(9), np.r_[1.0, -1.0] .repeat(5), np.ones(9)])
    x, info = pb.cg(A, RNG.standard_normal(10), tol=1e-12, maxiter=50)
    assert not info["converged"]
    assert info["iterations"] <= 50


def test_cg_bad_vectors():
    A = pb.poisson_1d(10)
    with pytest.raises(PDEBlocksError, match="length"):
        pb.cg(A, np.ones(9))
    b = np.ones(10)
    b[2] = np.inf
    with pytest.raises(PDEBlocksError, match="non-finite"):
        pb.cg(A, b)


# ---- semi-implicit diffusion ----------------------------------------------------------------

def semi_implicit_reference(f, weights, offset, lam, tau, steps):
    n = f.size
    Kd = dense_stencil(weights, offset, n)
    u = f.copy()
    for _ in range(steps):
        w = pm_g((Kd @ u) ** 2, lam)
        u = np.linalg.solve(np.eye(n) + tau * Kd.T @ np.diag(w) @ Kd, u)
    return u


def noisy_steps(n, seed):
    rng = np.random.default_rng(seed)
    return np.repeat(rng.uniform(0, 1, 5), -(-n // 5))[:n] + 0.05 * rng.standard_normal(n)


@pytest.mark.parametrize("weights,offset", [([-1.0, 1.0], 0), ([1.0, -2.0, 1.0], -1), ([-0.5, 0.0, 0.5], -1)])
def test_semi_implicit_direct_equals_dense_reference(weights, offset):
    n = 60
    h = 1.0 / n
    K = pb.Stencil(np.array(weights) / h, offset)
    f = noisy_steps(n, 1)
    lam = 0.3 / h
    tau = 0.5 * h * h
    got = pb.semi_implicit(f, K, pb.Diffusivity("perona_malik", lam), tau, 4)
    ref = semi_implicit_reference(f, K.weights, K.offset, lam, tau, 4)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n", [255, 256, 1000])
def test_semi_implicit_direct_and_multigrid_agree(n):
    h = 1.0 / n
    K = pb.DifferenceOperator([0, 1], h=h)
    g = pb.Diffusivity("perona_malik", 0.2 / h)
    f = np.stack([noisy_steps(n, s) for s in range(3)])
    tau = 1e4 * pb.stable_tau(K, g, n)
    direct = pb.semi_implicit(f, K, g, tau, 5)
    # eigenvalues of A are >= 1, so the error of each step is at most its residual (tol 1e-10 relative)
    multigrid = pb.semi_implicit(f, K, g, tau, 5, solver="multigrid")
    np.testing.assert_allclose(multigrid, direct, rtol=0, atol=1e-9)


@pytest.mark.parametrize("diffusivity", ["perona_malik", "charbonnier", "weickert", "linear"])
@pytest.mark.parametrize("solver", ["direct", "multigrid"])
def test_semi_implicit_max_min_principle_and_norm_decrease_at_huge_tau(diffusivity, solver):
    n = 400
    h = 1.0 / n
    K = pb.DifferenceOperator([0, 1], h=h)
    g = pb.Diffusivity(diffusivity, 0.5 / h)
    f = noisy_steps(n, 4)
    tau = 1e4 * pb.stable_tau(K, g, n)  # 10^4 times the explicit bound
    u = f
    norms = [np.linalg.norm(f)]
    for _ in range(10):
        u = pb.semi_implicit(u, K, g, tau, 1, solver=solver)
        assert u.min() >= f.min() - 1e-12 and u.max() <= f.max() + 1e-12
        norms.append(np.linalg.norm(u))
    assert np.all(np.diff(norms) <= 1e-12 * norms[0])
    tol = 1e-12 if solver == "direct" else 1e-9
    np.testing.assert_allclose(pb.semi_implicit(f, K, g, tau, 10, solver=solver), u, rtol=0, atol=tol)


def test_semi_implicit_bad_input_and_unreachable_tolerance():
    K = pb.DifferenceOperator([0, 1])
    f = noisy_steps(50, 0)
    f_copy = f.copy()
    with pytest.raises(PDEBlocksError, match="tau"):
        pb.semi_implicit(f, K, "perona_malik", 0.0, 1)
    with pytest.raises(PDEBlocksError, match="steps"):
        pb.semi_implicit(f, K, "perona_malik", 1.0, -1)
    with pytest.raises(PDEBlocksError, match="solver"):
        pb.semi_implicit(f, K, "perona_malik", 1.0, 1, solver="jacobi")
    with pytest.raises(PDEBlocksError, match="too small"):
        pb.semi_implicit(f[:3], K, "perona_malik", 1.0, 1, solver="multigrid")
    bad = f.copy()
    bad[3] = np.nan
    with pytest.raises(PDEBlocksError, match="non-finite"):
        pb.semi_implicit(bad, K, "perona_malik", 1.0, 1)
    with pytest.raises(NotConvergedError, match="not converged"):
        pb.semi_implicit(f, K, "perona_malik", 10.0, 2, solver="multigrid", tol=1e-30, maxiter=3)
    np.testing.assert_array_equal(f, f_copy)


# ---- generic two-level U-net ------------------------------------------------------------------

def cell_P(n):
    nc = (n + 1) // 2
    P = np.zeros((n, nc))
    for i in range(n):
        J = i // 2
        far = min(max(J - 1 if i % 2 == 0 else J + 1, 0), nc - 1)
        P[i, J] += 0.75
        P[i, far] += 0.25
    return P


def vertex_P(n):
    nc = n // 2
    P = np.zeros((n, nc))
    for i in range(n):
        if i % 2:
            P[i, i // 2] = 1
        else:
            if i // 2 - 1 >= 0:
                P[i, i // 2 - 1] = 0.5
            if i // 2 < nc:
                P[i, i // 2] = 0.5
    return P


def apply_chain(blocks, u):
    for block in blocks:
        if isinstance(block, pb.Stencil):
            u = dense_stencil(block.weights, block.offset, u.size) @ u
        else:
            K, lam, tau = block[0], block[1].lam, block[2]
            Kd = dense_stencil(K.weights, K.offset, u.size)
            s = Kd @ u
            u = u - tau * Kd.T @ (pm_g(s * s, lam) * s)
    return u


@pytest.mark.parametrize("transfer,P", [("cell", cell_P), ("vertex", vertex_P)])
@pytest.mark.parametrize("n", [16, 25])
def test_two_level_unet_equals_numpy_transcription(transfer, P, n):
    g = pb.Diffusivity("perona_malik", 0.7)
    D = pb.Stencil([-1.0, 1.0])
    pre = [(D, g, 0.2), pb.Stencil([0.25, 0.5, 0.25], -1)]
    coarse = [(D, g, 0.3), (D, g, 0.3)]
    post = [pb.Stencil([1.0, 0.5], 0), (D, g, 0.1)]
    net = pb.TwoLevelUNet(pre, coarse, post, transfer=transfer)
    f = RNG.standard_normal((3, n))
    f_copy = f.copy()
    out = net(f)
    Pm = P(n)
    R = 0.5 * Pm.T
    for r in range(3):
        ft = apply_chain(pre, f[r])
        fH = apply_chain(coarse, R @ ft)
        ref = apply_chain(post, ft + Pm @ fH)
        np.testing.assert_allclose(out[r], ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(f, f_copy)


def test_two_level_unet_with_empty_chains_is_identity_plus_PR():
    n = 20
    net = pb.TwoLevelUNet()
    f = RNG.standard_normal(n)
    Pm = cell_P(n)
    np.testing.assert_allclose(net(f), f + Pm @ (0.5 * Pm.T @ f), rtol=1e-13, atol=1e-13)
    # constants: R averages, P reproduces them
    np.testing.assert_allclose(net(np.ones(n)), 2 * np.ones(n), rtol=1e-14)


def test_two_level_unet_bad_input():
    with pytest.raises(PDEBlocksError, match="block"):
        pb.TwoLevelUNet(pre=[np.ones(3)])
    with pytest.raises(PDEBlocksError, match="transfer"):
        pb.TwoLevelUNet(transfer="matrix")
    with pytest.raises(PDEBlocksError, match="tau"):
        pb.TwoLevelUNet(pre=[(pb.Stencil([1.0, -1.0]), "perona_malik", float("nan"))])
    net = pb.TwoLevelUNet()
    with pytest.raises(PDEBlocksError):
        net(np.ones(1))

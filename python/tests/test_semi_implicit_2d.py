"""Semi-implicit image diffusion (``semi_implicit`` with a filter bank): the multigrid and
direct solvers against an independent scipy transcription of the scheme, and the
properties of an exact step at time steps far above the explicit bound (max-min principle,
conservation of the mean) on a real photograph and random images of non-square shapes."""
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import pdeblocks as pb
from pdeblocks.stencil2d import stable_tau_2d
from pdeblocks import PDEBlocksError


def forward_difference(n):
    """Forward differences with the half-sample mirror (last row zero), divided by h."""
    D = sp.diags([-np.ones(n), np.ones(n - 1)], [0, 1]).tolil()
    D[n - 1, n - 1] = 0.0
    return D.tocsr()


def reference(f, g, tau, steps, h=1.0):
    """The scheme transcribed independently: Kronecker-product gradient, g(|grad u|^2) on
    both filters, one sparse solve per step."""
    H, W = f.shape
    Dx = sp.kron(sp.eye(H), forward_difference(W)) / h
    Dy = sp.kron(forward_difference(H), sp.eye(W)) / h
    u = f.ravel().copy()
    for _ in range(steps):
        w = g.g((Dx @ u) ** 2 + (Dy @ u) ** 2)
        A = sp.eye(H * W) + tau * (Dx.T @ sp.diags(w) @ Dx + Dy.T @ sp.diags(w) @ Dy)
        u = spla.spsolve(A.tocsc(), u)
    return u.reshape(H, W)


def camera(shape):
    """skimage's cameraman, block-averaged down and cropped to `shape`, values in [0, 1]."""
    skdata = pytest.importorskip("skimage.data")
    img = skdata.camera().astype(float) / 255.0
    f = img.reshape(128, 4, 128, 4).mean(axis=(1, 3))
    return np.ascontiguousarray(f[:shape[0], :shape[1]])


def big_tau(K, g, shape):
    return 1e4 * stable_tau_2d(K, g, shape)


G = pb.Diffusivity("perona_malik", 0.05)


@pytest.mark.parametrize("shape", [(33, 47), (64, 40), (17, 90)])
@pytest.mark.parametrize("solver", ["direct", "multigrid"])
def test_solvers_match_independent_transcription(shape, solver):
    rng = np.random.default_rng(shape[0])
    f = rng.random(shape)
    K = pb.gradient_2d(0.5)
    tau = big_tau(K, G, shape)
    u = pb.semi_implicit(f, K, G, tau, 3, solver=solver)
    assert np.max(np.abs(u - reference(f, G, tau, 3, h=0.5))) < 1e-8


def test_multigrid_agrees_with_direct_on_a_photograph():
    f = camera((96, 128))
    K = pb.gradient_2d()
    tau = big_tau(K, G, f.shape)
    mg = pb.semi_implicit(f, K, G, tau, 4, solver="multigrid")
    direct = pb.semi_implicit(f, K, G, tau, 4, solver="direct")
    assert np.max(np.abs(mg - direct)) < 1e-8
    assert np.max(np.abs(mg - f)) > 1e-2   # it did diffuse


@pytest.mark.parametrize("source", ["camera", "random", "rough"])
@pytest.mark.parametrize("solver", ["direct", "multigrid"])
def test_max_min_principle_and_mean_at_huge_tau(source, solver):
    shape = (72, 50)
    rng = np.random.default_rng(5)
    f = {"camera": lambda: camera(shape), "random": lambda: rng.random(shape) * 3 - 1,
         # gradients ~10 / lam 0.05: weights down to subnormal numbers and exact zeros
         "rough": lambda: rng.standard_normal(shape) * 3 + 1}[source]()
    K = pb.gradient_2d()
    tau = big_tau(K, G, shape)
    slack = 1e-10 if solver == "direct" else 1e-8 * np.abs(f).max()
    u = f
    for _ in range(3):   # step by step: each step obeys the principle w.r.t. its own input
        v = pb.semi_implicit(u, K, G, tau, 1, solver=solver)
        assert v.min() >= u.min() - slack and v.max() <= u.max() + slack
        assert abs(v.mean() - u.mean()) <= slack
        u = v
    assert np.max(np.abs(u - f)) > 1e-6   # it did diffuse


def test_batch_evolves_each_image_on_its_own():
    rng = np.random.default_rng(1)
    f = rng.random((3, 20, 31))
    K = pb.gradient_2d()
    u = pb.semi_implicit(f, K, "charbonnier", 50.0, 2, solver="multigrid")
    for b in range(3):
        assert np.max(np.abs(u[b] - reference(f[b], pb.Diffusivity("charbonnier"), 50.0, 2))) < 1e-8


def test_zero_steps_and_constant_image_are_fixed_points():
    f = np.full((9, 14), 2.5)
    K = pb.gradient_2d()
    assert np.array_equal(pb.semi_implicit(f + np.arange(14), K, G, 1.0, 0, solver="multigrid"), f + np.arange(14))
    assert np.max(np.abs(pb.semi_implicit(f, K, G, 1e6, 2, solver="multigrid") - 2.5)) < 1e-12


def test_tight_tolerance_is_met_per_step():
    """The documented bound: ||u - A^{-1} u^k|| <= tol ||u^k|| for one step."""
    f = camera((64, 64))
    K = pb.gradient_2d()
    tau = big_tau(K, G, f.shape)
    exact = reference(f, G, tau, 1)
    for tol in (1e-4, 1e-8):
        u = pb.semi_implicit(f, K, G, tau, 1, solver="multigrid", tol=tol)
        assert np.linalg.norm(u - exact) <= tol * np.linalg.norm(f)


@pytest.mark.parametrize("kwargs, match", [
    ({"tau": 0.0}, "tau"), ({"tau": float("nan")}, "tau"), ({"steps": -1}, "steps"),
    ({"solver": "cholesky"}, "solver"), ({"tol": 0.0}, "tol"), ({"maxiter": 0}, "maxiter"),
    ({"progress": True}, "progress"),
])
def test_bad_input_is_refused(kwargs, match):
    f = np.random.default_rng(0).random((8, 9))
    before = f.copy()
    args = {"tau": 1.0, "steps": 1, "solver": "multigrid", **kwargs}
    tau, steps = args.pop("tau"), args.pop("steps")
    with pytest.raises(PDEBlocksError, match=match):
        pb.semi_implicit(f, pb.gradient_2d(), G, tau, steps, **args)
    assert np.array_equal(f, before)


def test_non_finite_image_and_wide_filters_are_refused():
    f = np.zeros((8, 8))
    f[3, 3] = np.nan
    with pytest.raises(PDEBlocksError, match="non-finite"):
        pb.semi_implicit(f, pb.gradient_2d(), G, 1.0, 1, solver="direct")
    wide = [pb.Stencil2D([[1.0, -2.0, 1.0]])]
    with pytest.raises(PDEBlocksError, match="2.2 window"):
        pb.semi_implicit(np.zeros((8, 8)), wide, G, 1.0, 1, solver="multigrid")


def test_not_converging_within_maxiter_raises():
    f = camera((64, 64))
    K = pb.gradient_2d()
    with pytest.raises(pb.NotConvergedError, match="maxiter = 2"):
        pb.semi_implicit(f, K, G, big_tau(K, G, f.shape), 1, solver="multigrid", tol=1e-12, maxiter=2)

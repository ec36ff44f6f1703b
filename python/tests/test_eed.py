"""EED (pdb.eed): against a dense numpy transcription, Theorem 2's bound, mean, edges,
FED, and bad input through the C entry point (outputs untouched)."""
import ctypes

import numpy as np
import pytest

import pdeblocks as pdb
from pdeblocks._lib import lib
from pdeblocks.eed import eed_stable_tau
from image_eed_reference import eed_step, smooth

KINDS = list(pdb.DIFFUSIVITIES)
SHAPES = [(1, 1), (1, 5), (2, 1), (2, 2), (2, 3), (5, 7), (7, 4)]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", SHAPES)
def test_eed_steps_match_dense_transcription(kind, shape):
    rng = np.random.default_rng(hash((kind, shape)) % 2**32)
    for sigma, h in [(0.0, 1.0), (0.8, 0.5), (2.0, 1.0)]:
        u = rng.standard_normal(shape)
        tau = min(0.9 * eed_stable_tau(shape, 0.3, kind, h), 1.0)  # +inf for 1 x 1: K = 0
        got = pdb.eed(u, 0.3, sigma, 2 * tau, tau=tau, diffusivity=kind, h=h)
        want = eed_step(eed_step(u, h, sigma, kind, 0.3, tau), h, sigma, kind, 0.3, tau)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_gaussian_presmoothing_matches_dense_double_sum():
    # with M = I (linear g) the step is sigma-independent; check u_sigma through a kind
    # whose tensor depends on it: one Charbonnier step against the transcription.
    rng = np.random.default_rng(3)
    u = rng.standard_normal((6, 9))
    for sigma in [0.3, 1.0, 3.5]:  # 3.5: radius 11 > both sides (periodic mirror)
        tau = eed_stable_tau(u.shape, 0.2, "charbonnier")
        got = pdb.eed(u, 0.2, sigma, tau, tau=tau, diffusivity="charbonnier")
        np.testing.assert_allclose(got, eed_step(u, 1.0, sigma, "charbonnier", 0.2, tau), atol=1e-12)
    # the transcription of u_sigma itself: sum 1, mean kept, sigma = 0 identity
    us = smooth(u, 1.3)
    assert abs(us.mean() - u.mean()) < 1e-14
    np.testing.assert_array_equal(smooth(u, 0.0), u)


@pytest.mark.parametrize("kind", KINDS)
def test_norm_nonincreasing_and_mean_kept_at_the_bound(kind):
    rng = np.random.default_rng(11)
    u = rng.standard_normal((3, 10, 13))
    tau = eed_stable_tau((10, 13), 0.2, kind)
    for _ in range(10):
        v = pdb.eed(u, 0.2, 1.0, tau, tau=tau, diffusivity=kind)
        assert np.all(np.linalg.norm(v.reshape(3, -1), axis=1) <= np.linalg.norm(u.reshape(3, -1), axis=1) * (1 + 1e-14))
        np.testing.assert_allclose(v.mean(axis=(1, 2)), u.mean(axis=(1, 2)), atol=1e-13)
        u = v
    # and at the exact bound 2/8 of gradient_2d (lambda_max < 8), the check switched off
    w = rng.standard_normal((9, 6))
    for _ in range(10):
        v = pdb.eed(w, 0.2, 1.0, 0.25, tau=0.25, diffusivity=kind, check_stability=False)
        assert np.linalg.norm(v) <= np.linalg.norm(w) * (1 + 1e-14)
        w = v


def test_eed_keeps_an_edge_that_linear_diffusion_blurs():
    rng = np.random.default_rng(5)
    H, W = 48, 48
    clean = np.where(np.arange(W) < W // 2, 0.2, 0.8)[None, :].repeat(H, axis=0)
    noisy = clean + 0.05 * rng.standard_normal((H, W))
    t = 20.0
    e = pdb.eed(noisy, 0.05, 1.5, t)
    lin = pdb.eed(noisy, 0.05, 1.5, t, diffusivity="linear")  # M = I: homogeneous diffusion
    def contrast(u):
        return u[:, W // 2:W // 2 + 2].mean() - u[:, W // 2 - 2:W // 2].mean()
    assert contrast(e) > 0.5 and contrast(e) > 2 * contrast(lin)
    # along the edge (inside each half) EED smooths: the noise is mostly gone
    assert np.std(e[:, 4:W // 2 - 4] - 0.2) < 0.3 * 0.05
    assert np.std(e[:, W // 2 + 4:-4] - 0.8) < 0.3 * 0.05


def test_fed_agrees_with_explicit_to_the_same_stopping_time():
    rng = np.random.default_rng(7)
    x = np.linspace(-1, 1, 40)
    u = np.tanh(5 * x)[None, :] * np.cos(2 * x)[:, None] + 0.05 * rng.standard_normal((40, 40))
    t = 8.0
    explicit = pdb.eed(u, 0.1, 1.0, t)
    fed = pdb.eed(u, 0.1, 1.0, t, scheme="fed", cycles=40)
    change = np.linalg.norm(explicit - u)
    assert np.linalg.norm(fed - explicit) < 0.05 * change
    assert abs(fed.mean() - u.mean()) < 1e-13 and np.linalg.norm(fed) <= np.linalg.norm(u)
    np.testing.assert_array_equal(pdb.eed(u, 0.1, 1.0, 0.0), u)
    np.testing.assert_array_equal(pdb.eed(u, 0.1, 1.0, 0.0, scheme="fed"), u)


def test_refusal_above_the_bound():
    u = np.random.default_rng(1).standard_normal((8, 8))
    bound = eed_stable_tau((8, 8), 0.1)
    with pytest.raises(pdb.UnstableError):
        pdb.eed(u, 0.1, 1.0, 1.0, tau=1.01 * bound)
    with pytest.raises(pdb.UnstableError):
        pdb.eed(u, 0.1, 1.0, 1.0, tau=1.01 * bound, scheme="fed")
    pdb.eed(u, 0.1, 1.0, 1.0, tau=1.01 * bound, check_stability=False)


@pytest.mark.parametrize("case", ["nan", "sigma", "zero_height", "zero_batch", "tau", "kind"])
def test_bad_input_leaves_the_output_untouched(case):
    f = np.random.default_rng(2).standard_normal((3, 4, 5))
    out = np.full_like(f, 42.0)
    args = dict(f=f, batch=3, height=4, width=5, h=1.0, kind=pdb.Diffusivity("weickert").kind, lam=0.1,
                sigma=1.0, tau=0.1, steps=2)
    if case == "nan":
        f[1, 2, 3] = np.nan
    elif case == "sigma":
        args["sigma"] = -1.0
    elif case == "zero_height":
        args["height"] = 0
    elif case == "zero_batch":
        args["batch"] = 0
    elif case == "tau":
        args["tau"] = float("inf")
    elif case == "kind":
        args["kind"] = 99
    a = args
    status = lib.pdb_eed(a["f"].ctypes.data, a["batch"], a["height"], a["width"], a["h"], a["kind"], a["lam"],
                         a["sigma"], a["tau"], a["steps"], 0, out.ctypes.data)
    assert status != 0 and lib.pdb_last_error()
    assert np.all(out == 42.0)
    used = ctypes.c_int64(-1)
    status = lib.pdb_eed_fed(a["f"].ctypes.data, a["batch"], a["height"], a["width"], a["h"], a["kind"], a["lam"],
                             a["sigma"], 1.0, a["tau"] if case == "tau" else 0.0, 0, 0, out.ctypes.data,
                             ctypes.addressof(used), None, None)
    assert status != 0 and np.all(out == 42.0) and used.value == -1


def test_python_argument_errors():
    u = np.zeros((4, 4))
    with pytest.raises(pdb.PDEBlocksError):
        pdb.eed(np.zeros(5), 0.1, 1.0, 1.0)                 # 1-D
    with pytest.raises(pdb.PDEBlocksError):
        pdb.eed(np.zeros((2, 2, 2, 2)), 0.1, 1.0, 1.0)      # 4-D
    with pytest.raises(pdb.PDEBlocksError):
        pdb.eed(u, 0.1, -1.0, 1.0)
    with pytest.raises(pdb.PDEBlocksError):
        pdb.eed(np.zeros((0, 4)), 0.1, 1.0, 1.0)
    with pytest.raises(pdb.PDEBlocksError):
        pdb.eed(u, 0.1, 1.0, -1.0)
    with pytest.raises(pdb.PDEBlocksError):
        pdb.eed(u, 0.1, 1.0, 1.0, scheme="implicit")
    with pytest.raises(pdb.PDEBlocksError):
        pdb.eed(u, 0.1, 1.0, 1.0, diffusivity="nope")
    with pytest.raises(pdb.PDEBlocksError):
        pdb.eed(u, 0.1, 1.0, 1.0, cycles=3)


def test_in_place_and_batch_equal_single_images():
    rng = np.random.default_rng(9)
    f = rng.standard_normal((3, 6, 11))
    batch = pdb.eed(f, 0.2, 1.0, 1.0)
    for b in range(3):
        np.testing.assert_array_equal(batch[b], pdb.eed(f[b], 0.2, 1.0, 1.0))

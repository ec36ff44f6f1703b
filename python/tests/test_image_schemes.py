"""FSI, FED, implicit and evolve on images; stability, conservation, max-min, bad input."""
import numpy as np
import pytest

import pdeblocks as pdb
from pdeblocks import PDEBlocksError
from pdeblocks.stencil2d import Stencil2D, gradient_2d
from image_reference import matrix, step
from reference_diffusivities import REFERENCE

KINDS = list(REFERENCE)
COUPLINGS = ["isotropic", "channelwise"]
# the bound of Theorem 2 for gradient_2d with sup g = 1 is 2/8; the certified lambda_max may be
# larger than 8 (then the library's bound is smaller): never run above what it accepts
TAU_MAX_MIN = 0.25


def smooth_image(h, w, seed):
    y, x = np.mgrid[0:h, 0:w]
    return np.sin(0.7 * y) * np.cos(0.5 * x) + 0.05 * np.random.default_rng(seed).standard_normal((h, w))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("coupling", COUPLINGS)
def test_norm_nonincreasing_at_the_bound(kind, coupling):
    rng = np.random.default_rng(10)
    g = pdb.Diffusivity(kind, 0.2)
    for h, w in [(7, 5), (16, 16), (1, 9), (2, 2)]:
        f = rng.standard_normal((3, h, w))
        # the largest tau the library accepts: bisect on its refusal
        lo, hi = 0.0, 1.0
        for _ in range(60):
            mid = (lo + hi) / 2
            try:
                pdb.explicit(f, gradient_2d(), g, mid, 0, coupling=coupling)
                lo = mid
            except pdb.UnstableError:
                hi = mid
        _, hist = pdb.explicit(f, gradient_2d(), g, lo, 25, coupling=coupling, record_every=1)
        norms = np.sqrt((hist**2).sum(axis=(2, 3)))
        assert np.all(norms[1:] <= norms[:-1] * (1 + 1e-13))


@pytest.mark.parametrize("coupling", COUPLINGS)
def test_mean_conserved_and_max_min_principle(coupling):
    f = np.random.default_rng(11).random((2, 13, 10))
    u = pdb.explicit(f, gradient_2d(), pdb.Diffusivity("perona_malik", 0.2), 0.25, 40, coupling=coupling,
                     check_stability=False)  # max-min needs tau <= 1/4 only
    np.testing.assert_allclose(u.mean(axis=(1, 2)), f.mean(axis=(1, 2)), rtol=0, atol=1e-14)
    assert np.all(u.min(axis=(1, 2)) >= f.min(axis=(1, 2)) - 1e-15)
    assert np.all(u.max(axis=(1, 2)) <= f.max(axis=(1, 2)) + 1e-15)


@pytest.mark.parametrize("coupling", COUPLINGS)
def test_fsi_equals_fed_and_agrees_with_explicit_linear(coupling):
    f = smooth_image(12, 9, 12)
    g = pdb.Diffusivity("linear")
    tau, L, M = 0.15, 3, 10
    u_fsi = pdb.fsi(f, gradient_2d(), g, tau, L, M, coupling=coupling)
    u_fed = pdb.fed(f, gradient_2d(), g, tau, L, M, coupling=coupling, reorder=False)
    np.testing.assert_allclose(u_fsi, u_fed, rtol=0, atol=1e-11)
    T = M * tau * L * (L + 1) / 3
    u_ex = pdb.explicit(f, gradient_2d(), g, T / 2800, 2800, coupling=coupling)
    assert np.abs(u_ex - u_fsi).max() < 2e-2  # first order in the cycle time 0.6


@pytest.mark.parametrize("coupling", COUPLINGS)
def test_fsi_matches_dense_eq7(coupling):
    rng = np.random.default_rng(13)
    h, w, L = 5, 4, 3
    f = rng.standard_normal((h, w))
    u = pdb.fsi(f, gradient_2d(), pdb.Diffusivity("charbonnier", 0.3), 0.1, L, 2, coupling=coupling)
    mats = [matrix(k.weights, k.offset, h, w) for k in gradient_2d()]
    x = f.reshape(-1)
    for _ in range(2):
        prev = x.copy()
        cur = x.copy()
        for l in range(L):
            a = (4 * l + 2) / (2 * l + 3)
            base = cur if l == 0 else a * cur + (1 - a) * prev
            nxt = step(cur, base, mats, [("charbonnier", 0.3)], coupling, a * 0.1)
            prev, cur = cur, nxt
        x = cur
    np.testing.assert_allclose(u.reshape(-1), x, rtol=0, atol=1e-12)


@pytest.mark.parametrize("coupling", COUPLINGS)
def test_implicit_solves_eq8(coupling):
    rng = np.random.default_rng(14)
    h, w = 6, 5
    f = rng.standard_normal((h, w))
    u, info = pdb.implicit(f, gradient_2d(), pdb.Diffusivity("perona_malik", 0.5), 0.05, 1, 300, tol=1e-14,
                           coupling=coupling, return_info=True)
    assert info["converged"]
    mats = [matrix(k.weights, k.offset, h, w) for k in gradient_2d()]
    back = step(u.reshape(-1), f.reshape(-1), mats, [("perona_malik", 0.5)], coupling, 0.05)
    np.testing.assert_allclose(back, u.reshape(-1), rtol=0, atol=1e-12)


@pytest.mark.parametrize("scheme", ["explicit", "fsi", "fed", "implicit"])
def test_evolve_reaches_T(scheme):
    f = smooth_image(10, 11, 15)
    g = pdb.Diffusivity("linear")
    u, info = pdb.evolve(f, gradient_2d(), g, 3.0, scheme=scheme)
    assert info["time"] == pytest.approx(3.0, rel=1e-12)
    ref = pdb.explicit(f, gradient_2d(), g, 3.0 / 600, 600)
    assert np.abs(u - ref).max() < 0.05


def test_history_and_batch():
    f = np.random.default_rng(16).random((3, 6, 7))
    u, hist = pdb.fed(f, gradient_2d(), "perona_malik", 0.15, 4, 3, record_every=1)
    assert hist.shape == (4, 3, 6, 7)
    np.testing.assert_array_equal(hist[0], f)
    np.testing.assert_array_equal(hist[-1], u)
    for b in range(3):
        np.testing.assert_array_equal(pdb.fed(f[b], gradient_2d(), "perona_malik", 0.15, 4, 3), u[b])


def test_unstable_tau_names_the_bound():
    with pytest.raises(pdb.UnstableError, match="stability bound"):
        pdb.explicit(np.zeros((8, 8)), gradient_2d(), "perona_malik", 0.3, 1)


@pytest.mark.parametrize("bad", [
    dict(f=np.zeros(5)), dict(f=np.zeros((1, 2, 3, 4))), dict(f=np.zeros((0, 4))),
    dict(f=np.array([[0.0, np.nan], [1.0, 2.0]])), dict(g=["perona_malik"] * 3, coupling="channelwise"),
    dict(g=["perona_malik"] * 2, coupling="isotropic"), dict(coupling="diagonal"), dict(K=[]),
])
def test_bad_input_raises(bad):
    args = dict(f=np.ones((4, 4)), K=gradient_2d(), g="perona_malik", coupling="isotropic")
    args.update(bad)
    with pytest.raises(PDEBlocksError):
        pdb.explicit(args["f"], args["K"], args["g"], 0.1, 3, coupling=args["coupling"])


def test_threads_do_not_change_results():
    f = np.random.default_rng(17).random((300, 257))
    old = pdb.threads.get_num_threads()
    results = []
    try:
        for t in (1, 2, 3):
            pdb.threads.set_num_threads(t)
            results.append(pdb.explicit(f, gradient_2d(), pdb.Diffusivity("perona_malik", 0.1), 0.15, 5))
    finally:
        pdb.threads.set_num_threads(old)
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(results[0], results[2])

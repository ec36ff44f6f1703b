"""pdb.denoise.eed: uint8/uint16 scaled to [0, 1], float used as is, float64 returned."""
import numpy as np
import pytest

import pdeblocks as pdb


def test_uint8_is_scaled_by_1_over_255():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (20, 24), dtype=np.uint8)
    out = pdb.denoise.eed(img, 0.05, 1.0, 2.0)
    assert out.dtype == np.float64 and out.shape == img.shape
    np.testing.assert_array_equal(out, pdb.eed(img / 255.0, 0.05, 1.0, 2.0, scheme="fed"))
    np.testing.assert_array_equal(pdb.denoise.eed(img, 0.05, 1.0, 0.0), img / 255.0)
    assert 0.0 <= out.min() and out.max() <= 1.0


def test_uint16_is_scaled_by_1_over_65535():
    img = (np.arange(12 * 10, dtype=np.uint16) * 500).reshape(12, 10)
    np.testing.assert_array_equal(pdb.denoise.eed(img, 0.05, 1.0, 0.0), img / 65535.0)
    np.testing.assert_array_equal(pdb.denoise.eed(img, 0.05, 1.0, 1.5),
                                  pdb.eed(img / 65535.0, 0.05, 1.0, 1.5, scheme="fed"))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_is_used_as_is(dtype):
    img = np.random.default_rng(1).uniform(-3, 300, (3, 9, 8)).astype(dtype)
    out = pdb.denoise.eed(img, 10.0, 1.0, 3.0, scheme="explicit")
    assert out.dtype == np.float64 and out.shape == img.shape
    np.testing.assert_array_equal(out, pdb.eed(img.astype(np.float64), 10.0, 1.0, 3.0))


def test_other_dtypes_are_refused():
    with pytest.raises(pdb.PDEBlocksError, match="uint8, uint16 or floating"):
        pdb.denoise.eed(np.zeros((4, 4), dtype=np.int32), 0.1, 1.0, 1.0)
    with pytest.raises(pdb.PDEBlocksError, match="uint8, uint16 or floating"):
        pdb.denoise.eed(np.zeros((4, 4), dtype=bool), 0.1, 1.0, 1.0)


# ---------------------------------------------------------------- perona_malik

def _noisy_squares(seed=3, sigma=0.1, shape=(40, 48)):
    """(clean, noisy): two flat squares on a background, Gaussian noise (float64 in ~[0, 1])."""
    clean = np.full(shape, 0.2)
    clean[6:22, 8:26] = 0.8
    clean[20:36, 24:44] = 0.5
    return clean, clean + sigma * np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("scheme", ["fed", "fsi", "explicit"])
def test_perona_malik_is_evolve_with_gradient_2d(scheme):
    _, img = _noisy_squares()
    out = pdb.denoise.perona_malik(img, 0.05, 7.0, scheme)
    direct, info = pdb.evolve(img, pdb.gradient_2d(), pdb.Diffusivity("perona_malik", 0.05), 7.0, scheme=scheme)
    assert info["time"] == pytest.approx(7.0, rel=1e-12)
    np.testing.assert_array_equal(out, direct)
    opts = dict(tau=0.05, coupling="channelwise") if scheme != "fed" else dict(tau=0.06, cycles=2)   # bound 0.0626
    np.testing.assert_array_equal(
        pdb.denoise.perona_malik(img, 0.1, 5.0, scheme, diffusivity="charbonnier", h=0.5, **opts),
        pdb.evolve(img, pdb.gradient_2d(0.5), pdb.Diffusivity("charbonnier", 0.1), 5.0, scheme=scheme, **opts)[0])


def test_perona_malik_aos_is_semi_implicit_aos_in_equal_steps():
    _, img = _noisy_squares()
    K, g = pdb.gradient_2d(), pdb.Diffusivity("perona_malik", 0.05)
    np.testing.assert_array_equal(pdb.denoise.perona_malik(img, 0.05, 7.0, "aos"),
                                  pdb.semi_implicit(img, K, g, 7.0 / 4, 4, solver="aos"))   # tau = 2
    np.testing.assert_array_equal(pdb.denoise.perona_malik(img, 0.05, 6.0, "aos", tau=3.0),
                                  pdb.semi_implicit(img, K, g, 3.0, 2, solver="aos"))


@pytest.mark.parametrize("scheme", ["fed", "fsi", "explicit", "aos"])
def test_perona_malik_integer_images_are_the_scaled_float_image(scheme):
    img = np.random.default_rng(4).integers(0, 256, (2, 18, 21), dtype=np.uint8)
    out = pdb.denoise.perona_malik(img, 0.1, 3.0, scheme)
    assert out.dtype == np.float64 and out.shape == img.shape
    np.testing.assert_array_equal(out, pdb.denoise.perona_malik(img / 255.0, 0.1, 3.0, scheme))
    img16 = img.astype(np.uint16) * 257
    np.testing.assert_array_equal(pdb.denoise.perona_malik(img16, 0.1, 3.0, scheme),
                                  pdb.denoise.perona_malik(img16 / 65535.0, 0.1, 3.0, scheme))


@pytest.mark.parametrize("scheme", ["fed", "fsi", "explicit", "aos"])
def test_perona_malik_at_time_zero_returns_the_image(scheme):
    img = np.random.default_rng(5).uniform(-2, 7, (3, 10, 9)).astype(np.float32)
    np.testing.assert_array_equal(pdb.denoise.perona_malik(img, 0.3, 0.0, scheme), img.astype(np.float64))


@pytest.mark.parametrize("scheme", ["fed", "fsi", "explicit", "aos"])
def test_perona_malik_keeps_the_mean_and_does_not_increase_the_norm(scheme):
    # Mirrored boundaries: sum_i (K^T y)_i = 0, so every step keeps the sum of the pixels.
    _, img = _noisy_squares(seed=6)
    out = pdb.denoise.perona_malik(img, 0.05, 20.0, scheme)
    assert out.mean() == pytest.approx(img.mean(), abs=1e-13)
    assert np.linalg.norm(out) <= np.linalg.norm(img)
    assert np.abs(out - img).max() > 0.05          # it did diffuse


@pytest.mark.parametrize("scheme, options", [("explicit", {"tau": 0.25}), ("aos", {}), ("aos", {"tau": 50.0})])
def test_perona_malik_max_min_principle(scheme, options):
    # Explicit: with tau <= h^2/(4 sup g) every step is a convex combination of a pixel and its
    # four neighbours (each pixel is on at most 4 edges of weight <= sup g). AOS: M-matrices.
    img = np.random.default_rng(7).uniform(0.1, 0.9, (2, 30, 26))
    out = pdb.denoise.perona_malik(img, 0.2, 15.0, scheme, **options)
    for u, f in zip(out, img):
        assert f.min() <= u.min() and u.max() <= f.max()
        assert u.max() - u.min() < f.max() - f.min() - 0.05


@pytest.mark.parametrize("scheme", ["fed", "fsi", "explicit", "aos"])
def test_perona_malik_reduces_the_error_of_a_noisy_image(scheme):
    clean, noisy = _noisy_squares(seed=8)
    out = pdb.denoise.perona_malik(noisy, 0.1, 10.0, scheme)   # lam about the noise's gradients
    rms = lambda u: np.sqrt(np.mean((u - clean) ** 2))
    assert rms(out) < 0.5 * rms(noisy)
    # ... and keeps the edges, which linear diffusion to the same time blurs
    assert rms(out) < 0.5 * rms(pdb.denoise.perona_malik(noisy, 0.1, 10.0, scheme, diffusivity="linear"))


def test_perona_malik_bad_arguments_are_refused():
    img = np.zeros((6, 7))
    with pytest.raises(pdb.PDEBlocksError, match="uint8, uint16 or floating"):
        pdb.denoise.perona_malik(np.zeros((4, 4), dtype=np.int16), 0.1, 1.0)
    for bad in (np.zeros(5), np.zeros((2, 2, 3, 3))):
        with pytest.raises(pdb.PDEBlocksError):
            pdb.denoise.perona_malik(bad, 0.1, 1.0)
        with pytest.raises(pdb.PDEBlocksError):
            pdb.denoise.perona_malik(bad, 0.1, 1.0, "aos")
    for scheme in ("fed", "fsi", "explicit", "aos"):
        for t in (-1.0, float("nan"), float("inf")):
            with pytest.raises(pdb.PDEBlocksError):
                pdb.denoise.perona_malik(img, 0.1, t, scheme)
        with pytest.raises(pdb.PDEBlocksError):
            pdb.denoise.perona_malik(img, -0.1, 1.0, scheme)
        with pytest.raises(pdb.PDEBlocksError):
            pdb.denoise.perona_malik(img, 0.1, 1.0, scheme, tau=-1.0)
    with pytest.raises(pdb.PDEBlocksError, match="scheme must be one of"):
        pdb.denoise.perona_malik(img, 0.1, 1.0, "implicit")
    with pytest.raises(pdb.PDEBlocksError, match="no option"):
        pdb.denoise.perona_malik(img, 0.1, 1.0, "aos", cycles=3)
    with pytest.raises(pdb.UnstableError):
        pdb.denoise.perona_malik(img, 0.1, 1.0, "explicit", tau=0.3)

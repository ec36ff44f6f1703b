"""The shipped denoisers (pdeblocks.models) and pdeblocks.denoise.learned: the files load, each
is certified by Theorem 2 on every image size >= 8x8 (lambda_max_any_size on the stored
filters), the recorded test PSNR is reproduced, the nearest model is picked, bad input is refused."""
import json
import math
from importlib import resources

import numpy as np
import pytest

import pdeblocks as pdb
from pdeblocks import PDEBlocksError, Stencil2D
from pdeblocks.any_size_bound import lambda_max_any_size
from pdeblocks.datasets import noisy_pairs, test_images
from pdeblocks.metrics import psnr

LEVELS = [15, 25, 50]


def card(sigma):
    """The model card stored beside the weights (architecture, training command, test PSNR)."""
    return json.loads(resources.files("pdeblocks.models").joinpath(f"denoiser_sigma{sigma}.json").read_text())


def stages(sigma):
    """(filters, mu, tau) of every stage, decoded from the parameters with the card's layout."""
    c, p = card(sigma), pdb.models.denoiser(sigma).parameters
    f, k, terms = c["filters"], c["size"], c["terms"]
    per = f * k * k + f * 2 * terms + 2
    assert p.size == c["stages"] * per
    out = []
    for s in range(c["stages"]):
        q = p[s * per:(s + 1) * per]
        w = q[:f * k * k].reshape(f, k, k)
        w = w - w.mean(axis=(1, 2), keepdims=True)   # zero-mean blocks use the projected filters
        out.append(([Stencil2D(x, offset=(-(k // 2), -(k // 2))) for x in w], np.logaddexp(0, q[-1]), q[-2]))
    return out


def test_the_three_noise_levels_are_shipped():
    assert pdb.models.available() == LEVELS


@pytest.mark.parametrize("sigma", LEVELS)
def test_every_stage_satisfies_theorem_2_on_every_image_size_from_8x8(sigma):
    for bank, mu, tau in stages(sigma):
        assert 0 <= tau <= 2 / (1.0 * lambda_max_any_size(bank, (8, 8)) + mu)   # sup g < 1


@pytest.mark.parametrize("sigma", LEVELS)
def test_the_library_certifies_every_block_on_assorted_sizes(sigma):
    net = pdb.models.denoiser(sigma)
    for shape in [(8, 8), (8, 13), (17, 9), (64, 64), (481, 321), (1024, 768)]:
        assert net.certificate(shape), (shape, net.certificate(shape).first_failure)


@pytest.mark.parametrize("sigma", LEVELS)
def test_the_recorded_test_psnr_is_what_the_model_gives(sigma):
    net, c = pdb.models.denoiser(sigma), card(sigma)
    for i, (name, clean) in enumerate(sorted(test_images().items())):
        noisy, _ = noisy_pairs(clean, sigma / 255, np.random.default_rng(i))
        assert psnr(clean, net.predict(noisy)) == pytest.approx(c["test_psnr"][name], abs=0.005)
        assert c["test_psnr"][name] > psnr(clean, noisy) + 5


def test_learned_picks_the_nearest_level(rng):
    x = rng.uniform(0, 1, (16, 20))
    for sigma, level in [(10, 15), (15, 15), (20, 25), (35, 25), (38, 50), (80, 50), (1, 15)]:
        expected = pdb.models.denoiser(level).predict(x)
        assert np.array_equal(pdb.denoise.learned(x, sigma), expected), (sigma, level)


def test_learned_converts_integer_images_and_batches(rng):
    u8 = rng.integers(0, 256, (2, 12, 9)).astype(np.uint8)
    net = pdb.models.denoiser(25)
    assert np.array_equal(pdb.denoise.learned(u8, 25), net.predict(u8 / 255.0))
    u16 = (u8.astype(np.uint16) * 257)
    np.testing.assert_allclose(pdb.denoise.learned(u16, 25), net.predict(u8 / 255.0), rtol=0, atol=1e-12)
    assert np.array_equal(pdb.denoise.learned(u8[1], 25), net.predict(u8[1] / 255.0))


@pytest.mark.parametrize("bad_sigma", [0, -5, math.nan, math.inf, "25"])
def test_learned_refuses_bad_sigma(bad_sigma):
    with pytest.raises(PDEBlocksError):
        pdb.denoise.learned(np.zeros((8, 8)), bad_sigma)


@pytest.mark.parametrize("image", [np.zeros((7, 8)), np.zeros((8, 4)), np.zeros(64), np.zeros((1, 2, 8, 8)),
                                   np.full((8, 8), np.nan), np.zeros((8, 8), dtype=np.int32), np.zeros((0, 8))])
def test_learned_refuses_bad_images(image):
    before = image.copy()
    with pytest.raises(PDEBlocksError):
        pdb.denoise.learned(image, 25)
    np.testing.assert_array_equal(image, before)


@pytest.mark.parametrize("sigma", [20, 0, "x"])
def test_denoiser_refuses_levels_that_are_not_shipped(sigma):
    with pytest.raises(PDEBlocksError, match="available"):
        pdb.models.denoiser(sigma)

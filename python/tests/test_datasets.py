"""The issue 16 image split (pdeblocks.datasets) and the quality measures (pdeblocks.metrics)."""
import numpy as np
import pytest

pytest.importorskip("skimage")
import skimage.data
from skimage.color import rgb2gray

from pdeblocks import PDEBlocksError
from pdeblocks import datasets as D
from pdeblocks.metrics import psnr, ssim

ISSUE_TRAIN = {"astronaut", "brick", "chelsea", "coffee", "grass", "gravel", "hubble_deep_field", "ihc",
               "motorcycle_left", "retina", "rocket", "page", "text"}
ISSUE_TEST = {"camera", "coins", "moon"}


@pytest.fixture(scope="module")
def train():
    return D.training_images()


@pytest.fixture(scope="module")
def test():
    return D.test_images()


def test_split_names_are_the_issues_and_disjoint():
    assert set(D.TRAIN_NAMES) == ISSUE_TRAIN and len(D.TRAIN_NAMES) == 13
    assert set(D.TEST_NAMES) == ISSUE_TEST
    assert not set(D.TRAIN_NAMES) & set(D.TEST_NAMES)


def test_images_are_gray_float64_in_unit_range(train, test):
    assert list(train) == list(D.TRAIN_NAMES) and list(test) == list(D.TEST_NAMES)
    for name, img in {**train, **test}.items():
        assert img.ndim == 2 and img.dtype == np.float64, name
        assert 0.0 <= img.min() < img.max() <= 1.0, name


@pytest.mark.parametrize("name, source", [
    ("astronaut", lambda: rgb2gray(skimage.data.astronaut())),
    ("ihc", lambda: rgb2gray(skimage.data.immunohistochemistry())),
    ("motorcycle_left", lambda: rgb2gray(skimage.data.stereo_motorcycle()[0])),
    ("brick", lambda: skimage.data.brick() / 255.0),
    ("text", lambda: skimage.data.text() / 255.0),
    ("camera", lambda: skimage.data.camera() / 255.0),
])
def test_images_are_the_skimage_sources_converted(name, source):
    np.testing.assert_allclose(D.load_image(name), source(), rtol=0, atol=1e-15)


def test_no_test_image_appears_in_the_training_set(train, test):
    for tname, t in test.items():
        for name, img in train.items():
            assert t.shape != img.shape or not np.array_equal(t, img), (tname, name)


def test_unknown_image_name_is_refused():
    with pytest.raises(PDEBlocksError, match="unknown image"):
        D.load_image("lena")


def _tagged_images():
    """Images whose every pixel value is unique, so a crop's first pixel gives its origin."""
    return {"a": np.arange(40 * 50, dtype=np.float64).reshape(40, 50),
            "b": 1e4 + np.arange(30 * 20, dtype=np.float64).reshape(30, 20),
            "small": -np.ones((5, 5))}


def test_crops_are_subimages_of_images_that_fit():
    images = _tagged_images()
    crops = D.random_crops(images, (8, 12), 200, np.random.default_rng(3))
    assert crops.shape == (200, 8, 12) and crops.dtype == np.float64
    seen = set()
    for c in crops:
        src = images["a"] if c[0, 0] < 1e4 else images["b"]
        i, j = map(int, np.argwhere(src == c[0, 0])[0])
        np.testing.assert_array_equal(c, src[i:i + 8, j:j + 12])
        seen.add("a" if src is images["a"] else "b")
    assert seen == {"a", "b"}            # both fitting images are used, never the 5x5 one


def test_crops_are_deterministic_under_a_seed():
    images = _tagged_images()
    one = D.random_crops(images, 6, 30, 7)
    assert np.array_equal(one, D.random_crops(images, 6, 30, np.random.default_rng(7)))
    assert not np.array_equal(one, D.random_crops(images, 6, 30, 8))


def _symmetries(c):
    """The 8 images of ``c`` under the symmetries of the square (rotations, with and
    without a transposition), as (turns, transposed, array)."""
    return [(t, tr, np.rot90(c.T if tr else c, t)) for tr in (False, True) for t in range(4)]


def test_augmented_crops_are_symmetries_of_subimages_and_use_all_eight():
    images = _tagged_images()
    h, w = 8, 12
    crops = D.random_crops(images, (h, w), 400, np.random.default_rng(5), augment=True)
    assert crops.shape == (400, h, w)
    used = set()
    for c in crops:
        src = images["a"] if c[0, 0] < 1e4 else images["b"]
        matches = []
        for t, tr, window_shape in [(t, tr, (w, h) if (t % 2) != tr else (h, w)) for tr in (False, True) for t in range(4)]:
            # undo the symmetry (inverse rotation, then the transposition) and look the window up
            undone = np.rot90(c, -t)
            undone = undone.T if tr else undone
            assert undone.shape == window_shape
            i, j = map(int, np.argwhere(src == undone[0, 0])[0])
            if i + undone.shape[0] <= src.shape[0] and j + undone.shape[1] <= src.shape[1] and \
                    np.array_equal(undone, src[i:i + undone.shape[0], j:j + undone.shape[1]]):
                matches.append((t, tr))
        assert len(matches) == 1        # exactly one symmetry of exactly one window (unique pixel values)
        used.add(matches[0])
    assert len(used) == 8               # every symmetry occurs


def test_augmentation_is_deterministic_and_off_by_default():
    images = _tagged_images()
    one = D.random_crops(images, 6, 50, 11, augment=True)
    assert np.array_equal(one, D.random_crops(images, 6, 50, np.random.default_rng(11), augment=True))
    plain = D.random_crops(images, 6, 50, 11)
    assert np.array_equal(plain, D.random_crops(images, 6, 50, 11, augment=False))
    assert not np.array_equal(one, plain)
    with pytest.raises(PDEBlocksError, match="augment"):
        D.random_crops(images, 6, 1, 0, augment="yes")


def test_augmented_non_square_crops_need_images_fitting_both_ways():
    with pytest.raises(PDEBlocksError, match="both ways"):
        D.random_crops({"tall": np.zeros((40, 10))}, (8, 12), 1, 0, augment=True)


@pytest.mark.parametrize("kwargs, match", [
    (dict(size=41, count=1, rng=0), "no image"),
    (dict(size=0, count=1, rng=0), "size"),
    (dict(size=(4, 4, 4), count=1, rng=0), "size"),
    (dict(size=4, count=-1, rng=0), "count"),
    (dict(size=4, count=1, rng=None), "rng"),
    (dict(size=4, count=1, rng=1.5), "rng"),
])
def test_bad_crop_arguments_raise(kwargs, match):
    with pytest.raises(PDEBlocksError, match=match):
        D.random_crops({"a": np.zeros((40, 40))}, **kwargs)


def test_noise_is_gaussian_with_the_given_sigma():
    clean = np.full((4, 128, 128), 0.5)
    sigma = D.sigma_from_255(25)
    noisy, same = D.noisy_pairs(clean, sigma, np.random.default_rng(0))
    assert np.array_equal(same, clean) and same is not clean
    r = (noisy - clean).ravel() / sigma
    n = r.size
    assert abs(r.mean()) < 4 / np.sqrt(n)                 # mean 0 within 4 standard errors
    assert abs(r.var() - 1) < 4 * np.sqrt(2 / n)          # variance 1 within 4 standard errors
    assert abs(np.mean(np.abs(r) < 1) - 0.6827) < 0.01     # the normal's one-sigma mass
    # PSNR of noise sigma on [0, 1] is -20 log10(sigma) (no clipping)
    assert psnr(clean, noisy) == pytest.approx(-20 * np.log10(sigma), abs=0.05)


def test_noise_is_fresh_per_call_and_reproducible_per_seed():
    clean = np.zeros((16, 16))
    rng = np.random.default_rng(5)
    a, _ = D.noisy_pairs(clean, 0.1, rng)
    b, _ = D.noisy_pairs(clean, 0.1, rng)
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(a, D.noisy_pairs(clean, 0.1, 5)[0])


@pytest.mark.parametrize("sigma", [25.0, -0.1, float("nan")])
def test_sigma_outside_the_unit_scale_is_refused(sigma):
    with pytest.raises(PDEBlocksError, match="sigma"):
        D.noisy_pairs(np.zeros((4, 4)), sigma, 0)


def test_to_gray_refuses_bad_images():
    with pytest.raises(PDEBlocksError):
        D.to_gray(np.zeros((2, 3, 3, 3)))
    with pytest.raises(PDEBlocksError, match=r"\[0, 1\]"):
        D.to_gray(np.full((4, 4), 2.0))
    with pytest.raises(PDEBlocksError, match="dtype|uint8"):
        D.to_gray(np.zeros((4, 4), dtype=np.int32))


def test_psnr_and_ssim_against_their_definitions():
    rng = np.random.default_rng(1)
    clean = rng.uniform(size=(32, 32))
    x = clean + 0.05 * rng.standard_normal(clean.shape)
    assert psnr(clean, x) == pytest.approx(10 * np.log10(1 / np.mean((x - clean) ** 2)), rel=1e-12)
    assert psnr(clean, x, data_range=255) == pytest.approx(psnr(clean, x) + 20 * np.log10(255), rel=1e-12)
    assert psnr(clean, clean) == float("inf")
    assert ssim(clean, clean) == pytest.approx(1.0)
    assert 0 < ssim(clean, x) < 1
    with pytest.raises(PDEBlocksError, match="shape"):
        psnr(clean, x[:-1])

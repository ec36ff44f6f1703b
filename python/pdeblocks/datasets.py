"""The image split of issue 16 and seeded training crops with fresh Gaussian noise.

All images come from scikit-image's bundled data (``skimage.data``, an optional
dependency imported on first use), converted to gray float64 in [0, 1]: RGB images by
``skimage.color.rgb2gray``, ``uint8`` images by ``/ 255``.

* :data:`TRAIN_NAMES` -- the only images that may be used for training or tuning:
  astronaut, brick, chelsea, coffee, grass, gravel, hubble_deep_field, ihc
  (``skimage.data.immunohistochemistry``), motorcycle_left (the left view of
  ``skimage.data.stereo_motorcycle()``), retina, rocket, page, text.
* :data:`TEST_NAMES` -- held out for evaluation only: camera, coins, moon.

Noise levels: :func:`noisy_pairs` takes ``sigma`` on the [0, 1] scale of these images.
The usual "sigma = 25" of the denoising literature is on the 0-255 scale and means
``sigma = 25 / 255`` here (:func:`sigma_from_255`).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Callable, Union

import numpy as np

from ._lib import PDEBlocksError

__all__ = ["TRAIN_NAMES", "TEST_NAMES", "load_image", "to_gray", "training_images", "test_images",
           "random_crops", "noisy_pairs", "sigma_from_255"]

#: Training images (issue 16); nothing else may be used for training or tuning.
TRAIN_NAMES = ("astronaut", "brick", "chelsea", "coffee", "grass", "gravel", "hubble_deep_field", "ihc",
               "motorcycle_left", "retina", "rocket", "page", "text")
#: Held-out test images.
TEST_NAMES = ("camera", "coins", "moon")

Images = Union[Mapping[str, np.ndarray], Sequence[np.ndarray]]


def _skimage_data():
    try:
        import skimage.data
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise PDEBlocksError("the image split needs scikit-image (pip install scikit-image)") from err
    return skimage.data


def _loader(name: str) -> Callable[[], np.ndarray]:
    """The explicit ``skimage.data`` source of each split name."""
    data = _skimage_data()
    source = {"ihc": "immunohistochemistry", "motorcycle_left": "stereo_motorcycle"}.get(name, name)
    fn = getattr(data, source, None)
    if fn is None:
        raise PDEBlocksError(f"image {name!r}: skimage.data.{source} does not exist in this scikit-image "
                             f"({getattr(__import__('skimage'), '__version__', '?')})")
    if name == "motorcycle_left":
        return lambda: fn()[0]
    return fn


def to_gray(image: np.ndarray) -> np.ndarray:
    """Gray float64 in [0, 1]: RGB(A) via ``skimage.color.rgb2gray``, ``uint8`` / 255,
    ``uint16`` / 65535, floating point as is (must already lie in [0, 1])."""
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[-1] in (3, 4):
        from skimage.color import rgb2gray, rgba2rgb
        arr = np.clip(rgb2gray(rgba2rgb(arr) if arr.shape[-1] == 4 else arr), 0.0, 1.0)  # rounding only
    elif arr.ndim != 2:
        raise PDEBlocksError(f"expected a gray (H, W) or RGB (H, W, 3) image, got shape {arr.shape}")
    if arr.dtype == np.uint8:
        arr = arr / 255.0
    elif arr.dtype == np.uint16:
        arr = arr / 65535.0
    elif arr.dtype == np.bool_:
        arr = arr.astype(np.float64)
    elif arr.dtype.kind != "f":
        raise PDEBlocksError(f"image must be uint8, uint16, bool or floating point, got {arr.dtype}")
    out = np.ascontiguousarray(arr, dtype=np.float64)
    if not (np.all(np.isfinite(out)) and out.min() >= 0.0 and out.max() <= 1.0):
        raise PDEBlocksError("a floating point image must lie in [0, 1]")
    return out


def load_image(name: str) -> np.ndarray:
    """One image of the split by name, gray float64 in [0, 1]."""
    if name not in TRAIN_NAMES and name not in TEST_NAMES:
        raise PDEBlocksError(f"unknown image {name!r} (known: {', '.join(TRAIN_NAMES + TEST_NAMES)})")
    return to_gray(_loader(name)())


def training_images() -> dict[str, np.ndarray]:
    """``{name: image}`` of :data:`TRAIN_NAMES` (gray float64 in [0, 1])."""
    return {name: load_image(name) for name in TRAIN_NAMES}


def test_images() -> dict[str, np.ndarray]:
    """``{name: image}`` of :data:`TEST_NAMES` (gray float64 in [0, 1])."""
    return {name: load_image(name) for name in TEST_NAMES}


test_images.__test__ = False  # not a pytest test when imported into a test module


def sigma_from_255(sigma: float) -> float:
    """A noise level on the 0-255 scale as used here on the [0, 1] scale: ``sigma / 255``."""
    return float(sigma) / 255.0


def _generator(rng: Any) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise PDEBlocksError(f"rng must be a numpy Generator or a nonnegative int seed, got {rng!r}")


def _size(size: Any) -> tuple[int, int]:
    pair = (size, size) if np.isscalar(size) else tuple(size)
    if len(pair) != 2 or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 1
                                 for s in pair):
        raise PDEBlocksError(f"size must be a positive int or a pair of them, got {size!r}")
    return int(pair[0]), int(pair[1])


def random_crops(images: Images, size, count: int, rng, augment: bool = False) -> np.ndarray:
    """``count`` random crops of ``size`` (int or (h, w)) as a ``(count, h, w)`` float64 array.

    Each crop picks an image uniformly among those at least ``size`` large (smaller ones are
    skipped; an error if none fits), then a uniformly random top-left corner. With
    ``augment``, each crop is then mapped by a uniformly random symmetry of the square (one
    of the 8 rotations by multiples of 90 degrees, each with or without a transposition;
    for a non-square crop, a quarter turn cuts an (w, h) window so that the result is
    (h, w)): diffusion networks with mirrored boundaries have no preferred orientation, and
    the eight views multiply the training data of few images. The draws come from ``rng``
    (a ``numpy.random.Generator``, advanced, or an int seed), so equal seeds give equal
    crops. ``images`` is a mapping name -> (H, W) array or a sequence of them.
    """
    h, w = _size(size)
    if not (isinstance(count, (int, np.integer)) and not isinstance(count, bool) and count >= 0):
        raise PDEBlocksError(f"count must be a nonnegative int, got {count!r}")
    if not isinstance(augment, (bool, np.bool_)):
        raise PDEBlocksError(f"augment must be True or False, got {augment!r}")
    arrays = list(images.values()) if isinstance(images, Mapping) else list(images)
    for a in arrays:
        if np.ndim(a) != 2:
            raise PDEBlocksError(f"images must be 2D gray arrays, got shape {np.shape(a)}")
    fits = (lambda a: min(a.shape) >= max(h, w)) if augment and h != w else (lambda a: a.shape[0] >= h and a.shape[1] >= w)
    fitting = [np.asarray(a, dtype=np.float64) for a in arrays if fits(np.asarray(a))]
    if not fitting:
        raise PDEBlocksError(f"no image is at least {h}x{w}{' both ways (augment)' if augment and h != w else ''} "
                             f"(got {len(arrays)} images)")
    gen = _generator(rng)
    out = np.empty((int(count), h, w))
    for k in range(int(count)):
        a = fitting[int(gen.integers(len(fitting)))]
        turns, transpose = (int(gen.integers(4)), bool(gen.integers(2))) if augment else (0, False)
        ch, cw = (w, h) if (turns % 2) != transpose else (h, w)   # the window before the symmetry
        i = int(gen.integers(a.shape[0] - ch + 1))
        j = int(gen.integers(a.shape[1] - cw + 1))
        c = a[i:i + ch, j:j + cw]
        out[k] = np.rot90(c.T if transpose else c, turns)
    return out


def noisy_pairs(clean, sigma: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """``(noisy, clean)`` with ``noisy = clean + sigma * N(0, 1)`` (fresh, unclipped noise).

    ``sigma`` is on the [0, 1] scale and must lie in [0, 1]: sigma = 25 on the 0-255 scale
    is ``sigma = 25 / 255`` (:func:`sigma_from_255`). ``rng`` is a Generator (advanced) or
    an int seed. ``clean`` is returned as a float64 array (a copy).
    """
    clean = np.array(clean, dtype=np.float64)
    sigma = float(sigma)
    if not (np.isfinite(sigma) and 0.0 <= sigma <= 1.0):
        raise PDEBlocksError(f"sigma is on the [0, 1] scale and must lie in [0, 1], got {sigma} "
                             "(sigma = 25 on the 0-255 scale is 25/255)")
    gen = _generator(rng)
    return clean + sigma * gen.standard_normal(clean.shape), clean

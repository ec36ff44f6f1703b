"""One-call image denoisers, in the manner of ``skimage.restoration``.

Input images are 2-D grayscale arrays (H, W) or stacks (B, H, W) (a colour image goes
channel-first: ``np.moveaxis(img, -1, 0)``), of dtype ``uint8``, ``uint16`` or floating
point. Integers are scaled to [0, 1] (``uint8`` by 1/255, ``uint16`` by 1/65535); floating
point images are used as they are (no rescaling, any range). The result is always float64
on that scale (multiply by 255 or 65535 and round to go back to integers). Contrast
parameters ``lam`` refer to the [0, 1] scale for integer images.
"""
from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ._lib import FloatArray, PDEBlocksError
from .eed import eed as _eed

__all__ = ["eed", "as_float_image"]

_DIVISORS = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}


def as_float_image(image: npt.ArrayLike) -> FloatArray:
    """The float64 image the denoisers work on: ``uint8`` / 255, ``uint16`` / 65535,
    floating point unchanged; other dtypes are refused."""
    arr = np.asarray(image)
    if arr.dtype in _DIVISORS:
        return arr.astype(np.float64) / _DIVISORS[arr.dtype]
    if arr.dtype.kind == "f":
        return np.ascontiguousarray(arr, dtype=np.float64)
    raise PDEBlocksError(f"image must be uint8, uint16 or floating point, got dtype {arr.dtype}")


def eed(image: npt.ArrayLike, lam: float, sigma: float, t: float, *, scheme: str = "fed", **options) -> FloatArray:
    """Edge-enhancing anisotropic diffusion (Weickert) of an image to time ``t``.

    ``image`` is converted by :func:`as_float_image` (uint8 / 255, uint16 / 65535, float as
    is); the result is float64 of the same shape on that scale. ``lam`` is the contrast
    parameter (on the [0, 1] scale for integer images, e.g. 0.01-0.05), ``sigma`` the
    presmoothing scale in pixels, ``t`` the diffusion time. FED cycles by default;
    ``options`` go to :func:`pdeblocks.eed` (``diffusivity``, ``tau``, ``cycles``, ``h``,
    ``check_stability``).
    """
    return _eed(as_float_image(image), lam, sigma, t, scheme=scheme, **options)

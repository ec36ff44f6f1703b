"""One-call image denoisers, in the manner of ``skimage.restoration``.

Input images are 2-D grayscale arrays (H, W) or stacks (B, H, W) (a colour image goes
channel-first: ``np.moveaxis(img, -1, 0)``), of dtype ``uint8``, ``uint16`` or floating
point. Integers are scaled to [0, 1] (``uint8`` by 1/255, ``uint16`` by 1/65535); floating
point images are used as they are (no rescaling, any range). The result is always float64
on that scale (multiply by 255 or 65535 and round to go back to integers). Contrast
parameters ``lam`` refer to the [0, 1] scale for integer images.
"""
from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from ._args import as_float
from ._lib import FloatArray, PDEBlocksError
from .accelerated import evolve, semi_implicit
from .diffusivities import Diffusivity
from .eed import eed as _eed
from . import models
from .stencil2d import gradient_2d

__all__ = ["eed", "perona_malik", "learned", "as_float_image", "SCHEMES"]

#: The schemes of :func:`perona_malik`.
SCHEMES = ("fed", "fsi", "explicit", "aos")

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


def perona_malik(image: npt.ArrayLike, lam: float, t: float, scheme: str = "fed", *,
                 diffusivity: str = "perona_malik", h: float = 1.0, tau: float | None = None,
                 **options) -> FloatArray:
    """Isotropic nonlinear (Perona-Malik) diffusion of an image to time ``t``.

    ``du/dt = -K^T (g(|K u|^2) K u)`` with ``K = gradient_2d(h)`` and the half-sample mirror
    boundary. ``image`` (H, W) or (B, H, W) is converted by :func:`as_float_image` (uint8 /
    255, uint16 / 65535, float as is); the result is float64 of the same shape on that
    scale. ``lam`` is the contrast parameter of ``Diffusivity(diffusivity, lam)`` (on the
    [0, 1] scale for integer images, e.g. 0.02-0.1); ``diffusivity="linear"`` gives linear
    (Gaussian) diffusion.

    ``scheme``: ``"fed"`` (default), ``"fsi"`` or ``"explicit"`` call
    :func:`pdeblocks.evolve` (``tau``: its largest step, default the stability bound;
    ``options``: its ``cycles``, ``update``, ``reorder``, ``check_stability`` and
    ``coupling``). ``"aos"`` calls ``semi_implicit(..., solver="aos")`` with ``ceil(t/tau)``
    equal steps, ``tau`` default 2.0 (every size is stable; smaller is more accurate).

    Every scheme keeps the mean and never increases ``||u||_2``; ``"aos"``, and
    ``"explicit"`` with ``tau <= h^2/(4 sup g)``, also keep ``min f <= u <= max f``.
    """
    if scheme not in SCHEMES:
        raise PDEBlocksError(f"scheme must be one of {', '.join(SCHEMES)}, got {scheme!r}")
    u = as_float_image(image)
    K = gradient_2d(h)
    g = Diffusivity(diffusivity, lam)
    if scheme != "aos":
        if tau is not None:
            options["tau"] = tau
        return evolve(u, K, g, t, scheme=scheme, **options)[0]
    if options:
        raise PDEBlocksError(f"scheme='aos' takes no option(s) {', '.join(sorted(options))}")
    t, step = as_float(t, "t"), as_float(2.0 if tau is None else tau, "tau")
    if not (math.isfinite(t) and t >= 0):
        raise PDEBlocksError(f"stopping time t must be finite and nonnegative, got {t}")
    if not (math.isfinite(step) and step > 0):
        raise PDEBlocksError(f"tau must be positive and finite, got {step}")
    steps = math.ceil(t / step * (1 - 1e-14)) if t > 0 else 0
    return semi_implicit(u, K, g, t / steps if steps else step, steps, solver="aos")


def learned(image: npt.ArrayLike, sigma: float, *, threads: int = 0) -> FloatArray:
    """Denoise with the shipped certified network (:mod:`pdeblocks.models`) trained for the
    noise level nearest to ``sigma``.

    ``sigma`` is the noise standard deviation on the 0-255 scale of an image in [0, 1]
    (``sigma = 25`` means ``25/255``; also for uint16 images, which are scaled to [0, 1]).
    ``image`` (H, W) or (B, H, W), at least 8 x 8 (the models' certified sizes), is converted
    by :func:`as_float_image`; float images are taken on the [0, 1] scale. The result is
    float64 of the same shape. The nearest model is the one with the smallest
    ``|log(sigma_model / sigma)|`` (ties: the smaller sigma).
    """
    sigma = as_float(sigma, "sigma")
    if not (math.isfinite(sigma) and sigma > 0):
        raise PDEBlocksError(f"sigma must be positive and finite (0-255 scale), got {sigma}")
    u = as_float_image(image)
    if u.ndim not in (2, 3):
        raise PDEBlocksError(f"image must be (H, W) or (B, H, W), got shape {u.shape}")
    if u.shape[-2] < models.MIN_SHAPE[0] or u.shape[-1] < models.MIN_SHAPE[1]:
        raise PDEBlocksError(f"image of {u.shape[-2]}x{u.shape[-1]} pixels is smaller than "
                             f"{models.MIN_SHAPE[0]}x{models.MIN_SHAPE[1]}, the models' certified size")
    if not np.all(np.isfinite(u)):
        raise PDEBlocksError("image must be finite")
    levels = models.available()
    if not levels:
        raise PDEBlocksError("no shipped denoiser is installed (pdeblocks/models/*.pdbnet)")
    nearest = min(levels, key=lambda s: (abs(math.log(s / sigma)), s))
    return models.denoiser(nearest, threads=threads).predict(u)

"""Anisotropic and semi-implicit image diffusion: EED and AOS.

* :func:`eed` -- edge-enhancing anisotropic diffusion (Weickert): the explicit scheme of
  Theorem 2, ``u <- u - tau K^T M(u) K u`` with ``K = gradient_2d(h)`` and a per-pixel
  diffusion tensor ``M = g(|grad u_sigma|^2) v1 v1^T + v2 v2^T`` (``v1`` along the
  Gaussian-presmoothed gradient, ``M = I`` where it vanishes): smoothing along edges, not
  across them. Explicit steps or FED cycles (``scheme="fed"``) to a stopping time.
* :func:`eed_stable_tau` -- its Euclidean stability bound ``2/(sup g lambda_max(K^T K))``.
* :func:`aos` -- additive operator splitting (Weickert, ter Haar Romeny, Viergever 1998) for
  isotropic nonlinear diffusion with ``gradient_2d(h)``; also ``semi_implicit(...,
  solver="aos")``. Unconditionally stable, mean-preserving, max-min principle.

Conventions (``include/pdeblocks_image_eed.h``): images are (H, W) or (B, H, W) float64;
the Gaussian is sampled, normalised to sum 1 and truncated at radius ``ceil(3 sigma)``;
``grad u_sigma`` uses central differences, all with the half-sample mirror boundary.
"""
from __future__ import annotations

import ctypes
import math
from typing import Any

import numpy as np
import numpy.typing as npt

from . import _abi
from ._args import as_array, as_choice, as_float, as_int
from ._lib import F64, FloatArray, PDEBlocksError, as_output, call, lib, ptr
from .diffusivities import Diffusivity, as_diffusivity
from .stencil2d import Stencil2D

__all__ = ["eed", "eed_stable_tau", "aos", "SCHEMES"]

_stable_tau = lib.pdb_eed_stable_tau
_eed = lib.pdb_eed
_eed_fed = lib.pdb_eed_fed
_aos = lib.pdb_aos

#: The schemes of :func:`eed`.
SCHEMES = {"explicit": 0, "fed": 1}


def _images(f: npt.ArrayLike, name: str = "f") -> tuple[FloatArray, int, int, int, bool]:
    """``(array3d, B, H, W, squeeze)`` for an (H, W) image or a (B, H, W) batch."""
    arr = as_array(f, name, ndim=(2, 3))
    squeeze = arr.ndim == 2
    arr3 = arr.reshape((1,) + arr.shape) if squeeze else arr
    return arr3, arr3.shape[0], arr3.shape[1], arr3.shape[2], squeeze


def _diffusivity(diffusivity: Any, lam: Any) -> Diffusivity:
    if not isinstance(diffusivity, str):
        raise PDEBlocksError(f"diffusivity must be a diffusivity name, got {type(diffusivity).__name__}")
    return Diffusivity(diffusivity, lam)


def eed_stable_tau(shape: tuple[int, int], lam: float = 1.0, diffusivity: str = "weickert", h: float = 1.0) -> float:
    """``2/(sup g lambda_max(Kx^T Kx + Ky^T Ky))`` for ``gradient_2d(h)`` on images of
    ``shape = (H, W)``: the largest step :func:`eed` accepts (certified: never above the
    true bound)."""
    try:
        height, width = shape
    except (TypeError, ValueError):
        raise PDEBlocksError(f"shape must be a pair (H, W), got {shape!r}") from None
    g = _diffusivity(diffusivity, lam)
    tau = F64()
    call(_stable_tau, as_int(height, "H"), as_int(width, "W"), as_float(h, "h"), *g._c, ctypes.addressof(tau))
    return tau.value


def eed(f: npt.ArrayLike, lam: float, sigma: float, t: float, *, tau: float | None = None,
        diffusivity: str = "weickert", scheme: str = "explicit", h: float = 1.0, cycles: int | None = None,
        check_stability: bool = True) -> FloatArray:
    """Edge-enhancing anisotropic diffusion of ``f`` to time ``t``.

    Each step is ``u <- u - tau K^T M(u) K u`` with ``K = gradient_2d(h)`` and, per pixel,
    ``M = g(|grad u_sigma|^2) v1 v1^T + v2 v2^T``: ``v1 = grad u_sigma/|grad u_sigma|``,
    ``v2`` orthogonal to it, ``M = I`` where ``grad u_sigma = 0``. ``M`` has eigenvalues
    ``g`` (across the edge) and 1 (along it), in ``[0, sup g]``, so Theorem 2's bound holds
    (:func:`eed_stable_tau`) and ``||u||_2`` never grows; the mean is kept.

    Parameters
    ----------
    f : array_like, shape (H, W) or (B, H, W)
        Image(s); never modified.
    lam : float
        Contrast parameter of the diffusivity (> 0).
    sigma : float
        Standard deviation of the Gaussian presmoothing (pixels, >= 0; 0 = none). The kernel
        is sampled, normalised to sum 1 and truncated at radius ``ceil(3 sigma)``.
    t : float
        Stopping time (>= 0).
    tau : float, optional
        ``"explicit"``: the largest step (default :func:`eed_stable_tau`); the run takes
        ``ceil(t/tau)`` equal steps of ``t/ceil(t/tau)``. ``"fed"``: ``tau_max`` of the cycles.
    diffusivity : str
        Name of g (default ``"weickert"``, as in Weickert's EED).
    scheme : {"explicit", "fed"}
        Explicit steps (``M`` recomputed every step) or FED cycles (``M`` recomputed once per
        cycle, step sizes in Leja order; ``cycles`` of them, default
        ``max(1, min(5, floor(t/(2 tau))))``).
    h : float
        Grid size.
    check_stability : bool
        Refuse ``tau`` above the bound (:class:`UnstableError`).

    Returns
    -------
    ndarray, float64, same shape as ``f``
    """
    arr, batch, height, width, squeeze = _images(f)
    g = _diffusivity(diffusivity, lam)
    method = as_choice(scheme, SCHEMES, "scheme")
    t = as_float(t, "t")
    sigma, h = as_float(sigma, "sigma"), as_float(h, "h")
    flags = 0 if check_stability else _abi.PDB_UNCHECKED
    out = as_output(arr.shape)
    if method == SCHEMES["fed"]:
        tau_max = 0.0 if tau is None else as_float(tau, "tau")
        if tau is not None and not tau_max > 0:
            raise PDEBlocksError(f"tau must be positive, got {tau_max}")
        n_cycles = 0 if cycles is None else as_int(cycles, "cycles")
        if cycles is not None and n_cycles < 1:
            raise PDEBlocksError(f"cycles must be positive, got {n_cycles}")
        call(_eed_fed, ptr(arr), batch, height, width, h, *g._c, sigma, t, tau_max, n_cycles, flags, ptr(out),
             None, None, None)
    else:
        if cycles is not None:
            raise PDEBlocksError("cycles applies to scheme='fed' only")
        if not (math.isfinite(t) and t >= 0):
            raise PDEBlocksError(f"stopping time t must be finite and nonnegative, got {t}")
        if tau is None:
            step = eed_stable_tau((height, width), lam, diffusivity, h)
        else:
            step = as_float(tau, "tau")
            # The library checks the caller's tau (a bad value, or above the bound unless
            # check_stability=False) with its own message: 0 steps only copy f.
            call(_eed, ptr(arr), batch, height, width, h, *g._c, sigma, step, 0, flags, ptr(out))
        if step == math.inf:  # the zero operator (a 1 x 1 image): one step of any size
            steps, size = (1, t) if t > 0 else (0, 1.0)
        else:
            steps = math.ceil(t / step * (1 - 1e-14)) if t > 0 else 0
            size = t / steps if steps else step
        call(_eed, ptr(arr), batch, height, width, h, *g._c, sigma, size, steps, flags, ptr(out))
    return out[0] if squeeze else out


def _gradient_h(K: Any) -> float:
    """``h`` when ``K`` is ``gradient_2d(h)`` (a list of two Stencil2D), else an error."""
    if (isinstance(K, (list, tuple)) and len(K) == 2 and all(isinstance(k, Stencil2D) for k in K)
            and K[0].shape == (1, 2) and K[1].shape == (2, 1) and K[0].offset == K[1].offset == (0, 0)):
        w = K[0].weights[0, 1]
        if w > 0 and K[0].weights[0, 0] == -w and K[1].weights[0, 0] == -w and K[1].weights[1, 0] == w:
            return 1.0 / float(w)
    raise PDEBlocksError("solver='aos' needs K = gradient_2d(h) (a list [Kx, Ky] of forward differences)")


def aos(f: npt.ArrayLike, K: Any, g: Diffusivity | str, tau: float, steps: int, *, progress=None) -> FloatArray:
    """AOS semi-implicit isotropic diffusion on images (``semi_implicit(..., solver="aos")``).

    ``u^{k+1} = 1/2 sum_{l=x,y} (I - 2 tau A_l(u^k))^{-1} u^k`` with
    ``A_l = -K_l^T diag(g) K_l``, ``K = [Kx, Ky] = gradient_2d(h)`` and
    ``g = g((Kx u)^2 + (Ky u)^2)`` per pixel (the weight on the edge between a pixel and its
    right / lower neighbour is that pixel's g). One tridiagonal solve per row and per
    column; stable for every ``tau > 0``: ``min f <= u <= max f``, mean kept.

    Parameters
    ----------
    f : array_like, shape (H, W) or (B, H, W)
    K : list of two Stencil2D equal to ``gradient_2d(h)``
    g : Diffusivity or str
    tau : float
        Time step > 0 (any size).
    steps : int
    """
    if progress is not None:
        raise PDEBlocksError("progress is not supported by solver='aos'")
    h = _gradient_h(K)
    g = as_diffusivity(g)
    arr, batch, height, width, squeeze = _images(f)
    out = as_output(arr.shape)
    call(_aos, ptr(arr), batch, height, width, h, *g._c, as_float(tau, "tau"), as_int(steps, "steps"), ptr(out))
    return out[0] if squeeze else out

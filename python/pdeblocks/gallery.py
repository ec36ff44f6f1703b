"""Model banded systems: the 1D Poisson matrix and the implicit diffusion matrix."""
from __future__ import annotations

import ctypes

from ._args import as_array, as_float, as_int, as_stencil
from ._lib import PDEBlocksError, as_output, call, lib, ptr
from .banded import BandedMatrix

__all__ = ["poisson_1d", "diffusion_system"]

_poisson = lib.pdb_poisson_1d
_diffusion_bw = lib.pdb_diffusion_system_bandwidth
_diffusion = lib.pdb_diffusion_system


def poisson_1d(n: int, h=None) -> BandedMatrix:
    """The 1D Poisson matrix ``tridiag(-1, 2, -1) / h^2`` with Dirichlet boundaries.

    Parameters
    ----------
    n : int
        Number of interior grid points (>= 1).
    h : float, optional
        Grid spacing, default ``1/(n+1)`` (the unit interval).

    Returns
    -------
    BandedMatrix
        Symmetric positive definite, ``grid="vertex"``.
    """
    n = as_int(n, "n")
    h = 1.0 / (n + 1) if h is None else as_float(h, "h")
    k = 1 if n > 1 else 0
    band = as_output((max(n, 1), 2 * k + 1))   # the library refuses n < 1 (and h <= 0)
    call(_poisson, n, h, ptr(band))
    return BandedMatrix._from_band(band, k, k, "vertex")


def diffusion_system(K, w, tau: float) -> BandedMatrix:
    """The implicit diffusion matrix ``A = I + tau K^T diag(w) K``.

    With a 2D filter bank ``K`` (a :class:`Stencil2D` or a list, e.g. ``gradient_2d()``)
    and weight images ``w`` ((H, W), or (C, H, W) per filter) this is the image operator
    ``I + tau sum_c K_c^T diag(w_c) K_c`` as a :class:`StencilField2D` (see
    :func:`pdeblocks.multigrid_2d.diffusion_system_2d`).

    Parameters
    ----------
    K : Stencil
        The derivative stencil; its exact N x N matrix with mirrored boundaries is used.
    w : array_like, shape (N,)
        Nonnegative weights, e.g. ``g(|K u|^2)`` from a diffusivity.
    tau : float
        Time step > 0.

    Returns
    -------
    BandedMatrix
        Symmetric positive definite (eigenvalues >= 1), assembled exactly symmetric,
        ``grid="cell"``.
    """
    from .image_schemes import is_bank
    if is_bank(K):   # a filter bank on images: the 2D stencil field (pdeblocks.multigrid_2d)
        from .multigrid_2d import diffusion_system_2d
        return diffusion_system_2d(K, w, tau)
    K = as_stencil(K)
    wa = as_array(w, "w", ndim=(1,))
    n = wa.size   # the library refuses an empty w (n < 1), negative or non-finite weights, tau <= 0
    bw = ctypes.c_int64()
    call(_diffusion_bw, *K._c, n, ctypes.addressof(bw))
    k = bw.value
    band = as_output((n, 2 * k + 1))
    call(_diffusion, *K._c, ptr(wa), n, as_float(tau, "tau"), ptr(band), band.size)
    return BandedMatrix._from_band(band, k, k, "cell")

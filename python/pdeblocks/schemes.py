"""Explicit diffusion schemes: chains of diffusion blocks (paper eq. 4, Theorems 1-2)."""
from __future__ import annotations

import ctypes
import struct
from typing import Literal, overload

import numpy as np
import numpy.typing as npt

from . import _abi
from ._args import INT64, as_choice, as_float, as_int, as_rows, as_stencil, history_buffer
from ._lib import F64, FloatArray, call, codes, error, lib, ptr, PDEBlocksError
from .operators import Stencil
from .stencil2d import Stencil2D, stable_tau_2d
from .diffusivities import Diffusivity, as_diffusivity
from .progress import ProgressLike, reporting
from .image_schemes import explicit_2d, is_bank

__all__ = ["stable_tau", "explicit"]

_stable_tau = lib.pdb_stable_tau
# pdb_explicit through its packed form: the 15 arguments go into one bytes object laid out
# as pdb_explicit_args (one struct.pack; bytes are per call, so threads share nothing), and
# ctypes converts a single pointer argument instead of 15 (~2.5 us less per call).
_explicit_packed = lib.pdb_explicit_packed
_pack_explicit_args = struct.Struct(_abi.STRUCTS["pdb_explicit_args"][0]).pack
# Signals up to this many values are evolved in place on a copy (out = f is allowed): copying
# 8 KiB costs less than looking up a second array address (~0.3 us); beyond, it would not.
_EVOLVE_A_COPY = 1024
_I64_MIN, _I64_MAX = INT64

_BOUNDS = codes("PDB_BOUND_")          # {"sup_g": ..., "lipschitz": ...}
UNCHECKED = _abi.PDB_UNCHECKED


def stable_tau(K: Stencil | Stencil2D | list[Stencil2D], g: Diffusivity | str, n: int | tuple[int, int],
               bound: str = "sup_g") -> float:
    """Largest step size with Euclidean stability (Theorem 2) on signals of length n.

    ``bound="sup_g"`` gives ``2 / (sup g ||K||_2^2)`` (sharper, valid since the proof
    only needs G(u) <= sup g); ``bound="lipschitz"`` gives the paper's
    ``2 / (L ||K||_2^2)``. Never above the true bound (``||K||^2`` is certified).

    Parameters
    ----------
    K : Stencil
        The discretised operator D (paper eq. 4).
    g : Diffusivity or str
        The diffusivity (a name means ``Diffusivity(name)``, lam = 1).
    n : int or (int, int)
        Signal length N (``||K||_2`` depends on N through the boundary rows); for a 2D
        filter bank (a Stencil2D or a list of them) the image shape (H, W), and the bound
        is ``2 / (sup g lambda_max(sum_c K_c^T K_c))`` (:func:`~pdeblocks.stencil2d.stable_tau_2d`).
    bound : {"sup_g", "lipschitz"}
        Which constant bounds the activation.

    Returns
    -------
    float
        The bound on tau; ``inf`` for the zero operator.
    """
    if isinstance(K, Stencil2D) or (isinstance(K, (list, tuple)) and K and isinstance(K[0], Stencil2D)):
        if bound != "sup_g":
            raise PDEBlocksError(f"bound must be 'sup_g' for a 2D filter bank, got {bound!r}")
        return stable_tau_2d(K, g, n)  # n is the image shape (H, W)
    K = as_stencil(K)
    g = as_diffusivity(g)
    code = as_choice(bound, _BOUNDS, "bound")
    out = F64()
    call(_stable_tau, *K._c, *g._c, as_int(n, "n"), code, ctypes.addressof(out))
    return out.value


@overload
def explicit(f: npt.ArrayLike, K: Stencil, g: Diffusivity | str, tau: float, steps: int, *,
             check_stability: bool = ..., record_every: Literal[0] = ...,
             progress: ProgressLike = ...) -> FloatArray: ...
@overload
def explicit(f: npt.ArrayLike, K: Stencil, g: Diffusivity | str, tau: float, steps: int, *,
             check_stability: bool = ..., record_every: int,
             progress: ProgressLike = ...) -> FloatArray | tuple[FloatArray, FloatArray]: ...
def explicit(f: npt.ArrayLike, K: Stencil, g: Diffusivity | str, tau: float, steps: int, *,
             check_stability: bool = True, record_every: int = 0,
             progress: ProgressLike = None, **image) -> FloatArray | tuple[FloatArray, FloatArray]:
    """Evolve ``u^{k+1} = u^k - tau K^T Phi(K u^k)`` (eq. 4) for ``steps`` steps from ``u^0 = f``.

    Each step is one diffusion block (Theorem 1: W1 = K, W2 = -K^T, sigma1 = tau Phi).

    Images: with ``K`` a :class:`Stencil2D` or a list of them, ``f`` is (H, W) or (B, H, W),
    ``g`` may be a list (one per filter, channelwise) and ``coupling="isotropic"`` (default)
    or ``"channelwise"`` may be given (see :mod:`pdeblocks.image_schemes`).

    Parameters
    ----------
    f : array_like, shape (N,) or (batch, N)
        Initial signal(s); never modified. Integer arrays are converted to float64.
    K : Stencil
        The discretised operator D; K^T discretises D*.
    g : Diffusivity or str
        The diffusivity g; the activation of each block is ``tau * g.flux``.
    tau : float
        Step size; above ``stable_tau(K, g, N)`` it raises :class:`UnstableError`
        unless ``check_stability=False``.
    steps : int
        Number of steps (diffusion blocks), >= 0; the stopping time is ``steps * tau``.
    check_stability : bool
        Refuse ``tau`` above the bound of Theorem 2 (default).
    record_every : int
        If > 0, also return the states ``u^0, u^r, u^{2r}, ...``.
    progress : None, bool, callable or Progress
        Progress reports in steps x rows, and cancellation (:class:`CancelledError`);
        ``True`` shows a tqdm bar. See :mod:`pdeblocks.progress`.

    Returns
    -------
    u : ndarray, same shape as f
        ``u^steps``.
    history : ndarray, shape (steps // record_every + 1, *f.shape)
        Only when ``record_every > 0``: ``(u, history)`` is returned.
    """
    if type(K) is not Stencil:
        if is_bank(K):
            return explicit_2d(f, K, g, tau, steps, check_stability=check_stability, record_every=record_every,
                               progress=progress, **image)
        K = as_stencil(K)
    if type(g) is not Diffusivity:
        g = as_diffusivity(g)
    arr, batch, n = as_rows(f)
    if (type(steps) is not int or type(record_every) is not int or type(tau) is not float
            or not (_I64_MIN <= steps <= _I64_MAX and _I64_MIN <= record_every <= _I64_MAX)):
        steps, record_every, tau = as_int(steps, "steps"), as_int(record_every, "record_every"), as_float(tau, "tau")
    if arr.size <= _EVOLVE_A_COPY:  # in place on a copy: one address to look up, not two
        out = arr.copy()
        src = dst = ptr(out)
    else:
        out = np.empty(arr.shape)
        src, dst = ptr(arr), ptr(out)
    history = history_buffer(arr, steps, record_every) if record_every else None
    args = _pack_explicit_args(
        src, batch, n, *K._c, *g._c, tau, steps, 0 if check_stability else UNCHECKED, record_every,
        0 if history is None else ptr(history), 0 if history is None else history.size, dst)
    status = _explicit_packed(args) if progress is None else \
        reporting(progress, "explicit", "step", _explicit_packed)(args)
    if status:
        raise error(status)
    return out if history is None else (out, history)

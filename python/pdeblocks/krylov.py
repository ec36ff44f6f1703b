"""Krylov solvers on banded systems: conjugate gradients, optionally multigrid-preconditioned."""
from __future__ import annotations

import ctypes
import math

import numpy as np

from ._args import as_float, as_int, as_rhs, renamed
from ._lib import PDEBlocksError, as_output, call, lib, ptr
from .banded import as_banded
from .multigrid import Multigrid, _info
from .progress import session

__all__ = ["cg"]

_cg = lib.pdb_cg


def cg(A, b, *, preconditioner=None, tol: float = 1e-10, maxiter=None, x0=None, progress=None, max_iter=None):
    """Conjugate gradients for a symmetric positive definite banded ``A x = b``.

    Parameters
    ----------
    A : BandedMatrix, scipy.sparse matrix or 2-D array
    b : array_like, shape (n,) or (batch, n)
    preconditioner : None, Multigrid or "multigrid"
        One cycle of a :class:`Multigrid` (built from A) per iteration; ``"multigrid"``
        builds ``Multigrid(A)``. It must be a symmetric cycle (pre == post, not
        ``gauss_seidel_forward``, not an F-cycle).
    tol : float
        Stop when ``||r_k|| <= tol ||b||``.
    maxiter : int, optional
        Iteration limit, default ``max(n, 100)`` (``max_iter`` is its deprecated name).
    progress : None, bool, callable or Progress
        Reports iterations with the relative residual as ``value``, as in
        :meth:`Multigrid.solve`, and can cancel (:class:`CancelledError`).

    Returns
    -------
    x, info
        ``info`` as in :meth:`Multigrid.solve` with ``iterations`` instead of ``cycles``.
    """
    from .multigrid_2d import StencilField2D, cg_2d
    if isinstance(A, StencilField2D):   # an image operator: PCG with a 2D hierarchy
        return cg_2d(A, b, preconditioner=preconditioner, tol=tol, maxiter=maxiter, x0=x0)
    A = as_banded(A)
    owned = None
    if isinstance(preconditioner, str):
        if preconditioner != "multigrid":
            raise PDEBlocksError(f"unknown preconditioner {preconditioner!r} (known: None, 'multigrid', a Multigrid)")
        preconditioner = owned = Multigrid(A)
    if preconditioner is not None and not isinstance(preconditioner, Multigrid):
        raise PDEBlocksError(f"preconditioner must be None, 'multigrid' or a Multigrid, got {type(preconditioner).__name__}")
    ba, x0a, batch, squeeze = as_rhs(b, x0, A.n, f"expected n = {A.n}")
    n = A.n
    name = "maxiter" if max_iter is None else "max_iter"   # the name the caller used
    max_iter = renamed("cg", "max_iter", "maxiter", max_iter, maxiter, None)
    max_iter = min(max(n, 100), 1_000_000) if max_iter is None else as_int(max_iter, name)
    if max_iter < 0:   # before sizing the residual history by it
        raise PDEBlocksError(f"{name} must be nonnegative, got {max_iter}")
    tol = as_float(tol, "tol")
    x = as_output(ba.shape)
    history = as_output(max_iter + 1)
    infos = []
    try:
        with session(progress, "cg", "iteration", "residual", segments=batch, bound=max_iter) as s:
            for i in range(batch):
                its, conv = ctypes.c_int64(), ctypes.c_int32()
                call(_cg, *A._c, ptr(ba[i]), None if x0a is None else ptr(x0a[i]),
                     None if preconditioner is None else preconditioner._h, tol, max_iter, ptr(x[i]), ptr(history),
                     history.size, ctypes.addressof(its), ctypes.addressof(conv))
                s.next_segment()
                res = history[: its.value + 1]
                factor = float((res[-1] / res[0]) ** (1.0 / its.value)) if its.value > 0 and res[0] > 0 else math.nan
                infos.append(_info(history, its.value, conv.value, factor, tol, ba[i], "iterations",
                                   max_iter))
    finally:
        if owned is not None:
            owned.close()
    return (x[0], infos[0]) if squeeze else (x, infos)

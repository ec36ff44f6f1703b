"""Multigrid solvers for banded systems, and their U-net form.

Paper Sec. 3: a multigrid V-cycle is a U-net on three-channel signals (x, b, r).
This module wraps the library's multigrid hierarchies (V/W/F cycles, Jacobi and
Gauss-Seidel smoothers, geometric and matrix-dependent transfers, Galerkin coarse
operators), the literal U-net form of a cycle, and a hierarchy as a SciPy preconditioner.
Banded matrices are in :mod:`pdeblocks.banded`, model systems in :mod:`pdeblocks.gallery`,
conjugate gradients in :mod:`pdeblocks.krylov`, the two-level U-net in :mod:`pdeblocks.unet`.

Example
-------
>>> import numpy as np, pdeblocks as pb
>>> A = pb.poisson_1d(2**16 - 1)                    # -u'' = f on (0, 1), Dirichlet
>>> b = np.ones(A.n)
>>> mg = pb.Multigrid(A)                            # V(2,2), Gauss-Seidel
>>> x, info = mg.solve(b, tol=1e-6)                 # stay above the rounding floor
>>> info["cycles"], round(info["convergence_factor"], 2)   # e.g. (5, 0.05)
>>> channels = mg.unet_cycle(np.zeros(A.n), b)      # (x, b, r) after one cycle as a U-net
>>> np.allclose(channels[0], mg.cycle(np.zeros(A.n), b))
True
>>> import scipy.sparse.linalg as spla
>>> x, status = spla.cg(A.to_scipy(), b, M=mg.aspreconditioner())   # any SciPy Krylov method
"""
from __future__ import annotations

import ctypes
import math

import numpy as np

from ._args import as_array, as_choice, as_float, as_int, as_rhs, as_signals, renamed
from ._handle import Handle
from ._lib import F64, PDEBlocksError, as_output, call, codes, lib, ptr
from .banded import BandedMatrix, _GRIDS, as_banded
from .progress import session

__all__ = ["Multigrid"]

_mg_create = lib.pdb_mg_create
_mg_levels = lib.pdb_mg_levels
_mg_level_matrix = lib.pdb_mg_level_matrix
_mg_prolong = lib.pdb_mg_prolong
_mg_restrict = lib.pdb_mg_restrict
_mg_cycle = lib.pdb_mg_cycle
_mg_unet = lib.pdb_mg_unet_cycle
_mg_solve = lib.pdb_mg_solve

#: Smoother names: the header's ``PDB_SMOOTHER_*`` codes in lower case (``"alternating_line"``
#: is for 2D hierarchies only).
SMOOTHERS = codes("PDB_SMOOTHER_")
#: Cycle names (``PDB_MG_CYCLE_*``).
CYCLES = codes("PDB_MG_CYCLE_", ("V", "W", "F"))
#: Transfer names (``PDB_MG_TRANSFER_*`` in lower case).
TRANSFERS = codes("PDB_MG_TRANSFER_")
_TRANSFER_NAMES = {v: k for k, v in TRANSFERS.items()}


def _scale_exponent(v):
    """The exponent e of 2**e near max |v| (0 for a zero or non-finite v)."""
    largest = float(np.max(np.abs(v))) if np.size(v) else 0.0
    return math.frexp(largest)[1] if 0.0 < largest < math.inf else 0


def _info(residuals, cycles, converged, factor, tol, b, word, limit):
    """The info dict of a solve. The library decides ``converged``; the message follows
    it: converged, else a non-finite residual (diverged), else -- CG only stops early
    without converging on a breakdown -- a breakdown, else the iteration limit.
    Relative residuals are formed in a scale (an exact power of two) where ``||b||``
    cannot overflow or underflow."""
    res = np.array(residuals[: cycles + 1])
    scale = 2.0 ** -_scale_exponent(b) if np.any(b) else 1.0
    reference = float(np.linalg.norm(np.asarray(b) * scale))
    if reference == 0:
        reference, scale = (float(res[0]), 1.0) if res.size else (0.0, 1.0)
    with np.errstate(invalid="ignore", over="ignore"):
        rel = res * scale / reference if reference > 0 else np.zeros_like(res)
    last = rel[-1] if rel.size else 0.0
    if converged:
        message = f"converged: relative residual {last:.3g} <= tol {tol:g} after {cycles} {word}"
    elif not np.isfinite(last):
        message = f"diverged: the residual is not finite after {cycles} {word}"
    elif cycles < limit and word == "iterations":
        message = (f"breakdown after {cycles} {word}: p^T A p <= 0 or r^T z <= 0 (A or the preconditioner "
                   f"is not positive definite); relative residual {last:.3g}")
    else:
        message = f"not converged: relative residual {last:.3g} > tol {tol:g} after {cycles} {word}"
    return {"residuals": res, "relative_residuals": rel, "convergence_factor": factor,
            word: cycles, "converged": bool(converged), "message": message}


class Multigrid(Handle):
    """A multigrid solver for a banded system ``A x = b`` (paper Sec. 3).

    The hierarchy is built once: transfer operators, Galerkin coarse operators
    ``A_H = R A P`` level by level until a level has at most ``coarsest`` unknowns
    (solved by banded LU), and the smoothers' data.

    Parameters
    ----------
    A : BandedMatrix, scipy.sparse matrix or 2-D array
    smoother : str
        ``"gauss_seidel"`` (forward sweeps before the coarse correction, backward after:
        a symmetric cycle), ``"gauss_seidel_forward"``, ``"symmetric_gauss_seidel"``,
        ``"red_black"`` or ``"jacobi"`` (weighted; see ``omega``).
    omega : float, optional
        Jacobi weight in (0, 2); default ``4/(3 rho)`` per level with ``rho`` the
        Gershgorin bound of ``rho(D^-1 A)`` (2/3 for Poisson).
    pre, post : int
        Smoothing sweeps before and after the coarse-grid correction.
    cycle : {"V", "W", "F"}
    coarsest : int
        Coarsening stops at a level with at most this many unknowns (needs n > coarsest).
    max_levels : int, optional
        At most this many levels (>= 2).
    transfer : {"auto", "vertex", "cell", "matrix"}
        ``"auto"`` uses the grid's linear transfer (from ``A.grid``) where it suits the
        matrix -- smooth coefficients and, for vertex grids, levels that stay uniform
        (``n = 2^k - 1``) -- and matrix-dependent (black-box) interpolation otherwise,
        which coincides with linear interpolation wherever that one is right.

    Owns a library handle: :meth:`close` (or a ``with`` block) frees it; a closed hierarchy
    raises :class:`PDEBlocksError`.
    """

    _destroy = lib.pdb_mg_destroy
    _what = "multigrid hierarchy"

    def __new__(cls, A=None, *args, **kwargs):
        # a 2D operator (StencilField2D from poisson_2d / diffusion_system) gets a 2D hierarchy
        if cls is Multigrid:
            from .multigrid_2d import Multigrid2D, StencilField2D
            if isinstance(A, StencilField2D):
                return super().__new__(Multigrid2D)
        return super().__new__(cls)

    def __init__(self, A, *, smoother: str = "gauss_seidel", omega=None, pre: int = 2, post: int = 2,
                 cycle: str = "V", coarsest: int = 3, max_levels=None, transfer: str = "auto"):
        A = as_banded(A)
        if isinstance(cycle, str):
            cycle = cycle.upper()
        # omega None and max_levels None are the ABI's 0 ("the library's default"); the library
        # checks the values (omega in (0, 2), jacobi only; max_levels >= 2)
        om = 0.0 if omega is None else as_float(omega, "omega")
        levels = 0 if max_levels is None else as_int(max_levels, "max_levels")
        if max_levels is not None and levels <= 0:   # 0 would silently mean "no limit"
            raise PDEBlocksError(f"max_levels must be at least 2, got {levels}")
        handle = ctypes.c_void_p()
        call(_mg_create, *A._c, as_choice(A.grid, _GRIDS, "grid"), as_choice(smoother, SMOOTHERS, "smoother"), om,
             as_int(pre, "pre"), as_int(post, "post"), as_choice(cycle, CYCLES, "cycle"),
             as_choice(transfer, TRANSFERS, "transfer"), as_int(coarsest, "coarsest"), levels,
             ctypes.addressof(handle))
        self._own(handle)
        self.A = A
        self.smoother, self.omega, self.pre, self.post, self.cycle_kind = smoother, omega, pre, post, cycle
        count, kind = ctypes.c_int64(), ctypes.c_int32()
        call(_mg_levels, self._h, None, 0, ctypes.addressof(count), ctypes.addressof(kind))
        sizes = np.zeros(count.value, dtype=np.int64)
        call(_mg_levels, self._h, sizes.ctypes.data, sizes.size, ctypes.addressof(count), None)
        self._levels = [int(s) for s in sizes]
        #: the transfer in use ("vertex", "cell" or "matrix"; "auto" resolved)
        self.transfer = _TRANSFER_NAMES[kind.value]

    @property
    def levels(self):
        """Unknowns per level, finest first."""
        return list(self._levels)

    @property
    def n(self) -> int:
        return self._levels[0]

    def __repr__(self):
        return (f"Multigrid(n={self.n}, levels={len(self._levels)}, smoother={self.smoother!r}, "
                f"cycle={self.cycle_kind!r}, pre={self.pre}, post={self.post}, transfer={self.transfer!r})")

    def level_matrix(self, level: int) -> BandedMatrix:
        """The matrix of a level (0 = A, then the Galerkin operators ``R A P``)."""
        level = as_int(level, "level")
        kl, ku = ctypes.c_int64(), ctypes.c_int64()
        # the library refuses a level out of range here, before anything is allocated
        call(_mg_level_matrix, self._h, level, ctypes.addressof(kl), ctypes.addressof(ku), None, 0)
        band = as_output((self._levels[level], kl.value + ku.value + 1))
        call(_mg_level_matrix, self._h, level, ctypes.addressof(kl), ctypes.addressof(ku), ptr(band), band.size)
        return BandedMatrix._from_band(band, kl.value, ku.value, self.A.grid)

    def _check_transfer_level(self, level):
        level = as_int(level, "level")
        if not 0 <= level < len(self._levels) - 1:
            raise PDEBlocksError(f"transfer level {level} is out of range 0..{len(self._levels) - 2}")
        return level

    def prolong(self, level: int, e) -> np.ndarray:
        """``P_level e``: from level+1 (length ``levels[level+1]``) to level."""
        level = self._check_transfer_level(level)
        arr = as_array(e, "e", ndim=(1,))
        out = as_output(self._levels[level])
        call(_mg_prolong, self._h, level, ptr(arr), arr.size, ptr(out), out.size)
        return out

    def restrict(self, level: int, r) -> np.ndarray:
        """``R_level r``: from level (length ``levels[level]``) to level+1."""
        level = self._check_transfer_level(level)
        arr = as_array(r, "r", ndim=(1,))
        out = as_output(self._levels[level + 1])
        call(_mg_restrict, self._h, level, ptr(arr), arr.size, ptr(out), out.size)
        return out

    def _pair(self, x, b):
        xa, batch, n, squeeze = as_signals(x, "x")
        ba, bb, bn, bsq = as_signals(b, "b")
        if xa.shape != ba.shape:
            raise PDEBlocksError(f"x and b must have the same shape, got {np.shape(x)} and {np.shape(b)}")
        if n != self.n:
            raise PDEBlocksError(f"signals have length {n}, the hierarchy has n = {self.n}")
        return xa, ba, batch, n, squeeze

    def cycle(self, x, b) -> np.ndarray:
        """One classical cycle from ``x`` on ``A x = b`` (vectors or ``(batch, n)`` arrays)."""
        xa, ba, batch, n, squeeze = self._pair(x, b)
        out = as_output(xa.shape)
        call(_mg_cycle, self._h, ptr(xa), ptr(ba), batch, n, ptr(out))
        return out[0] if squeeze else out

    def unet_cycle(self, x, b) -> np.ndarray:
        """One cycle computed in the three-channel U-net form (paper Fig. 2b).

        Returns
        -------
        ndarray, shape (3, n) (or (batch, 3, n))
            The output channels ``(x_hat, b, r_hat)``: the new iterate, the right-hand
            side and the residual ``b - A x_hat``. ``x_hat`` equals :meth:`cycle`'s result.
        """
        xa, ba, batch, n, squeeze = self._pair(x, b)
        out = as_output((batch, 3, n))
        for i in range(batch):
            call(_mg_unet, self._h, ptr(xa[i]), ptr(ba[i]), n, ptr(out[i]))
        return out[0] if squeeze else out

    def solve(self, b, x0=None, *, tol: float = 1e-10, maxiter: int | None = None, progress=None,
              max_cycles: int | None = None):
        """Solve ``A x = b`` by cycles until ``||b - A x|| <= tol ||b||`` or ``maxiter`` cycles
        (default 100; ``max_cycles`` is its deprecated name).

        Never hangs: non-convergence (a singular system, a tolerance below the rounding
        floor ``~ eps ||A|| ||x|| / ||b||``, ...) is reported in ``info``.

        ``progress`` (None, True for a tqdm bar, a callable or a :class:`Progress`)
        reports cycles (summed over the rows of a batch; ``total`` counts ``maxiter``
        for the rows not yet solved) with the relative residual as ``value``, and can
        cancel (:class:`CancelledError`). See :mod:`pdeblocks.progress`.

        Returns
        -------
        x : ndarray
            The last iterate (same shape as b).
        info : dict (a list of dicts for a (batch, n) b)
            ``residuals`` (``||b - A x_k||_2``, k = 0..cycles), ``relative_residuals``,
            ``convergence_factor`` (``(r_m / r_0)^(1/m)``), ``cycles``, ``converged``,
            ``message``.
        """
        ba, x0a, batch, squeeze = as_rhs(b, x0, self.n, f"the hierarchy has n = {self.n}")
        n = self.n
        tol = as_float(tol, "tol")
        name = "maxiter" if max_cycles is None else "max_cycles"   # the name the caller used
        max_cycles = as_int(renamed("Multigrid.solve", "max_cycles", "maxiter", max_cycles, maxiter, 100), name)
        if max_cycles < 0:   # before sizing the residual history by it
            raise PDEBlocksError(f"{name} must be nonnegative, got {max_cycles}")
        x = as_output(ba.shape)
        infos = []
        history = as_output(max_cycles + 1)
        with session(progress, "multigrid", "cycle", "residual", segments=batch, bound=max_cycles) as s:
            for i in range(batch):
                cycles, conv, factor = ctypes.c_int64(), ctypes.c_int32(), F64()
                call(_mg_solve, self._h, ptr(ba[i]), None if x0a is None else ptr(x0a[i]), n, tol, max_cycles,
                     ptr(x[i]), ptr(history), history.size, ctypes.addressof(cycles), ctypes.addressof(conv),
                     ctypes.addressof(factor))
                s.next_segment()
                infos.append(_info(history, cycles.value, conv.value, factor.value, tol, ba[i], "cycles",
                                   max_cycles))
        return (x[0], infos[0]) if squeeze else (x, infos)

    def aspreconditioner(self):
        """The hierarchy as a preconditioner ``M ~ A^-1`` for SciPy's Krylov solvers.

        A ``scipy.sparse.linalg.LinearOperator`` of shape ``(n, n)``: each application is one
        cycle from a zero start, ``M r = cycle(0, r)``, as PyAMG's ``aspreconditioner``. A
        symmetric cycle (the default ``gauss_seidel``, ``pre == post``, V or W) gives a
        symmetric positive definite M, as :func:`scipy.sparse.linalg.cg` needs; any cycle
        suits ``gmres``, ``bicgstab`` ... The operator uses this hierarchy: keep it open.

        >>> import numpy as np, scipy.sparse.linalg as spla, pdeblocks as pb
        >>> A = pb.poisson_1d(1023)
        >>> M = pb.Multigrid(A).aspreconditioner()
        >>> x, status = spla.cg(A.to_scipy(), np.ones(A.n), M=M, rtol=1e-10)
        """
        from scipy.sparse.linalg import LinearOperator

        n = self.n
        cycle, handle_of = _mg_cycle, Handle._h.fget

        def apply(r):
            rr = np.ascontiguousarray(np.asarray(r, dtype=np.float64).reshape(-1))
            if rr.size != n:
                raise PDEBlocksError(f"the preconditioner acts on vectors of length {n}, got {rr.size}")
            out = np.zeros(n)   # the zero start, cycled in place (out may equal x)
            call(cycle, handle_of(self), ptr(out), ptr(rr), 1, n, ptr(out))
            return out.reshape(np.shape(r)) if np.ndim(r) == 2 else out

        def apply_matrix(R):
            return np.column_stack([apply(R[:, j]) for j in range(R.shape[1])]) if R.shape[1] else np.zeros((n, 0))

        return LinearOperator((n, n), matvec=apply, rmatvec=apply, matmat=apply_matrix, dtype=np.float64)


_MOVED = {"poisson_1d": "gallery", "diffusion_system": "gallery", "cg": "krylov", "TwoLevelUNet": "unet",
          "semi_implicit": "accelerated", "as_banded": "banded"}


def __getattr__(name):
    # pdeblocks.multigrid held these names before the split; they still resolve from here.
    if name in _MOVED:
        import importlib
        return getattr(importlib.import_module("." + _MOVED[name], __package__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

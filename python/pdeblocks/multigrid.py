"""Banded systems, multigrid solvers and their U-net form, semi-implicit diffusion.

Paper Sec. 3: a multigrid V-cycle is a U-net on three-channel signals (x, b, r).
This module wraps the library's banded matrices and direct solver, multigrid
hierarchies (V/W/F cycles, Jacobi and Gauss-Seidel smoothers, geometric and
matrix-dependent transfers, Galerkin coarse operators), conjugate gradients with a
multigrid preconditioner, the literal U-net form of a cycle, a generic two-level
U-net composed of library blocks, and semi-implicit nonlinear diffusion.

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
>>> K = pb.DifferenceOperator([0, 1], h=1 / 1000)
>>> f = np.repeat([0.0, 1.0, 0.2], [300, 400, 300]) + 0.05 * np.random.randn(1000)
>>> u = pb.semi_implicit(f, K, pb.Diffusivity("perona_malik", 300.0), tau=1e-3, steps=10)
"""
from __future__ import annotations

import ctypes
import math

import numpy as np

from . import _abi
from ._lib import F64, PDEBlocksError, as_input, as_output, call, codes, lib, ptr, signals, _int
from .diffusivities import as_diffusivity
from .operators import Stencil
from .progress import reporting, session

__all__ = ["BandedMatrix", "poisson_1d", "diffusion_system", "Multigrid", "cg", "semi_implicit", "TwoLevelUNet"]

_matvec = lib.pdb_banded_matvec
_solve = lib.pdb_banded_solve
_poisson = lib.pdb_poisson_1d
_diffusion_bw = lib.pdb_diffusion_system_bandwidth
_diffusion = lib.pdb_diffusion_system
_mg_create = lib.pdb_mg_create
_mg_destroy = lib.pdb_mg_destroy
_mg_levels = lib.pdb_mg_levels
_mg_level_matrix = lib.pdb_mg_level_matrix
_mg_prolong = lib.pdb_mg_prolong
_mg_restrict = lib.pdb_mg_restrict
_mg_cycle = lib.pdb_mg_cycle
_mg_unet = lib.pdb_mg_unet_cycle
_mg_solve = lib.pdb_mg_solve
_cg = lib.pdb_cg
_semi = lib.pdb_semi_implicit
_unet_create = lib.pdb_unet2_create
_unet_destroy = lib.pdb_unet2_destroy
_unet_forward = lib.pdb_unet2_forward

_GRIDS = {None: _abi.PDB_GRID_UNKNOWN, **codes("PDB_GRID_")}
_SMOOTHERS = codes("PDB_MG_", ("jacobi", "gauss_seidel", "gauss_seidel_forward", "symmetric_gauss_seidel", "red_black"))
_CYCLES = codes("PDB_MG_CYCLE_", ("V", "W", "F"))
_TRANSFERS = codes("PDB_MG_TRANSFER_")
_TRANSFER_NAMES = {v: k for k, v in _TRANSFERS.items()}
_STRATEGIES = {v: k for k, v in codes("PDB_LU_").items()}
_SEMI_SOLVERS = codes("PDB_SEMI_")
_UNET_TRANSFERS = codes("PDB_MG_TRANSFER_", ("cell", "vertex"))


def _choice(value, table, what):
    if value not in table:
        known = ", ".join(repr(k) for k in table if k is not None)
        raise PDEBlocksError(f"unknown {what} {value!r} (known: {known})")
    return table[value]


def _float(value, name):
    try:
        return float(value)
    except (TypeError, ValueError):
        raise PDEBlocksError(f"{name} must be a number, got {value!r}") from None


class BandedMatrix:
    """A square banded matrix, stored by rows of its band.

    Parameters
    ----------
    offsets : sequence of int
        Distinct diagonal offsets (0 = main, > 0 above, < 0 below).
    diagonals : sequence of array_like
        ``diagonals[k]`` is the diagonal with offset ``offsets[k]``, of length
        ``n - |offsets[k]|`` (the convention of ``scipy.sparse.diags``); a scalar
        fills the whole diagonal (then ``n`` is required).
    n : int, optional
        The order; inferred from the first array diagonal if omitted.
    grid : {None, "vertex", "cell"}
        Where the unknowns live, which selects a multigrid hierarchy's default transfer:
        ``"vertex"`` (Dirichlet, linear interpolation / full weighting), ``"cell"``
        (mirrored boundaries, cell-centred interpolation), None (matrix-dependent).

    Notes
    -----
    ``band`` is the row-major ``(n, lower + upper + 1)`` array with
    ``band[i, j - i + lower] = A[i, j]`` (slots outside the matrix are 0): the layout
    of the C ABI. Instances are immutable.
    """

    def __init__(self, offsets, diagonals, *, n=None, grid=None):
        offs = [_int(k, "offset") for k in np.atleast_1d(np.asarray(offsets, dtype=object))]
        if isinstance(diagonals, np.ndarray) and diagonals.ndim == 1 and len(offs) == 1:
            diagonals = [diagonals]
        diags = list(diagonals)
        if len(offs) == 0:
            raise PDEBlocksError("no diagonals given")
        if len(offs) != len(diags):
            raise PDEBlocksError(f"{len(offs)} offsets but {len(diags)} diagonals")
        if len(set(offs)) != len(offs):
            raise PDEBlocksError(f"offsets must be distinct, got {offs}")
        arrays = []
        for k, d in zip(offs, diags):
            a = np.asarray(d)
            if a.dtype.kind not in "fiu":
                raise PDEBlocksError(f"diagonal {k} must be real numbers, got dtype {a.dtype}")
            if a.ndim > 1:
                raise PDEBlocksError(f"diagonal {k} must be 1-D or a scalar, got shape {a.shape}")
            arrays.append(a.astype(np.float64))
        if n is None:
            sized = [(k, a) for k, a in zip(offs, arrays) if a.ndim == 1]
            if not sized:
                raise PDEBlocksError("n is required when every diagonal is a scalar")
            n = sized[0][1].size + abs(sized[0][0])
        n = _int(n, "n")
        if n < 1:
            raise PDEBlocksError(f"n must be positive, got {n}")
        lower = max(0, -min(offs))
        upper = max(0, max(offs))
        if lower >= n or upper >= n:
            raise PDEBlocksError(f"offsets {offs} do not fit a matrix of order n = {n}")
        band = np.zeros((n, lower + upper + 1))
        for k, a in zip(offs, arrays):
            length = n - abs(k)
            if a.ndim == 0:
                a = np.full(length, float(a))
            elif a.size != length:
                raise PDEBlocksError(
                    f"diagonal with offset {k} has length {a.size}, expected n - |offset| = {length} (n = {n})")
            if not np.all(np.isfinite(a)):
                raise PDEBlocksError(f"diagonal with offset {k} contains a non-finite value")
            rows = np.arange(length) if k >= 0 else np.arange(length) - k
            band[rows, k + lower] = a
        self._set(band, lower, upper, grid)

    def _set(self, band, lower, upper, grid):
        _choice(grid, _GRIDS, "grid")
        self._band = np.ascontiguousarray(band, dtype=np.float64)
        self._band.flags.writeable = False
        self._lower = int(lower)
        self._upper = int(upper)
        self._grid = grid if grid != "unknown" else None

    @classmethod
    def _from_band(cls, band, lower, upper, grid=None):
        obj = cls.__new__(cls)
        obj._set(band, lower, upper, grid)
        return obj

    @classmethod
    def from_scipy(cls, A, *, max_bandwidth: int = 256, grid=None):
        """A banded matrix from a square ``scipy.sparse`` matrix (duplicates summed).

        Raises :class:`PDEBlocksError` when A is not square or its bandwidth
        ``max(lower, upper)`` exceeds ``max_bandwidth``.
        """
        import scipy.sparse as sp
        if not sp.issparse(A):
            raise PDEBlocksError(f"expected a scipy.sparse matrix, got {type(A).__name__}")
        m, n = A.shape
        if m != n:
            raise PDEBlocksError(f"the matrix must be square, got shape {A.shape}")
        if n < 1:
            raise PDEBlocksError("the matrix is empty")
        coo = sp.coo_matrix(A)
        rows, cols, vals = coo.row.astype(np.int64), coo.col.astype(np.int64), np.asarray(coo.data, dtype=np.float64)
        if vals.dtype.kind != "f" or not np.all(np.isfinite(vals)):
            raise PDEBlocksError("the matrix contains a non-finite value")
        d = cols - rows
        lower = int(max(0, -d.min())) if d.size else 0
        upper = int(max(0, d.max())) if d.size else 0
        if max(lower, upper) > max_bandwidth:
            raise PDEBlocksError(
                f"the matrix has bandwidth {max(lower, upper)} (lower {lower}, upper {upper}), above "
                f"max_bandwidth = {max_bandwidth}: not a banded matrix")
        band = np.zeros((n, lower + upper + 1))
        np.add.at(band, (rows, d + lower), vals)
        return cls._from_band(band, lower, upper, grid)

    @classmethod
    def from_dense(cls, A, *, grid=None):
        """A banded matrix from a dense square array (bandwidth from its nonzeros)."""
        a = as_input(A, "A", ndim=(2,))
        if a.shape[0] != a.shape[1]:
            raise PDEBlocksError(f"the matrix must be square, got shape {a.shape}")
        if not np.all(np.isfinite(a)):
            raise PDEBlocksError("the matrix contains a non-finite value")
        import scipy.sparse as sp
        return cls.from_scipy(sp.coo_matrix(a), max_bandwidth=a.shape[0], grid=grid)

    # -- properties --------------------------------------------------------
    @property
    def n(self) -> int:
        return self._band.shape[0]

    @property
    def shape(self):
        return (self.n, self.n)

    @property
    def lower(self) -> int:
        """Lower bandwidth (number of subdiagonals)."""
        return self._lower

    @property
    def upper(self) -> int:
        """Upper bandwidth (number of superdiagonals)."""
        return self._upper

    @property
    def band(self) -> np.ndarray:
        """The read-only ``(n, lower + upper + 1)`` band storage."""
        return self._band

    @property
    def grid(self):
        """``"vertex"``, ``"cell"`` or None."""
        return self._grid

    @property
    def offsets(self):
        return list(range(-self._lower, self._upper + 1))

    @property
    def diagonals(self):
        return [self.diagonal(k) for k in self.offsets]

    @property
    def _c(self):
        return (self.n, self._lower, self._upper, ptr(self._band))

    def __repr__(self):
        return f"BandedMatrix(n={self.n}, lower={self._lower}, upper={self._upper}, grid={self._grid!r})"

    def diagonal(self, k: int = 0) -> np.ndarray:
        """The diagonal with offset k (length ``n - |k|``), a new array."""
        k = _int(k, "k")
        length = self.n - abs(k)
        if length <= 0:
            raise PDEBlocksError(f"offset {k} is outside a matrix of order {self.n}")
        if k < -self._lower or k > self._upper:
            return np.zeros(length)
        rows = np.arange(length) if k >= 0 else np.arange(length) - k
        return self._band[rows, k + self._lower].copy()

    def todense(self) -> np.ndarray:
        """The dense ``(n, n)`` matrix."""
        out = np.zeros((self.n, self.n))
        for k in self.offsets:
            out += np.diag(self.diagonal(k), k)
        return out

    def to_scipy(self, format: str = "csr"):
        """The matrix as a ``scipy.sparse`` array (``format`` as in ``asformat``)."""
        import scipy.sparse as sp
        offs = self.offsets
        build = getattr(sp, "diags_array", None)
        A = build(self.diagonals, offsets=offs, shape=self.shape) if build else sp.diags(self.diagonals, offs, shape=self.shape)
        return A.asformat(format)

    @property
    def T(self) -> "BandedMatrix":
        """The transpose."""
        return BandedMatrix([-k for k in self.offsets], [self.diagonal(k) for k in self.offsets],
                            n=self.n, grid=self._grid)

    def matvec(self, x) -> np.ndarray:
        """``A x`` for a vector or each row of a ``(batch, n)`` array."""
        arr, batch, n, squeeze = signals(x, "x")
        if n != self.n:
            raise PDEBlocksError(f"x has length {n}, expected n = {self.n}")
        out = as_output(arr.shape)
        call(_matvec, *self._c, ptr(arr), batch, ptr(out))
        return out[0] if squeeze else out

    def __matmul__(self, x):
        return self.matvec(x)

    def solve(self, b, *, return_strategy: bool = False):
        """``A^{-1} b`` by banded LU (O(n) for tridiagonal A), for a vector or each row.

        Pivoting is skipped when it is provably unnecessary (A symmetric positive
        definite, or diagonally dominant); otherwise partial pivoting. Raises
        :class:`PDEBlocksError` if A is singular to working precision. With
        ``return_strategy=True`` also returns ``"spd"``, ``"diagonally_dominant"`` or
        ``"partial_pivoting"``.
        """
        arr, batch, n, squeeze = signals(b, "b")
        if n != self.n:
            raise PDEBlocksError(f"b has length {n}, expected n = {self.n}")
        out = as_output(arr.shape)
        strategy = ctypes.c_int32(-1)
        call(_solve, *self._c, ptr(arr), batch, ptr(out), ctypes.addressof(strategy))
        x = out[0] if squeeze else out
        return (x, _STRATEGIES[strategy.value]) if return_strategy else x


def as_banded(A, name: str = "A") -> BandedMatrix:
    """Accept a :class:`BandedMatrix`, a ``scipy.sparse`` matrix or a dense array."""
    if isinstance(A, BandedMatrix):
        return A
    try:
        import scipy.sparse as sp
        if sp.issparse(A):
            return BandedMatrix.from_scipy(A)
    except ImportError:  # pragma: no cover
        pass
    if isinstance(A, np.ndarray) or isinstance(A, (list, tuple)):
        return BandedMatrix.from_dense(A)
    raise PDEBlocksError(f"{name} must be a BandedMatrix, a scipy.sparse matrix or a 2-D array, got {type(A).__name__}")


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
    n = _int(n, "n")
    if n < 1:
        raise PDEBlocksError(f"n must be positive, got {n}")
    h = 1.0 / (n + 1) if h is None else _float(h, "h")
    k = min(1, n - 1)
    band = as_output((n, 2 * k + 1))
    call(_poisson, n, h, ptr(band))
    return BandedMatrix._from_band(band, k, k, "vertex")


def diffusion_system(K, w, tau: float) -> BandedMatrix:
    """The implicit diffusion matrix ``A = I + tau K^T diag(w) K``.

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
    if not isinstance(K, Stencil):
        raise PDEBlocksError(f"K must be a Stencil, got {type(K).__name__}")
    wa = as_input(w, "w", ndim=(1,))
    n = wa.size
    if n < 1:
        raise PDEBlocksError("w is empty")
    bw = ctypes.c_int64()
    call(_diffusion_bw, *K._c, n, ctypes.addressof(bw))
    k = bw.value
    band = as_output((n, 2 * k + 1))
    call(_diffusion, *K._c, ptr(wa), n, _float(tau, "tau"), ptr(band), band.size)
    return BandedMatrix._from_band(band, k, k, "cell")


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


class Multigrid:
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
    """

    def __init__(self, A, *, smoother: str = "gauss_seidel", omega=None, pre: int = 2, post: int = 2,
                 cycle: str = "V", coarsest: int = 3, max_levels=None, transfer: str = "auto"):
        self._handle = None
        A = as_banded(A)
        if isinstance(cycle, str):
            cycle = cycle.upper()
        om = 0.0  # the library's default weight
        if omega is not None:
            om = _float(omega, "omega")
            if not 0 < om < 2:
                raise PDEBlocksError(f"omega must lie in (0, 2), got {omega}")
        handle = ctypes.c_void_p()
        call(_mg_create, *A._c, _choice(A.grid, _GRIDS, "grid"), _choice(smoother, _SMOOTHERS, "smoother"), om,
             _int(pre, "pre"), _int(post, "post"), _choice(cycle, _CYCLES, "cycle"),
             _choice(transfer, _TRANSFERS, "transfer"), _int(coarsest, "coarsest"),
             0 if max_levels is None else _positive(max_levels, "max_levels"), ctypes.addressof(handle))
        self._handle = handle.value
        self.A = A
        self.smoother, self.omega, self.pre, self.post, self.cycle_kind = smoother, omega, pre, post, cycle
        count, kind = ctypes.c_int64(), ctypes.c_int32()
        call(_mg_levels, self._handle, None, 0, ctypes.addressof(count), ctypes.addressof(kind))
        sizes = np.zeros(count.value, dtype=np.int64)
        call(_mg_levels, self._handle, sizes.ctypes.data, sizes.size, ctypes.addressof(count), None)
        self._levels = [int(s) for s in sizes]
        #: the transfer in use ("vertex", "cell" or "matrix"; "auto" resolved)
        self.transfer = _TRANSFER_NAMES[kind.value]

    def __del__(self):
        self.close()

    def close(self):
        """Free the hierarchy (also done when the object is garbage collected)."""
        handle, self._handle = getattr(self, "_handle", None), None
        if handle is not None:
            try:
                _mg_destroy(handle)
            except Exception:  # pragma: no cover - interpreter shutdown
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def _h(self):
        if self._handle is None:
            raise PDEBlocksError("the multigrid hierarchy has been closed")
        return self._handle

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
        level = _int(level, "level")
        kl, ku = ctypes.c_int64(), ctypes.c_int64()
        call(_mg_level_matrix, self._h, level, ctypes.addressof(kl), ctypes.addressof(ku), None, 0)
        if not 0 <= level < len(self._levels):
            raise PDEBlocksError(f"level {level} is out of range 0..{len(self._levels) - 1}")
        band = as_output((self._levels[level], kl.value + ku.value + 1))
        call(_mg_level_matrix, self._h, level, ctypes.addressof(kl), ctypes.addressof(ku), ptr(band), band.size)
        return BandedMatrix._from_band(band, kl.value, ku.value, self.A.grid)

    def _check_transfer_level(self, level):
        level = _int(level, "level")
        if not 0 <= level < len(self._levels) - 1:
            raise PDEBlocksError(f"transfer level {level} is out of range 0..{len(self._levels) - 2}")
        return level

    def prolong(self, level: int, e) -> np.ndarray:
        """``P_level e``: from level+1 (length ``levels[level+1]``) to level."""
        level = self._check_transfer_level(level)
        arr = as_input(e, "e", ndim=(1,))
        out = as_output(self._levels[level])
        call(_mg_prolong, self._h, level, ptr(arr), arr.size, ptr(out), out.size)
        return out

    def restrict(self, level: int, r) -> np.ndarray:
        """``R_level r``: from level (length ``levels[level]``) to level+1."""
        level = self._check_transfer_level(level)
        arr = as_input(r, "r", ndim=(1,))
        out = as_output(self._levels[level + 1])
        call(_mg_restrict, self._h, level, ptr(arr), arr.size, ptr(out), out.size)
        return out

    def _pair(self, x, b):
        xa, batch, n, squeeze = signals(x, "x")
        ba, bb, bn, bsq = signals(b, "b")
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

    def solve(self, b, x0=None, *, tol: float = 1e-10, max_cycles: int = 100, progress=None):
        """Solve ``A x = b`` by cycles until ``||b - A x|| <= tol ||b||`` or ``max_cycles``.

        Never hangs: non-convergence (a singular system, a tolerance below the rounding
        floor ``~ eps ||A|| ||x|| / ||b||``, ...) is reported in ``info``.

        ``progress`` (None, True for a tqdm bar, a callable or a :class:`Progress`)
        reports cycles (summed over the rows of a batch; ``total`` counts ``max_cycles``
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
        ba, batch, n, squeeze = signals(b, "b")
        if n != self.n:
            raise PDEBlocksError(f"b has length {n}, the hierarchy has n = {self.n}")
        x0a = None
        if x0 is not None:
            x0a, _, _, _ = signals(x0, "x0")
            if x0a.shape != ba.shape:
                raise PDEBlocksError(f"x0 has shape {np.shape(x0)}, expected {np.shape(b)}")
        tol = _float(tol, "tol")
        max_cycles = _int(max_cycles, "max_cycles")
        if max_cycles < 0:
            raise PDEBlocksError(f"max_cycles must be nonnegative, got {max_cycles}")
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


def _positive(value, name):
    v = _int(value, name)
    if v <= 0:
        raise PDEBlocksError(f"{name} must be positive, got {v}")
    return v


def cg(A, b, *, preconditioner=None, tol: float = 1e-10, max_iter=None, x0=None, progress=None):
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
    max_iter : int, optional
        Default ``max(n, 100)``.
    progress : None, bool, callable or Progress
        Reports iterations with the relative residual as ``value``, as in
        :meth:`Multigrid.solve`, and can cancel (:class:`CancelledError`).

    Returns
    -------
    x, info
        ``info`` as in :meth:`Multigrid.solve` with ``iterations`` instead of ``cycles``.
    """
    A = as_banded(A)
    owned = None
    if isinstance(preconditioner, str):
        if preconditioner != "multigrid":
            raise PDEBlocksError(f"unknown preconditioner {preconditioner!r} (known: None, 'multigrid', a Multigrid)")
        preconditioner = owned = Multigrid(A)
    if preconditioner is not None and not isinstance(preconditioner, Multigrid):
        raise PDEBlocksError(f"preconditioner must be None, 'multigrid' or a Multigrid, got {type(preconditioner).__name__}")
    ba, batch, n, squeeze = signals(b, "b")
    if n != A.n:
        raise PDEBlocksError(f"b has length {n}, expected n = {A.n}")
    x0a = None
    if x0 is not None:
        x0a, _, _, _ = signals(x0, "x0")
        if x0a.shape != ba.shape:
            raise PDEBlocksError(f"x0 has shape {np.shape(x0)}, expected {np.shape(b)}")
    max_iter = min(max(n, 100), 1_000_000) if max_iter is None else _int(max_iter, "max_iter")
    if max_iter < 0:
        raise PDEBlocksError(f"max_iter must be nonnegative, got {max_iter}")
    tol = _float(tol, "tol")
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


def semi_implicit(f, K, g, tau: float, steps: int, *, solver: str = "direct", tol: float = 1e-10,
                  max_cycles: int = 100, progress=None) -> np.ndarray:
    """Semi-implicit nonlinear diffusion: ``(I + tau K^T G(u^k) K) u^{k+1} = u^k``.

    ``G(u) = diag(g(|K u|^2))`` is lagged, so each step is one SPD linear system. The
    scheme is unconditionally stable (``||u^{k+1}|| <= ||u^k||`` for every tau > 0); for a
    forward-difference K it also keeps ``min f <= u <= max f``.

    Parameters
    ----------
    f : array_like, shape (N,) or (batch, N)
        Initial signal(s); never modified.
    K : Stencil
    g : Diffusivity or str
    tau : float
        Time step > 0; may be far above the explicit bound.
    steps : int
    solver : {"direct", "multigrid"}
        Banded LU (exact, O(N)) or V(2,2) Gauss-Seidel multigrid cycles from ``u^k``
        to a relative residual ``tol`` (at most ``max_cycles`` per step, else
        :class:`NotConvergedError`).
    progress : None, bool, callable or Progress
        Progress reports in steps x rows (multigrid: the last step's relative residual
        as ``value``), and cancellation (:class:`CancelledError`); ``True`` shows a tqdm
        bar. See :mod:`pdeblocks.progress`.

    Returns
    -------
    ndarray, same shape as f
    """
    if not isinstance(K, Stencil):
        raise PDEBlocksError(f"K must be a Stencil, got {type(K).__name__}")
    g = as_diffusivity(g)
    method = _choice(solver, _SEMI_SOLVERS, "solver")
    arr, batch, n, squeeze = signals(f)
    out = as_output(arr.shape)
    cycles = ctypes.c_int64()
    fn = _semi if progress is None else reporting(
        progress, "semi-implicit", "step", _semi, "residual" if method == _abi.PDB_SEMI_MULTIGRID else None)
    call(fn, ptr(arr), batch, n, *K._c, *g._c, _float(tau, "tau"), _int(steps, "steps"), method,
         _float(tol, "tol"), _int(max_cycles, "max_cycles"), ctypes.addressof(cycles), ptr(out))
    return out[0] if squeeze else out


class TwoLevelUNet:
    """The generic two-level U-net of the paper's Sec. 3.1 with additive combination.

    ``f~ = C1(f)``, ``f_H = R f~``, ``f~_H = C_H(f_H)``, ``f_new = f~ + P f~_H``,
    ``out = C2(f_new)``.

    Parameters
    ----------
    pre, coarse, post : sequence of blocks
        The chains C1, C_H, C2 (empty = identity). A block is a :class:`Stencil`
        (``u -> K u``) or a tuple ``(K, g, tau)`` (the diffusion block
        ``u -> u - tau K^T Phi(K u)``, one explicit step). Coarse blocks act on
        signals of length ``ceil(N/2)`` ("cell") or ``floor(N/2)`` ("vertex").
    transfer : {"cell", "vertex"}
        ``"cell"``: R averages pairs of cells (weights 1/8, 3/8, 3/8, 1/8), P
        interpolates linearly, both mirrored at the boundary. ``"vertex"``: full
        weighting and linear interpolation with zero boundary values.
    """

    def __init__(self, pre=(), coarse=(), post=(), *, transfer: str = "cell"):
        self._handle = None
        chains = [list(pre), list(coarse), list(post)]
        kinds, lengths, offsets, weights, gkinds, lambdas, taus = [], [], [], [], [], [], []
        for block in chains[0] + chains[1] + chains[2]:
            if isinstance(block, Stencil):
                kinds.append(_abi.PDB_UNET_STENCIL)
                K, gk, lam, tau = block, _abi.PDB_DIFFUSIVITY_LINEAR, 1.0, 0.0
            elif isinstance(block, tuple) and len(block) == 3 and isinstance(block[0], Stencil):
                K, g, tau = block
                g = as_diffusivity(g)
                kinds.append(_abi.PDB_UNET_DIFFUSION)
                gk, lam, tau = g.kind, g.lam, _float(tau, "tau")
            else:
                raise PDEBlocksError(f"a U-net block must be a Stencil or a tuple (Stencil, diffusivity, tau), got {block!r}")
            lengths.append(K.weights.size)
            offsets.append(K.offset)
            weights.append(K.weights)
            gkinds.append(gk)
            lambdas.append(lam)
            taus.append(tau)
        count = len(kinds)
        arrays = dict(
            kinds=np.array(kinds, dtype=np.int32), lengths=np.array(lengths, dtype=np.int64),
            offsets=np.array(offsets, dtype=np.int64),
            weights=np.concatenate(weights) if weights else np.zeros(0),
            gkinds=np.array(gkinds, dtype=np.int32), lambdas=np.array(lambdas, dtype=np.float64),
            taus=np.array(taus, dtype=np.float64))
        handle = ctypes.c_void_p()
        t = _choice(transfer, _UNET_TRANSFERS, "transfer")
        call(_unet_create, count, *(a.ctypes.data for a in arrays.values()), len(chains[0]), len(chains[1]), t,
             ctypes.addressof(handle))
        self._handle = handle.value
        self._arrays = arrays
        self.pre, self.coarse, self.post, self.transfer = chains[0], chains[1], chains[2], transfer

    def __del__(self):
        handle, self._handle = getattr(self, "_handle", None), None
        if handle is not None:
            try:
                _unet_destroy(handle)
            except Exception:  # pragma: no cover
                pass

    def forward(self, f) -> np.ndarray:
        """Apply the network to a signal or each row of a ``(batch, N)`` array (N >= 2)."""
        arr, batch, n, squeeze = signals(f)
        out = as_output(arr.shape)
        call(_unet_forward, self._handle, ptr(arr), batch, n, ptr(out))
        return out[0] if squeeze else out

    __call__ = forward

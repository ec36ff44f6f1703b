"""Banded matrices: storage by rows of the band, products and the banded direct solver.

``band`` is the row-major ``(n, lower + upper + 1)`` array with ``band[i, j - i + lower] =
A[i, j]``, the layout of the C ABI (``pdeblocks_multigrid.h``).
"""
from __future__ import annotations

import ctypes

import numpy as np

from . import _abi
from ._args import as_array, as_choice, as_int, as_signals
from ._lib import PDEBlocksError, as_output, call, codes, lib, ptr

__all__ = ["BandedMatrix", "as_banded"]

_matvec = lib.pdb_banded_matvec
_solve = lib.pdb_banded_solve

_GRIDS = {None: _abi.PDB_GRID_UNKNOWN, **codes("PDB_GRID_")}
_STRATEGIES = {v: k for k, v in codes("PDB_LU_").items()}


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
        offs = [as_int(k, "offset") for k in np.atleast_1d(np.asarray(offsets, dtype=object))]
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
        n = as_int(n, "n")
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
        as_choice(grid, _GRIDS, "grid")
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
        a = as_array(A, "A", ndim=(2,))
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
        k = as_int(k, "k")
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
        arr, batch, n, squeeze = as_signals(x, "x")
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
        arr, batch, n, squeeze = as_signals(b, "b")
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

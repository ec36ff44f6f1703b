"""Stencils: 1D convolution operators K with mirrored (reflecting) boundaries."""
from __future__ import annotations

import ctypes

import numpy as np
import numpy.typing as npt

from ._args import as_array, as_float, as_int, as_signals
from ._lib import F64, FloatArray, call, lib, as_output, ptr, PDEBlocksError

__all__ = ["Stencil", "DifferenceOperator"]

_apply = lib.pdb_stencil_apply
_adjoint = lib.pdb_stencil_adjoint
_matrix = lib.pdb_stencil_matrix
_norm2 = lib.pdb_stencil_norm_squared
_difference = lib.pdb_difference_operator


class Stencil:
    """A 1D stencil K: ``(K u)_i = sum_j w_j u~_{i+offset+j}`` with the half-sample
    mirror extension ``u~_{-1-k} = u_k``, ``u~_{N+k} = u_{N-1-k}`` (reflecting boundaries).

    ``K.T`` (``adjoint``) is the exact matrix transpose, so ``<K u, v> = <u, K^T v>``.
    In the paper K discretises D and K^T discretises D* (eq. 4).

    Parameters
    ----------
    weights : array_like
        The weights ``w_0 .. w_{q-1}`` (nonempty, finite).
    offset : int
        Offset of ``w_0`` relative to the output sample.
    """

    def __init__(self, weights: npt.ArrayLike, offset: int = 0) -> None:
        w = as_array(weights, "weights", ndim=(1,))
        if w.size == 0:
            raise PDEBlocksError("stencil has no weights")
        if not np.all(np.isfinite(w)):
            raise PDEBlocksError("stencil weights must be finite")
        self.weights = w.copy()
        self.weights.flags.writeable = False
        self.offset = as_int(offset, "offset")
        self._norms: dict[int, float] = {}
        # C argument triple (weights, length, offset); the weights array is immutable and
        # owned by self, so its address stays valid for the object's life.
        self._c: tuple[int | None, int, int] = (ptr(self.weights), self.weights.size, self.offset)

    def __repr__(self) -> str:
        return f"Stencil({self.weights.tolist()!r}, offset={self.offset})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Stencil) and self.offset == other.offset and np.array_equal(self.weights, other.weights)

    def __hash__(self) -> int:
        return hash((self.weights.tobytes(), self.offset))

    def __reduce__(self):
        # Pickled by value and rebuilt (validated) by the constructor, e.g. on Dask workers.
        return (Stencil, (self.weights.tolist(), self.offset))

    def _map(self, fn, u: npt.ArrayLike, name: str) -> FloatArray:
        arr, batch, n, squeeze = as_signals(u, name)
        out = as_output(arr.shape)
        call(fn, *self._c, ptr(arr), batch, n, ptr(out))
        return out[0] if squeeze else out

    def apply(self, u: npt.ArrayLike) -> FloatArray:
        """``K u`` for a 1-D signal or each row of a (batch, N) array."""
        return self._map(_apply, u, "u")

    __call__ = apply

    def adjoint(self, y: npt.ArrayLike) -> FloatArray:
        """``K^T y`` (exact transpose of :meth:`apply`)."""
        return self._map(_adjoint, y, "y")

    def matrix(self, n: int) -> FloatArray:
        """The dense N x N matrix of K (for inspection; N <= 32768)."""
        n = as_int(n, "n")
        if n <= 0 or n > 1 << 15:   # before allocating n * n values
            raise PDEBlocksError(f"n must be in 1..32768, got {n}")
        out = as_output((n, n))
        call(_matrix, *self._c, n, ptr(out))
        return out

    def norm_squared(self, n: int) -> float:
        """``||K||_2^2`` on signals of length N: certified upper bound within 1e-8 relative."""
        n = as_int(n, "n")
        if n not in self._norms:
            out = F64()
            call(_norm2, *self._c, n, ctypes.addressof(out))
            self._norms[n] = out.value
        return self._norms[n]


def DifferenceOperator(alphas: npt.ArrayLike, h: float = 1.0) -> Stencil:
    """The stencil of ``D = sum_m alphas[m] d^m/dx^m`` on grid spacing h (paper Sec. 2.1).

    Order-m difference: weights ``(-1)^(m-j) C(m,j) / h^m``, offset ``-floor(m/2)``;
    e.g. ``DifferenceOperator([0, 1])`` is the forward difference,
    ``DifferenceOperator([0, 0, 1])`` the centred second difference.
    """
    a = as_array(alphas, "alphas", ndim=(1,))
    length, offset = ctypes.c_int64(), ctypes.c_int64()
    h = as_float(h, "h")
    call(_difference, ptr(a), a.size, h, None, 0, ctypes.addressof(length), ctypes.addressof(offset))
    w = as_output(length.value)
    call(_difference, ptr(a), a.size, h, ptr(w), w.size, ctypes.addressof(length), ctypes.addressof(offset))
    return Stencil(w, offset.value)

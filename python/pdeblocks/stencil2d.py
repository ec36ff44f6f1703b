"""2D stencils and filter banks: convolution operators on images with mirrored boundaries.

Conventions (``include/pdeblocks_images.h``): an image is a row-major (H, W) float64 array
(i = row = y, j = column = x); a batch is (B, H, W). A 2D stencil has weights ``w[a, b]``
and an offset ``(oy, ox)``::

    (K u)[i, j] = sum_a sum_b w[a, b] * u~[i + oy + a, j + ox + b]

with the half-sample mirror applied to each index independently. A list of stencils is a
filter bank, the stacked operator ``K = [K_1; ...; K_C]``.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import numpy.typing as npt

from ._args import as_array, as_float, as_int
from ._lib import FloatArray, PDEBlocksError, ptr

__all__ = ["Stencil2D", "gradient_2d", "as_bank"]


class Stencil2D:
    """A 2D stencil K with mirrored (reflecting) boundaries on both axes.

    Parameters
    ----------
    weights : array_like, 2-D
        The weights ``w[a, b]`` (rows x columns, nonempty, finite). A 1-D array is one row
        (a stencil along x).
    offset : (int, int)
        ``(oy, ox)``, the offset of ``w[0, 0]`` relative to the output pixel.
    """

    def __init__(self, weights: npt.ArrayLike, offset: tuple[int, int] = (0, 0)) -> None:
        w = as_array(weights, "weights", ndim=(1, 2))
        if w.ndim == 1:
            w = w.reshape(1, -1)
        if w.size == 0:
            raise PDEBlocksError("2D stencil has no weights")
        if not np.all(np.isfinite(w)):
            raise PDEBlocksError("2D stencil weights must be finite")
        try:
            oy, ox = offset
        except (TypeError, ValueError):
            raise PDEBlocksError(f"offset must be a pair (oy, ox), got {offset!r}") from None
        self.weights = w.copy()
        self.weights.flags.writeable = False
        self.offset = (as_int(oy, "offset[0]"), as_int(ox, "offset[1]"))

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, columns)`` of the weights."""
        return self.weights.shape  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"Stencil2D({self.weights.tolist()!r}, offset={self.offset})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Stencil2D) and self.offset == other.offset
                and np.array_equal(self.weights, other.weights))

    def __hash__(self) -> int:
        return hash((self.weights.tobytes(), self.weights.shape, self.offset))

    def __reduce__(self):
        return (Stencil2D, (self.weights.tolist(), self.offset))


def gradient_2d(h: float = 1.0) -> list[Stencil2D]:
    """``[Kx, Ky]``: forward differences ``Kx = [[-1, 1]]/h`` (along x) and
    ``Ky = [[-1], [1]]/h`` (along y), offsets (0, 0). The mirror makes Kx zero in the last
    column and Ky zero in the last row."""
    h = as_float(h, "h")
    if not (np.isfinite(h) and h > 0):
        raise PDEBlocksError(f"h must be positive and finite, got {h}")
    return [Stencil2D([[-1.0 / h, 1.0 / h]]), Stencil2D([[-1.0 / h], [1.0 / h]])]


class _Bank:
    """A filter bank as the C ABI takes it: ``(filters, filter_shapes, filter_weights)``.
    Holds the arrays, so the pointers stay valid while the object lives."""

    def __init__(self, stencils: Sequence[Stencil2D]) -> None:
        self.stencils = tuple(stencils)
        self.shapes = np.array([[s.shape[0], s.shape[1], s.offset[0], s.offset[1]] for s in self.stencils],
                               dtype=np.int64).reshape(-1)
        self.weights = np.ascontiguousarray(np.concatenate([s.weights.reshape(-1) for s in self.stencils]))
        self.c = (len(self.stencils), ptr(self.shapes), ptr(self.weights))

    def __len__(self) -> int:
        return len(self.stencils)


def as_bank(K: Any, name: str = "K") -> _Bank:
    """A filter bank argument: one :class:`Stencil2D` or a nonempty list/tuple of them."""
    if isinstance(K, Stencil2D):
        return _Bank([K])
    if isinstance(K, (list, tuple)) and K and all(isinstance(k, Stencil2D) for k in K):
        return _Bank(K)
    raise PDEBlocksError(f"{name} must be a Stencil2D or a nonempty list of Stencil2D, got {type(K).__name__}")

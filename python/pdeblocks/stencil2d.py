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

import ctypes

from ._args import as_array, as_float, as_int
from ._lib import F64, FloatArray, PDEBlocksError, as_output, call, lib, ptr
from .diffusivities import as_diffusivity

__all__ = ["Stencil2D", "gradient_2d", "as_bank", "apply_bank", "adjoint_bank", "filter_bank_norm_squared",
           "bank_matrix", "stable_tau_2d"]

_apply = lib.pdb_stencil2d_apply
_adjoint = lib.pdb_stencil2d_adjoint
_matrix = lib.pdb_stencil2d_matrix
_norm2 = lib.pdb_filter_bank_norm_squared
_stable_tau = lib.pdb_stable_tau_2d


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

    def apply(self, u: npt.ArrayLike) -> FloatArray:
        """``K u`` for an (H, W) image or each image of a (B, H, W) batch (same shape out)."""
        out = apply_bank(self, u, name="u")
        return out[:, 0] if out.ndim == 4 else out[0]

    __call__ = apply

    def adjoint(self, y: npt.ArrayLike) -> FloatArray:
        """``K^T y`` (exact transpose of :meth:`apply`) for an (H, W) or (B, H, W) array."""
        arr = as_array(y, "y", ndim=(2, 3))
        return adjoint_bank(self, arr[..., None, :, :], name="y")

    def matrix(self, shape: tuple[int, int]) -> FloatArray:
        """The dense (H*W) x (H*W) matrix of K on (H, W) images (pixel index i*W + j)."""
        return bank_matrix(self, shape)


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


def _image_shape(shape: Any) -> tuple[int, int]:
    try:
        h, w = shape
    except (TypeError, ValueError):
        raise PDEBlocksError(f"shape must be a pair (H, W), got {shape!r}") from None
    return as_int(h, "H"), as_int(w, "W")


def apply_bank(K: Any, u: npt.ArrayLike, name: str = "u") -> FloatArray:
    """The stacked ``K u = [K_1 u; ...; K_C u]``: (C, H, W) for an (H, W) image,
    (B, C, H, W) for a (B, H, W) batch. ``K`` is a Stencil2D or a list of them."""
    bank = as_bank(K)
    arr = as_array(u, name, ndim=(2, 3))
    batch = 1 if arr.ndim == 2 else arr.shape[0]
    h, w = arr.shape[-2:]
    out = as_output((batch, len(bank), h, w))
    call(_apply, *bank.c, ptr(arr), batch, h, w, ptr(out))
    return out[0] if arr.ndim == 2 else out


def adjoint_bank(K: Any, y: npt.ArrayLike, name: str = "y") -> FloatArray:
    """``K^T y = sum_c K_c^T y_c``: (H, W) for a (C, H, W) stack, (B, H, W) for (B, C, H, W);
    C must be the number of filters."""
    bank = as_bank(K)
    arr = as_array(y, name, ndim=(3, 4))
    if arr.shape[-3] != len(bank):
        raise PDEBlocksError(f"{name} has {arr.shape[-3]} channels (shape {arr.shape}), "
                             f"expected one per filter: {len(bank)}")
    batch = 1 if arr.ndim == 3 else arr.shape[0]
    h, w = arr.shape[-2:]
    out = as_output((batch, h, w))
    call(_adjoint, *bank.c, ptr(arr), batch, h, w, ptr(out))
    return out[0] if arr.ndim == 3 else out


def bank_matrix(K: Any, shape: tuple[int, int]) -> FloatArray:
    """The dense (C*H*W) x (H*W) matrix of the stacked K (rows c*H*W + i*W + j; at most 2^24
    entries)."""
    bank = as_bank(K)
    h, w = _image_shape(shape)
    n = h * w
    if h <= 0 or w <= 0 or len(bank) * n * n > 1 << 24:   # before allocating
        raise PDEBlocksError(f"dense matrix of a {len(bank)}-filter bank on {h}x{w} images: "
                             "sizes must be positive and the matrix at most 2^24 entries")
    out = as_output((len(bank) * n, n))
    call(_matrix, *bank.c, h, w, ptr(out))
    return out


def filter_bank_norm_squared(K: Any, shape: tuple[int, int]) -> float:
    """Certified ``lambda_max(sum_c K_c^T K_c) = ||K||_2^2`` on (H, W) images: never below the
    true value. Exact (within 1e-8) for filters along one axis (1 x q, q x 1; e.g.
    ``gradient_2d``: ``(4cos^2(pi/2H) + 4cos^2(pi/2W))/h^2``) and for one separable filter;
    an upper bound (Hoelder) for general 2D filters."""
    bank = as_bank(K)
    h, w = _image_shape(shape)
    out = F64()
    call(_norm2, *bank.c, h, w, ctypes.addressof(out))
    return out.value


def stable_tau_2d(K: Any, g: Any, shape: tuple[int, int]) -> float:
    """``2 / (sup g * lambda_max(sum_c K_c^T K_c))`` on (H, W) images, rounded down (Theorem 2
    for images, channelwise or isotropic coupling); ``inf`` for a bank of zeros."""
    bank = as_bank(K)
    g = as_diffusivity(g)
    h, w = _image_shape(shape)
    out = F64()
    call(_stable_tau, *bank.c, *g._c, h, w, ctypes.addressof(out))
    return out.value

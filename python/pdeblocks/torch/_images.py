"""Image tensors in and out of the library: CPU only, float64 shared with numpy, images on the
last two axes.

A tensor of shape ``(H, W)``, ``(B, H, W)`` or ``(B, 1, H, W)`` (one channel, as
``torch.nn.Conv2d`` makes it) is a batch of ``B`` images of ``H x W`` pixels (``B = 1`` for
``(H, W)``). The conventions are those of :mod:`pdeblocks.torch._tensors`: a contiguous float64
CPU tensor is passed as a numpy view of its memory (no copy); other floating dtypes are
converted to float64 on the way in and back to the input's dtype on the way out; integer,
boolean and complex tensors, tensors on another device than the CPU (``cuda``, ``meta``),
other ranks and more than one channel are refused with a :class:`~pdeblocks.PDEBlocksError`.
"""
from __future__ import annotations

import numpy as np
import torch

from .._lib import PDEBlocksError
from ._tensors import as_rows

__all__ = ["as_images", "from_images", "image_shape"]


def image_shape(shape, name: str = "x") -> tuple:
    """``(B, H, W)`` of a tensor shape ``(H, W)``, ``(B, H, W)`` or ``(B, 1, H, W)``."""
    shape = tuple(shape)
    if len(shape) == 4:
        if shape[1] != 1:
            raise PDEBlocksError(f"{name} must have one channel, shape (B, 1, H, W), got {shape}: an image "
                                 "network acts on single-channel images (reduce the channels first, e.g. Conv2d(C, 1, ...))")
        shape = (shape[0],) + shape[2:]
    elif len(shape) == 2:
        shape = (1,) + shape
    elif len(shape) != 3:
        raise PDEBlocksError(f"{name} must have shape (H, W), (B, H, W) or (B, 1, H, W), got {shape}")
    if min(shape) < 1:
        raise PDEBlocksError(f"{name} must have at least one image of at least 1 x 1 pixels, got shape {shape}")
    return shape


def as_images(x, name: str = "x") -> np.ndarray:
    """The (B, H, W) float64 numpy array of an image tensor (a view when possible)."""
    if isinstance(x, torch.Tensor):
        b, h, w = image_shape(x.shape, name)     # the rank first: its error names the image shapes
    rows = as_rows(x, name)                      # type, device, dtype, contiguity
    return rows.reshape(b, h, w)


def from_images(out: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    """``out`` (float64, as many values as ``like``) as a tensor of ``like``'s shape and dtype
    (shares ``out``'s memory when ``like`` is float64)."""
    t = torch.from_numpy(np.ascontiguousarray(out)).reshape(like.shape)
    return t if like.dtype == torch.float64 else t.to(like.dtype)

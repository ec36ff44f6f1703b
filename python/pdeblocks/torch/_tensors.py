"""Tensors in and out of the library: CPU only, float64 shared with numpy, signals on the last axis.

A tensor of shape ``(..., N)`` is a batch of ``prod(...)`` signals of length N. A contiguous
float64 CPU tensor is passed to the library as a numpy view of its memory (``Tensor.numpy()``,
no copy); a non-contiguous one is made contiguous first (one copy). Other floating dtypes
(float32, float16, bfloat16) are converted to float64 on the way in (one copy) and the
result is converted back to the input's dtype on the way out (one more copy): the library
computes in float64 only. Integer, boolean and complex tensors and tensors on another device
than the CPU are refused with a :class:`~pdeblocks.PDEBlocksError` naming the cure.
"""
from __future__ import annotations

import numpy as np
import torch

from .._lib import PDEBlocksError

__all__ = ["as_rows", "from_rows"]


def as_rows(x, name: str = "x") -> np.ndarray:
    """The (batch, N) float64 numpy array of a tensor of shape (..., N) (a view when possible)."""
    if not isinstance(x, torch.Tensor):
        raise PDEBlocksError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.device.type != "cpu":
        raise PDEBlocksError(f"{name} is on the device {x.device}; pdeblocks.torch computes on the CPU only: "
                             f"move it with {name}.cpu() (and the result back with .to(device))")
    if not x.dtype.is_floating_point:
        raise PDEBlocksError(f"{name} must be a floating-point tensor (float64, or float32 converted), got {x.dtype}")
    if x.dim() == 0 or x.shape[-1] == 0:
        raise PDEBlocksError(f"{name} must have shape (..., N) with N >= 1, got {tuple(x.shape)}")
    t = x.detach()
    if t.dtype != torch.float64:
        t = t.to(torch.float64)
    t = t.resolve_conj().resolve_neg().contiguous()
    return t.numpy().reshape(-1, x.shape[-1])


def from_rows(out: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    """``out`` (float64, as many values as ``like``) as a tensor of ``like``'s shape and dtype
    (shares ``out``'s memory when ``like`` is float64)."""
    t = torch.from_numpy(np.ascontiguousarray(out)).reshape(like.shape)
    return t if like.dtype == torch.float64 else t.to(like.dtype)

"""PyTorch layers: PDEBlocks schemes and networks as autograd functions and modules.

* :func:`explicit`, :func:`fsi`, :func:`fed`, :func:`implicit` -- the schemes of the numpy
  API on tensors, differentiable in the input signal (:mod:`pdeblocks.torch.functions`).
* :class:`Module` -- a :class:`pdeblocks.Network` (signals) or :class:`pdeblocks.ImageNetwork`
  (images ``(H, W)``, ``(B, H, W)`` or ``(B, 1, H, W)``) as a ``torch.nn.Module`` whose
  parameters are ``torch.nn.Parameter`` s, forward and backward through the library's passes
  (:mod:`pdeblocks.torch.module`).

Tensors: CPU only; float64 is shared with the library without copies (contiguous inputs),
other floating dtypes are converted to float64 and back (two copies; the library computes in
float64). Needs PyTorch: ``pip install "pdeblocks[torch]"``.

Example
-------
>>> import torch, pdeblocks as pb, pdeblocks.torch as pbt
>>> K = pb.Stencil([-1.0, 1.0])
>>> net = pb.Network([pb.DiffusionBlock([K], [pb.Diffusivity("perona_malik", 0.5)], 0.2)] * 3)
>>> model = torch.nn.Sequential(torch.nn.Conv1d(1, 1, 3, padding=1, dtype=torch.float64), pbt.Module(net))
>>> y = model(torch.randn(8, 1, 64, dtype=torch.float64))
>>> y.square().mean().backward()
"""
try:
    import torch as _torch  # noqa: F401
except ImportError as e:  # pragma: no cover - exercised by a subprocess test
    raise ImportError('pdeblocks.torch needs PyTorch, which is not installed: pip install "pdeblocks[torch]" '
                      "(or pip install torch)") from e

from .functions import explicit, fsi, fed, implicit
from .module import Module

__all__ = ["explicit", "fsi", "fed", "implicit", "Module"]

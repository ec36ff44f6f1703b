"""A PDEBlocks :class:`~pdeblocks.Network` or :class:`~pdeblocks.ImageNetwork` as a
``torch.nn.Module`` with trainable parameters.

The network's flat parameter vector is split per block into ``torch.nn.Parameter`` s named
``block<k>_<kind>`` (``block0_diffusion``, ``block1_fsi``, ...; the layout inside a block is
that of :meth:`pdeblocks.Network.block_slices` and ``pdeblocks_layers.h``: filter weights,
``log(lam)`` or learnable-diffusivity logits, then the step-size parameter; for an image
network ``block0_diffusion2d``, ``block1_residual2d``, ... with the slices of
:meth:`pdeblocks.ImageNetwork.block_slices`, loaded networks included). They are the
source of truth: before each pass the module copies them into the network when they changed
(an optimiser step, ``load_state_dict``), so ``state_dict`` round-trips and any torch optimiser
trains them. Do not set the wrapped network's parameters directly.

Passes: with grad mode on and a gradient needed (the input or a parameter requires it) the
forward is :meth:`Network.forward` (recording the tape) and the backward
:meth:`Network.backward` (input gradient and parameter gradients in one pass); otherwise
(``torch.no_grad()``, ``torch.inference_mode()``, frozen parameters and a plain input) the
forward is :meth:`Network.predict`: no tape, O(N) memory.

Threads: the network runs its batch rows on ``threads`` threads; ``threads=None`` (default)
follows ``torch.get_num_threads()`` at every call, so ``torch.set_num_threads`` governs
PyTorch and PDEBlocks alike. Results do not depend on the thread count. One module may be
used from several threads: the passes on it are serialised, and each thread's backward
uses its own forward pass. When the tape of a forward pass is no longer the network's
(another forward pass of the same module came in between on this thread -- on any thread for
an image network, whose handle keeps one recorded pass for all threads --, the parameters
changed, or the backward runs on another thread), the backward pass first repeats that
forward pass from its saved input and parameters: correct, at the cost of one more forward.
Each training forward pass gets a fresh token (a generation number); the token of the pass
whose tape the network holds is remembered, and a backward pass with another token repeats
its forward pass first. So ``y1 = m(x1); y2 = m(x2); y1.backward(); y2.backward()`` gives
the right gradients for both (three forward passes and two backward passes in all).
A module works in ``fork()`` children (DataLoader workers) as long as no other thread of the
parent was inside one of its passes at the fork.
"""
from __future__ import annotations

import itertools
import threading

import numpy as np
import torch
from torch.autograd.function import once_differentiable

from .._args import as_float, as_int
from .._lib import PDEBlocksError
from ..image_network import ImageCertificate, ImageNetwork
from ..network import Certificate, Network
from ._images import as_images, from_images
from ._tensors import as_rows, from_rows

__all__ = ["Module"]


def _signal_length(shape) -> int:
    if isinstance(shape, torch.Size) or isinstance(shape, (tuple, list)):
        if not shape:
            raise PDEBlocksError("shape must name the signal length N (the last axis), got ()")
        shape = shape[-1]
    return as_int(shape, "n")


def _image_size(shape) -> tuple:
    try:
        shape = tuple(shape)
    except TypeError:
        shape = ()
    if len(shape) < 2:
        raise PDEBlocksError(f"shape must name the image size (H, W) (the last two axes), got {shape!r}")
    return as_int(shape[-2], "height"), as_int(shape[-1], "width")


class Module(torch.nn.Module):
    """``Module(network, threads=None)``: ``module(x)`` is ``network(x)``, differentiable in
    ``x`` and in the parameters; CPU; float64 without copies, float32 converted both ways; the
    result in ``x``'s dtype and shape.

    For a :class:`~pdeblocks.Network`, ``x`` has shape ``(N,)``, ``(batch, N)`` or ``(..., N)``
    (signals on the last axis); for an :class:`~pdeblocks.ImageNetwork`, ``(H, W)``,
    ``(B, H, W)`` or ``(B, 1, H, W)`` (single-channel images, as ``torch.nn.Conv2d`` gives).

    Parameters
    ----------
    network : pdeblocks.Network or pdeblocks.ImageNetwork
        Wrapped (not copied); the module sets its parameters and thread count from now on.
    threads : int or None
        Threads for batch rows (0: one per processor); None follows ``torch.get_num_threads()``.
    """

    def __init__(self, network: Network, threads: int | None = None):
        super().__init__()
        if not isinstance(network, (Network, ImageNetwork)):
            raise PDEBlocksError("network must be a pdeblocks.Network or pdeblocks.ImageNetwork, "
                                 f"got {type(network).__name__}")
        self.threads = None if threads is None else as_int(threads, "threads")
        flat = network.parameters
        self._network = network
        self._images = isinstance(network, ImageNetwork)
        self._in, self._out = (as_images, from_images) if self._images else (as_rows, from_rows)
        self._slices = network.block_slices()
        names = [f"block{k}_{kind}" for k, (kind, _) in enumerate(self._slices)]
        self._names = []
        for name, (kind, part) in zip(names, self._slices):
            self.register_parameter(name, torch.nn.Parameter(torch.from_numpy(flat[part].copy())))
            self._names.append(name)
        self._synced = flat            # the parameter vector the network holds
        self._epoch = 0                # counts parameter changes (each drops every tape)
        self._lock = threading.RLock()
        self._local = threading.local()  # .token: the pass whose tape this thread's record is
        self._shared_token = None        # the same for an image network (one tape per handle)
        self._tokens = itertools.count()

    @property
    def network(self) -> Network:
        """The wrapped network (its parameters are those of the last pass; see :meth:`sync`)."""
        return self._network

    def extra_repr(self) -> str:
        kinds = ", ".join(kind for kind, _ in self._slices)
        return f"{len(self._slices)} blocks ({kinds}), {self._synced.size} parameters, threads={self.threads}"

    def block_parameters(self) -> list:
        """The per-block parameters, in block order."""
        return [getattr(self, name) for name in self._names]

    # --- keeping the network in step with the torch parameters ---------------------------
    def _flat(self, params) -> np.ndarray:
        for p in params:
            if p.device.type != "cpu":
                raise PDEBlocksError(f"the parameters are on the device {p.device}; pdeblocks.torch computes on "
                                     "the CPU only: keep the module on the CPU (module.cpu())")
        parts = [p.detach().reshape(-1).to(torch.float64) for p in params]
        return torch.cat(parts).numpy() if parts else np.empty(0)

    def _prepare(self, flat: np.ndarray) -> None:
        """Under the lock: give the network ``flat`` and the thread count of this call."""
        if flat.tobytes() != self._synced.tobytes():
            self._network.set_parameters(flat)      # validated; nothing changes on error
            self._synced = flat.copy()
            self._epoch += 1
        threads = torch.get_num_threads() if self.threads is None else self.threads
        if threads != self._network.threads:
            self._network.threads = threads

    def sync(self) -> None:
        """Copy the torch parameters into the network now (passes do it by themselves)."""
        with self._lock:
            self._prepare(self._flat(self.block_parameters()))

    def _tape_token(self):
        """Under the lock: the token of the pass whose tape the network holds for this thread."""
        return self._shared_token if self._images else getattr(self._local, "token", None)

    def _set_tape_token(self, token) -> None:
        if self._images:
            self._shared_token = token
        else:
            self._local.token = token

    def _record(self, rows: np.ndarray):
        """Under the lock: a recorded forward pass; remembers it as this thread's tape."""
        self._set_tape_token(None)        # a failed forward pass leaves no tape
        out = self._network.forward(rows)
        token = (self._epoch, next(self._tokens))
        self._set_tape_token(token)
        return out, token

    def _holds_tape_of(self, token) -> bool:
        """Under the lock: whether the network's recorded pass is the pass ``token``."""
        return self._tape_token() == token and self._epoch == token[0]

    # --- passes -------------------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        params = self.block_parameters()
        if torch.is_grad_enabled() and (x.requires_grad or any(p.requires_grad for p in params)):
            return _NetworkPass.apply(x, self, *params)
        rows = self._in(x)
        with self._lock:
            self._prepare(self._flat(params))
            out = self._network.predict(rows)
        return self._out(out, x)

    # --- stability ----------------------------------------------------------------------
    def certificate(self, shape) -> Certificate | ImageCertificate:
        """:meth:`pdeblocks.Network.certificate` of the current parameters on signals of
        length ``shape[-1]`` (``shape``: an int N, or a tensor shape ``(..., N)``); for an image
        network :meth:`pdeblocks.ImageNetwork.certificate` on images of ``shape[-2:]``
        (``shape``: ``(H, W)`` or a tensor shape ``(..., H, W)``)."""
        n = _image_size(shape) if self._images else _signal_length(shape)
        with self._lock:
            self._prepare(self._flat(self.block_parameters()))
            return self._network.certificate(n)

    def project_stable(self, shape, margin: float = 1.0) -> int:
        """:meth:`pdeblocks.Network.project_stable` on the current parameters, written back
        into the torch parameters (in place, without autograd); returns the blocks changed.
        Signal networks only (an image network has no projection in the library yet)."""
        if self._images:
            raise PDEBlocksError("project_stable is not available for an image network")
        n, margin = _signal_length(shape), as_float(margin, "margin")
        params = self.block_parameters()
        with self._lock:
            self._prepare(self._flat(params))
            changed = self._network.project_stable(n, margin)
            if changed:
                flat = self._network.parameters
                with torch.no_grad():
                    for p, (_, part) in zip(params, self._slices):
                        p.copy_(torch.from_numpy(flat[part]).reshape(p.shape))
                self._synced = flat
                self._epoch += 1
        return changed


class _NetworkPass(torch.autograd.Function):
    """``module(x)`` with the library's forward (recorded) and backward passes."""

    @staticmethod
    def forward(ctx, x, module, *params):
        rows = module._in(x)
        flat = module._flat(params)
        with module._lock:
            module._prepare(flat)
            out, ctx.token = module._record(rows)
        ctx.module = module
        ctx.save_for_backward(x, *params)
        return module._out(out, x)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        module = ctx.module
        x, *params = ctx.saved_tensors      # raises if they were modified in place since
        g = module._in(grad, "grad")
        with module._lock:
            if not module._holds_tape_of(ctx.token):   # the tape is another pass's: repeat this one
                module._prepare(module._flat(params))
                module._record(module._in(x))
            grad_in, grad_flat = module._network.backward(g)
        grads = [torch.from_numpy(grad_flat[part]).reshape(p.shape).to(p.dtype) if needed else None
                 for p, (_, part), needed in zip(params, module._slices, ctx.needs_input_grad[2:])]
        return (module._out(grad_in, x) if ctx.needs_input_grad[0] else None), None, *grads

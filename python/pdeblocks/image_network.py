"""Networks of 2D blocks on images: forward and backward passes, the training loss, parameters,
stability certificates and files (C ABI: ``include/pdeblocks_image_network.h``).

An :class:`ImageNetwork` is a sequence of blocks acting on ``(H, W)`` or ``(B, H, W)`` float64
images, every block receiving the network input ``f = x`` as its data term::

    u_0 = x,   u_{i+1} = block_i(u_i; x),   output u_L.

Blocks: :class:`~pdeblocks.image_blocks.DiffusionBlock2D` (the symmetric, certifiable block
``u - tau (sum_c K_c^T Phi_c(K u) + mu (u - f))``), :class:`FSIBlock2D` (an FSI cycle of a
diffusion block: extra skip connections) and :class:`ResidualBlock2D` (the free block
``u - sum_c W2_c^T sigma(W1_c u + b_c)``, never certified). The network copies the blocks'
current parameters when it is built; afterwards :attr:`ImageNetwork.parameters` holds them all
(the blocks' vectors in order).
"""
from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass

import numpy as np

from . import _abi
from ._args import INT32, as_array, as_int
from ._handle import Handle
from ._lib import call, lib, as_output, c_string, ptr, PDEBlocksError
from .image_blocks import DiffusionBlock2D
from .stencil2d import Stencil2D

__all__ = ["ImageNetwork", "ResidualBlock2D", "FSIBlock2D", "ImageBlockCertificate", "ImageCertificate"]

_ACTIVATIONS = {"identity": _abi.PDB_ACTIVATION_IDENTITY, "relu": _abi.PDB_ACTIVATION_RELU,
                "tanh": _abi.PDB_ACTIVATION_TANH}
_INFERENCE = _abi.PDB_FORWARD_INFERENCE


def _shapes(bank) -> np.ndarray:
    return np.array([[k.shape[0], k.shape[1], k.offset[0], k.offset[1]] for k in bank], dtype=np.int64).reshape(-1)


class ResidualBlock2D:
    """The free residual block ``u - sum_c W2_c^T sigma(W1_c u + b_c)`` (it ignores ``f``).

    ``w1`` and ``w2`` are lists of C :class:`~pdeblocks.Stencil2D` (independent: no symmetry,
    the counterpart of a diffusion block's ``K`` and ``tau K``), ``biases`` C numbers (default
    0), ``activation`` ``"identity"``, ``"relu"`` or ``"tanh"``. Parameters: the weights of
    ``W1_1..W1_C``, then of ``W2_1..W2_C`` (row-major), then the biases.
    """

    def __init__(self, w1, w2, biases=None, activation="tanh"):
        w1 = [w1] if isinstance(w1, Stencil2D) else list(w1)
        w2 = [w2] if isinstance(w2, Stencil2D) else list(w2)
        if not w1 or not all(isinstance(k, Stencil2D) for k in w1 + w2):
            raise PDEBlocksError("w1 and w2 must be nonempty lists of Stencil2D")
        if len(w2) != len(w1):
            raise PDEBlocksError(f"w1 has {len(w1)} filters, w2 has {len(w2)}: one of each per channel")
        if activation not in _ACTIVATIONS:
            raise PDEBlocksError(f"unknown activation {activation!r} (known: identity, relu, tanh)")
        b = np.zeros(len(w1)) if biases is None else as_array(biases, "biases", ndim=(1,))
        if b.size != len(w1):
            raise PDEBlocksError(f"{len(w1)} channels need {len(w1)} biases, got {b.size}")
        self.w1, self.w2, self.activation = tuple(w1), tuple(w2), activation
        self.parameters = np.concatenate([k.weights.reshape(-1) for k in w1 + w2] + [b])

    @property
    def parameters(self) -> np.ndarray:
        """The packed parameter vector (a copy)."""
        return self._params.copy()

    @parameters.setter
    def parameters(self, p) -> None:
        p = np.ascontiguousarray(as_array(p, "parameters", ndim=(1,)), dtype=np.float64)
        want = sum(k.weights.size for k in self.w1 + self.w2) + len(self.w1)
        if p.size != want:
            raise PDEBlocksError(f"the block has {want} parameters, got {p.size}")
        self._params = p.copy()

    @property
    def parameter_count(self) -> int:
        return self._params.size

    def _build(self, h) -> None:
        s1, s2 = _shapes(self.w1), _shapes(self.w2)
        call(lib.pdb_image_network_add_residual, h, len(self.w1), ptr(s1), ptr(s2), _ACTIVATIONS[self.activation],
             ptr(self._params), self._params.size)

    def __repr__(self) -> str:
        return f"ResidualBlock2D({len(self.w1)} channels, {self.activation}, {self._params.size} parameters)"


class FSIBlock2D:
    """One FSI cycle (paper eq. 7) of ``cycle_length`` extrapolated steps of a 2D diffusion block::

        u_{l+1} = a_l S(u_l; f) + (1 - a_l) u_{l-1},   a_l = (4l+2)/(2l+3),   u_{-1} = u_0 = u,

    ``S`` the :class:`~pdeblocks.image_blocks.DiffusionBlock2D` ``step`` (shared by the L steps:
    the parameters are the step's). One cycle reaches the diffusion time ``L(L+1)/3 tau``.
    Certified for L = 1 (a step of size 2 tau/3) and for linear diffusivities (the FED cycle);
    otherwise not (the extrapolation weights a_l > 1 void Theorem 2's argument).
    """

    max_cycle_length = 64

    def __init__(self, step, cycle_length: int):
        if not isinstance(step, DiffusionBlock2D):
            raise PDEBlocksError(f"step must be a DiffusionBlock2D, got {type(step).__name__}")
        cycle_length = as_int(cycle_length, "cycle_length")
        if not 1 <= cycle_length <= self.max_cycle_length:
            raise PDEBlocksError(f"cycle_length must be in 1...{self.max_cycle_length}, got {cycle_length}")
        self.step, self.cycle_length = step, cycle_length

    @property
    def parameters(self) -> np.ndarray:
        """The step's packed parameter vector (a copy)."""
        return self.step.parameters

    @property
    def parameter_count(self) -> int:
        return self.step.parameters.size

    def _build(self, h) -> None:
        p = self.step.parameters
        call(lib.pdb_image_network_add_fsi, h, self.cycle_length, *self.step._description(), ptr(p), p.size)

    def __repr__(self) -> str:
        return f"FSIBlock2D(L={self.cycle_length}, {self.step!r})"


def _build(h, block, k) -> None:
    """Append ``block`` (the ``k``-th) to the network ``h``."""
    if isinstance(block, DiffusionBlock2D):
        p = block.parameters
        call(lib.pdb_image_network_add_diffusion, h, *block._description(), ptr(p), p.size)
    elif isinstance(block, (ResidualBlock2D, FSIBlock2D)):
        block._build(h)
    else:
        raise PDEBlocksError(f"blocks[{k}] is not a DiffusionBlock2D, FSIBlock2D or ResidualBlock2D "
                             f"(got {type(block).__name__})")


@dataclass(frozen=True)
class ImageBlockCertificate:
    """Theorem 2 for one block on images of a given shape (see :meth:`ImageNetwork.certificate`)."""
    certified: bool
    tau: float
    tau_bound: float
    reason: str


@dataclass(frozen=True)
class ImageCertificate:
    """Every block's certificate; the network is certified iff every block is."""
    shape: tuple
    blocks: tuple

    @property
    def certified(self) -> bool:
        return all(b.certified for b in self.blocks)

    @property
    def first_failure(self):
        return next((k for k, b in enumerate(self.blocks) if not b.certified), None)

    def __bool__(self):
        return self.certified


class ImageNetwork(Handle):
    """A network of 2D blocks on images (see the module description).

    ``forward(x)`` records the pass for ``backward(grad_out)``, which returns
    ``(grad_x, grad_params)`` (``grad_params`` summed over the batch); ``predict(x)`` gives the
    same output bit for bit without recording; ``loss_and_gradient(noisy, clean)`` returns
    ``(L, dL/dparams)`` for ``L = 1/2 mean((network(noisy) - clean)^2)`` (mean over all pixels
    of the batch) — one training step's work. Results do not depend on :attr:`threads`.
    The handle keeps one recorded pass (the last :meth:`forward` from any thread).
    """

    _destroy = lib.pdb_image_network_destroy
    _what = "image network"

    def __init__(self, blocks=(), threads: int = 0, *, _handle=None):
        if _handle is not None:
            self._own(_handle)
        else:
            blocks = list(blocks)
            if not blocks:
                raise PDEBlocksError("an image network needs at least one block")
            h = ctypes.c_void_p()
            call(lib.pdb_image_network_create, ctypes.addressof(h))
            self._own(h)
            for k, b in enumerate(blocks):
                _build(self._h, b, k)
        self._threads = 0
        self.threads = threads
        self._last = None

    def __repr__(self):
        return f"ImageNetwork({len(self)} blocks, {self.parameter_count} parameters, threads={self.threads})"

    # --- structure and parameters --------------------------------------------------
    @property
    def threads(self) -> int:
        """Threads for the images of a batch (0: one per processor); results do not depend on it."""
        return self._threads

    @threads.setter
    def threads(self, value: int):
        value = as_int(value, "threads", INT32)
        call(lib.pdb_image_network_set_threads, self._h, value)
        self._threads = value

    def __len__(self):
        c = ctypes.c_int64()
        call(lib.pdb_image_network_block_count, self._h, ctypes.addressof(c))
        return c.value

    @property
    def parameter_count(self) -> int:
        c = ctypes.c_int64()
        call(lib.pdb_image_network_parameter_count, self._h, ctypes.addressof(c))
        return c.value

    def block_slices(self):
        """``[(kind, slice), ...]``: each block's kind (``"diffusion2d"``, ``"fsi2d"`` or ``"residual2d"``)
        and its slice of the parameter vector (from the library, so also for a loaded network)."""
        kinds = {_abi.PDB_BLOCK_DIFFUSION: "diffusion2d", _abi.PDB_BLOCK_RESIDUAL: "residual2d",
                 _abi.PDB_BLOCK_FSI: "fsi2d"}
        kind, offset, count = ctypes.c_int32(), ctypes.c_int64(), ctypes.c_int64()
        out = []
        for k in range(len(self)):
            call(lib.pdb_image_network_block_info, self._h, k, ctypes.addressof(kind), ctypes.addressof(offset),
                 ctypes.addressof(count))
            out.append((kinds[kind.value], slice(offset.value, offset.value + count.value)))
        return out

    @property
    def parameters(self) -> np.ndarray:
        """A copy of the flat parameter vector (the blocks' vectors in order)."""
        out = as_output(self.parameter_count)
        call(lib.pdb_image_network_get_parameters, self._h, ptr(out), out.size)
        return out

    def set_parameters(self, values) -> None:
        """Set all parameters (validated first; nothing changes on error). Discards the recorded pass."""
        v = as_array(values, "parameters", ndim=(1,))
        call(lib.pdb_image_network_set_parameters, self._h, ptr(v), v.size)
        self._last = None

    # --- running -------------------------------------------------------------------
    @staticmethod
    def _images(x, name):
        arr = as_array(x, name, ndim=(2, 3))
        b, h, w = (1,) + arr.shape if arr.ndim == 2 else arr.shape
        return arr, (b, h, w)

    def forward(self, x) -> np.ndarray:
        """``network(x)`` for an image (H, W) or a batch (B, H, W); recorded for :meth:`backward`."""
        arr, (b, h, w) = self._images(x, "x")
        out = as_output(arr.shape)
        self._last = None
        call(lib.pdb_image_network_forward, self._h, ptr(arr), b, h, w, 0, ptr(out))
        self._last = arr.shape
        return out

    __call__ = forward

    def predict(self, x) -> np.ndarray:
        """``network(x)`` without recording (inference), bit-identical to :meth:`forward`."""
        arr, (b, h, w) = self._images(x, "x")
        out = as_output(arr.shape)
        call(lib.pdb_image_network_forward, self._h, ptr(arr), b, h, w, _INFERENCE, ptr(out))
        return out

    def backward(self, grad_out):
        """``(dL/dx, dL/dparams)`` for ``grad_out = dL/d network(x)`` of the last :meth:`forward`.

        ``dL/dx`` flows through the chain and through every block's data term.
        """
        if self._last is None:
            raise PDEBlocksError("backward needs a forward pass first (after the last parameter change)")
        g = as_array(grad_out, "grad_out", ndim=(2, 3))
        if g.shape != self._last:
            raise PDEBlocksError(f"grad_out has shape {g.shape}, the last forward pass had {self._last}")
        _, (b, h, w) = self._images(g, "grad_out")
        gi, gp = as_output(g.shape), as_output(self.parameter_count)
        call(lib.pdb_image_network_backward, self._h, ptr(g), b, h, w, ptr(gi), ptr(gp), gp.size)
        return gi, gp

    def loss_and_gradient(self, noisy, clean):
        """``(L, dL/dparams)`` with ``L = 1/2 mean((network(noisy) - clean)^2)`` over all values
        of the batch, in one forward and one backward pass (the trainer's call per minibatch)."""
        x, (b, h, w) = self._images(noisy, "noisy")
        t = as_array(clean, "clean", ndim=(2, 3))
        if t.shape != x.shape:
            raise PDEBlocksError(f"clean has shape {t.shape}, noisy has {x.shape}")
        loss, gp = ctypes.c_double(), as_output(self.parameter_count)
        self._last = None
        call(lib.pdb_image_network_loss_and_gradient, self._h, ptr(x), ptr(t), b, h, w, ctypes.addressof(loss),
             ptr(gp), gp.size)
        self._last = x.shape
        return loss.value, gp

    # --- certificates and files ----------------------------------------------------
    def certificate(self, shape) -> ImageCertificate:
        """Theorem 2 for every block on images of ``shape = (H, W)``: a diffusion block is
        certified iff ``0 <= tau <= 2/(sup g lambda_max(sum_c K_c^T K_c) + mu)``; a residual
        block never is (the reason says why)."""
        try:
            h, w = (as_int(s, "shape") for s in shape)
        except (TypeError, ValueError):
            raise PDEBlocksError(f"shape must be (height, width), got {shape!r}") from None
        blocks = []
        c, tau, bound, length = ctypes.c_int32(), ctypes.c_double(), ctypes.c_double(), ctypes.c_int64()
        for k in range(len(self)):
            args = (self._h, k, h, w, ctypes.addressof(c), ctypes.addressof(tau), ctypes.addressof(bound))
            call(lib.pdb_image_network_block_certificate, *args, None, 0, ctypes.addressof(length))
            buf = ctypes.create_string_buffer(length.value + 1)
            call(lib.pdb_image_network_block_certificate, *args, buf, length.value + 1, ctypes.addressof(length))
            blocks.append(ImageBlockCertificate(bool(c.value), tau.value, bound.value, buf.value.decode("utf-8", "replace")))
        return ImageCertificate((h, w), tuple(blocks))

    def save(self, path: str | os.PathLike) -> None:
        """Save to the network file format (version 2, image network), atomically."""
        call(lib.pdb_image_network_save, self._h, c_string(path, "path", path=True))

    @classmethod
    def load(cls, path: str | os.PathLike, threads: int = 0) -> "ImageNetwork":
        """Load an image network saved by :meth:`save` (a signal network's file is refused)."""
        h = ctypes.c_void_p()
        call(lib.pdb_image_network_load, c_string(path, "path", path=True), ctypes.addressof(h))
        return cls(_handle=h, threads=threads)

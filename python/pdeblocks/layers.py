"""Trainable layers: residual, diffusion, FSI and implicit blocks, networks (paper Sec. 2).

Blocks are light descriptions; a :class:`Network` turns a list of them into a library
handle that runs forward and backward passes (vector-Jacobian products for the input and
every parameter), exposes all parameters as one flat float64 vector for any optimiser,
certifies Euclidean stability (Theorem 2) and saves/loads networks.

Example
-------
>>> import numpy as np, pdeblocks as pb
>>> K = pb.Stencil([-1.0, 1.0])
>>> net = pb.Network([pb.DiffusionBlock([K], [pb.LearnableDiffusivity([0.5], [0.1])], 0.2)] * 3)
>>> x = np.random.default_rng(0).normal(size=(8, 64))
>>> y = net.forward(x)
>>> grad_in, grad_params = net.backward(y - x)      # gradient of 0.5*||y - x||^2
>>> net.set_parameters(net.parameters - 1e-3 * grad_params)
>>> net.certificate(64).certified
True
"""
from __future__ import annotations

import ctypes
import math
import os
import threading
from dataclasses import dataclass

import numpy as np

from . import _abi
from ._lib import (F64, call, codes, lib, as_input, as_output, c_string, ptr, signals, signal_rows,
                   PDEBlocksError, BusyError)
from .operators import Stencil
from .diffusivities import Diffusivity, as_diffusivity
from .optim import Adam  # re-exported: the package imports its training helpers from here
from .progress import reporting

__all__ = ["LearnableDiffusivity", "FluxActivation", "TransposedStencil", "BoundedTau",
           "ResidualBlock", "DiffusionBlock", "FSIBlock", "ImplicitBlock",
           "Network", "Certificate", "BlockCertificate", "Adam"]

_VP = ctypes.c_void_p
_create = lib.pdb_network_create
_destroy = lib.pdb_network_destroy
_add_diffusion = lib.pdb_network_add_diffusion
_add_fsi = lib.pdb_network_add_fsi
_add_implicit = lib.pdb_network_add_implicit
_add_filter = lib.pdb_network_add_filter
_add_learnable = lib.pdb_network_add_learnable_filter
_add_residual = lib.pdb_network_add_residual
_add_channel = lib.pdb_network_add_residual_channel
_block_count = lib.pdb_network_block_count
_block_info = lib.pdb_network_block_info
_param_count = lib.pdb_network_parameter_count
_get_params = lib.pdb_network_get_parameters
_set_params = lib.pdb_network_set_parameters
_set_threads = lib.pdb_network_set_threads
_set_tape_limit = lib.pdb_network_set_tape_limit
_forward = lib.pdb_network_forward
_backward = lib.pdb_network_backward
_certificate = lib.pdb_network_certificate
_block_certificate = lib.pdb_network_block_certificate
_project = lib.pdb_network_project_stable
_describe = lib.pdb_network_describe
_save = lib.pdb_network_save
_load = lib.pdb_network_load

_TAU_FREE, _TAU_BOUNDED = _abi.PDB_TAU_FREE, _abi.PDB_TAU_BOUNDED
_ACTIVATIONS = codes("PDB_ACTIVATION_", ("identity", "relu", "tanh"))   # by name; FLUX is a FluxActivation
_ACT_FLUX = _abi.PDB_ACTIVATION_FLUX
_W2_CONV, _W2_TRANSPOSED = _abi.PDB_W2_CONVOLUTION, _abi.PDB_W2_TRANSPOSED
_INFERENCE = _abi.PDB_FORWARD_INFERENCE
_BLOCK_KINDS = {code: name for name, code in codes("PDB_BLOCK_").items()}


class LearnableDiffusivity:
    """A learnable diffusivity ``g(s^2) = sum_j a_j exp(-s^2 / (2 lam_j^2))``.

    Trained through logits ``alpha_j`` with ``a_j = exp(c_j) / (1 + sum_k exp(c_k))``,
    ``c_j = clip(alpha_j, -25, 25)``, and log-contrasts ``rho_j = log lam_j``: for every
    parameter value the computed ``a_j > 0`` and ``sum a_j < 1`` (the clip keeps them away
    from rounding; a clipped logit has gradient 0), so ``sup g < 1`` and a block keeps the
    guarantee of Theorem 2. Initial weights must therefore lie within about 1e-11 of each
    other's scale (``|log(a_j / (1 - sum a))| <= 25``).

    Parameters
    ----------
    weights : array_like, shape (J,)
        Initial ``a_j`` (each > 0, sum < 1), 1 <= J <= 64.
    contrasts : array_like, shape (J,)
        Initial ``lam_j`` (each > 0).
    """

    def __init__(self, weights, contrasts):
        self.weights = np.array(as_input(weights, "weights", ndim=(1,)))
        self.contrasts = np.array(as_input(contrasts, "contrasts", ndim=(1,)))
        if self.weights.size != self.contrasts.size:
            raise PDEBlocksError(f"{self.weights.size} weights but {self.contrasts.size} contrasts")

    def __repr__(self):
        return f"LearnableDiffusivity({self.weights.tolist()}, {self.contrasts.tolist()})"

    def g(self, s2):
        """``g(s^2)`` evaluated in numpy (for plots and checks)."""
        s2 = np.asarray(s2, dtype=np.float64)
        return sum(a * np.exp(-s2 / (2 * lam * lam)) for a, lam in zip(self.weights, self.contrasts))


@dataclass(frozen=True)
class FluxActivation:
    """The activation ``tau * Phi(s) = tau * g(s^2) s`` of a built-in diffusivity (Theorem 1).

    Its ``log(lam)`` is a learned parameter of the residual block (``tau`` is fixed).
    """
    g: object = "perona_malik"
    tau: float = 1.0


@dataclass(frozen=True)
class TransposedStencil:
    """Marks a residual block's second stencil ``S`` as acting by its exact transpose ``S^T``.

    ``TransposedStencil(Stencil(-w, o))`` with ``W1 = Stencil(w, o)`` gives ``W2 = -W1^T``,
    the diffusion structure of Theorem 1.
    """
    stencil: Stencil


@dataclass(frozen=True)
class BoundedTau:
    """Step size ``tau = sigmoid(theta) / sum_c (sum_j |w_cj|)^2`` (stable by construction).

    ``fraction`` is the initial ``sigmoid(theta)`` in (0, 1); theta is the trained parameter.
    """
    fraction: float = 0.9


def _stencil_list(filters, name):
    if isinstance(filters, (Stencil, TransposedStencil)):
        filters = [filters]
    filters = list(filters)
    for k, K in enumerate(filters):
        if not isinstance(K, (Stencil, TransposedStencil)):
            raise PDEBlocksError(f"{name}[{k}] must be a Stencil, got {type(K).__name__}")
    return filters


def _activation(a, name):
    if isinstance(a, str):
        if a not in _ACTIVATIONS:
            raise PDEBlocksError(f"unknown {name} activation {a!r} (known: identity, relu, tanh, or a FluxActivation)")
        return (_ACTIVATIONS[a], 0, 1.0, 0.0)
    if isinstance(a, FluxActivation):
        g = as_diffusivity(a.g)
        return (_ACT_FLUX, g.kind, g.lam, float(a.tau))
    raise PDEBlocksError(f"{name} must be 'identity', 'relu', 'tanh' or a FluxActivation, got {type(a).__name__}")


class ResidualBlock:
    """Generic residual block, paper eq. 2, with C channels:
    ``out = sigma2(x + sum_c W2_c sigma1(W1_c x + b1_c) + b2)``.

    Parameters
    ----------
    W1 : list of Stencil, length C
    W2 : list of Stencil or TransposedStencil, length C
        ``Stencil`` S acts as the mirrored convolution S, ``TransposedStencil(S)`` as ``S^T``.
    b1 : array_like, shape (C,), optional
        Per-channel biases (default 0).
    b2 : float
    sigma1, sigma2 : 'identity', 'relu', 'tanh' or FluxActivation
    """

    def __init__(self, W1, W2, b1=None, b2=0.0, sigma1="relu", sigma2="identity"):
        self.W1 = _stencil_list(W1, "W1")
        self.W2 = _stencil_list(W2, "W2")
        if not self.W1:
            raise PDEBlocksError("a residual block needs at least one channel (W1 is empty)")
        if len(self.W1) != len(self.W2):
            raise PDEBlocksError(f"W1 has {len(self.W1)} stencils but W2 has {len(self.W2)}")
        if any(isinstance(K, TransposedStencil) for K in self.W1):
            raise PDEBlocksError("W1 stencils act as convolutions; TransposedStencil is for W2")
        self.b1 = np.zeros(len(self.W1)) if b1 is None else np.array(as_input(b1, "b1", ndim=(1,)))
        if self.b1.size != len(self.W1):
            raise PDEBlocksError(f"b1 must have one bias per channel ({len(self.W1)}), got {self.b1.size}")
        self.b2 = float(b2)
        self.sigma1, self.sigma2 = sigma1, sigma2
        _activation(sigma1, "sigma1"), _activation(sigma2, "sigma2")

    @classmethod
    def diffusion(cls, filters, g, tau):
        """The diffusion block of Theorem 1 as a residual block: W1 = K, W2 = -K^T, sigma1 = tau Phi."""
        filters = _stencil_list(filters, "filters")
        return cls(filters, [TransposedStencil(Stencil(-K.weights, K.offset)) for K in filters],
                   None, 0.0, FluxActivation(g, tau), "identity")

    def _build(self, h):
        call(_add_residual, h, *_activation(self.sigma1, "sigma1"), *_activation(self.sigma2, "sigma2"), self.b2)
        for K1, K2, b in zip(self.W1, self.W2, self.b1):
            mode = _W2_TRANSPOSED if isinstance(K2, TransposedStencil) else _W2_CONV
            S = K2.stencil if isinstance(K2, TransposedStencil) else K2
            call(_add_channel, h, *K1._c, *S._c, mode, float(b))


def _diffusivity_list(diffusivities, C):
    if isinstance(diffusivities, (str, Diffusivity, LearnableDiffusivity)):
        diffusivities = [diffusivities] * C
    diffusivities = list(diffusivities)
    if len(diffusivities) != C:
        raise PDEBlocksError(f"{C} filters but {len(diffusivities)} diffusivities")
    return [g if isinstance(g, LearnableDiffusivity) else as_diffusivity(g) for g in diffusivities]


class DiffusionBlock:
    """Diffusion block ``out = x - tau sum_c K_c^T Phi_c(K_c x)`` (eq. 4 for one filter).

    Parameters
    ----------
    filters : Stencil or list of Stencil
        The C filters ``K_c`` (their weights are trained, offsets fixed).
    diffusivities : Diffusivity, str, LearnableDiffusivity, or a list of C of them
        One per filter (a single one is used for all). Built-in kinds train ``log(lam)``.
    tau : float or BoundedTau
        A float is a free step size (keep it below the certificate's bound, e.g. with
        :meth:`Network.project_stable`); ``BoundedTau`` is stable by construction.
    """

    _add = staticmethod(lambda h, tau, mode: call(_add_diffusion, h, tau, mode))

    def __init__(self, filters, diffusivities, tau):
        self.filters = _stencil_list(filters, "filters")
        if not self.filters:
            raise PDEBlocksError("a diffusion block needs at least one filter")
        if any(isinstance(K, TransposedStencil) for K in self.filters):
            raise PDEBlocksError("diffusion filters are plain Stencils (K^T is applied automatically)")
        self.diffusivities = _diffusivity_list(diffusivities, len(self.filters))
        if isinstance(tau, BoundedTau):
            self.tau, self._mode = float(tau.fraction), _TAU_BOUNDED
        else:
            self.tau, self._mode = float(tau), _TAU_FREE

    def _add_filters(self, h):
        for K, g in zip(self.filters, self.diffusivities):
            if isinstance(g, LearnableDiffusivity):
                a, lam = np.ascontiguousarray(g.weights), np.ascontiguousarray(g.contrasts)
                call(_add_learnable, h, *K._c, ptr(a), ptr(lam), a.size)
            else:
                call(_add_filter, h, *K._c, *g._c)

    def _build(self, h):
        call(_add_diffusion, h, self.tau, self._mode)
        self._add_filters(h)


class FSIBlock:
    """FSI block (eq. 7): one cycle of ``cycle_length`` extrapolated steps of ``block``.

    Reaches the diffusion time ``L(L+1)/3 * tau``; parameters are those of ``block``.
    """

    def __init__(self, block: DiffusionBlock, cycle_length: int):
        if not isinstance(block, DiffusionBlock):
            raise PDEBlocksError(f"block must be a DiffusionBlock, got {type(block).__name__}")
        self.block, self.cycle_length = block, int(cycle_length)

    def _build(self, h):
        call(_add_fsi, h, self.block.tau, self.block._mode, self.cycle_length)
        self.block._add_filters(h)


class ImplicitBlock:
    """Implicit block (eq. 9): ``iterations`` fixed-point sweeps ``u <- x - tau sum_c K_c^T Phi_c(K_c u)``."""

    def __init__(self, block: DiffusionBlock, iterations: int):
        if not isinstance(block, DiffusionBlock):
            raise PDEBlocksError(f"block must be a DiffusionBlock, got {type(block).__name__}")
        self.block, self.iterations = block, int(iterations)

    def _build(self, h):
        call(_add_implicit, h, self.block.tau, self.block._mode, self.iterations)
        self.block._add_filters(h)


@dataclass(frozen=True)
class BlockCertificate:
    """Theorem 2 for one block: see :meth:`Network.certificate`."""
    kind: str
    certified: bool
    tau: float
    tau_bound: float
    tau_bound_lipschitz: float
    reason: str


@dataclass(frozen=True)
class Certificate:
    """A network is certified iff every block is; then ``||net(x)||_2 <= ||x||_2`` for all x."""
    n: int
    certified: bool
    blocks: tuple

    @property
    def first_failure(self):
        """Index of the first uncertified block, or None."""
        return next((k for k, b in enumerate(self.blocks) if not b.certified), None)

    def __bool__(self):
        return self.certified


def _text(fn, *args) -> str:
    length = ctypes.c_int64()
    call(fn, *args, None, 0, ctypes.addressof(length))
    buf = ctypes.create_string_buffer(length.value + 1)
    call(fn, *args, buf, length.value + 1, ctypes.addressof(length))
    return buf.value.decode("utf-8", "replace")


class Network:
    """A sequence of blocks acting on signals of shape (N,) or (batch, N).

    Parameters
    ----------
    blocks : list of ResidualBlock, DiffusionBlock, FSIBlock, ImplicitBlock
    threads : int
        Threads for batch rows (0 = one per processor). Results do not depend on it.

    Notes
    -----
    ``forward`` records what ``backward`` needs; ``backward(grad_out)`` returns
    ``(grad_in, grad_params)`` for the last forward pass *of the calling thread* (parameters
    summed over the batch): threads sharing one network each get the gradients of their own
    forward pass, as in PyTorch. Changing the parameters (from any thread) drops every
    thread's record. Inputs are never modified.

    A call on the network from the progress callback of a running call on the same network
    raises :class:`~pdeblocks.BusyError`. A network inherited by a ``fork()`` child works
    there (even when another thread of the parent was running a pass on it).
    """

    def __init__(self, blocks=(), threads: int = 0, *, _handle=None):
        self._local = threading.local()
        self._h = None
        if _handle is not None:
            self._h = _handle
        else:
            blocks = list(blocks)
            if not blocks:
                raise PDEBlocksError("a network needs at least one block")
            h = _VP()
            call(_create, ctypes.addressof(h))
            self._h = h
            for k, b in enumerate(blocks):
                if not hasattr(b, "_build"):
                    raise PDEBlocksError(f"blocks[{k}] is not a block (got {type(b).__name__})")
                b._build(self._h)
        self._threads = 0
        self.threads = threads
        self._last = None

    @property
    def _last(self):
        """(batch, n, squeezed) of this thread's last recorded forward pass, or None."""
        return getattr(self._local, "last", None)

    @_last.setter
    def _last(self, value):
        self._local.last = value

    def __repr__(self):
        return f"Network({len(self)} blocks, {self.parameter_count} parameters, threads={self.threads})"

    def __del__(self):
        h = getattr(self, "_h", None)
        if h is not None and _destroy is not None:
            try:
                _destroy(h)
            except Exception:
                pass
            self._h = None

    # --- structure and parameters --------------------------------------------------
    @property
    def threads(self) -> int:
        return self._threads

    @threads.setter
    def threads(self, value: int):
        call(_set_threads, self._h, int(value))
        self._threads = int(value)

    #: Default of :attr:`tape_limit` (4 GiB).
    DEFAULT_TAPE_LIMIT = _abi.PDB_NETWORK_DEFAULT_TAPE_LIMIT

    @property
    def tape_limit(self) -> int:
        """The most bytes the record of one :meth:`forward` may take (default 4 GiB, at most 2**34).

        Per row the record holds N values for the input of every block plus (L - 1) N for an
        FSI block or an implicit block of L sweeps (8 N bytes per sweep), (2C + 1) N for a
        residual block of C channels; 8 bytes per value. A larger :meth:`forward` raises
        :class:`PDEBlocksError` naming the bytes it needs, before allocating anything.
        :meth:`predict` keeps no record: its memory is O(N) whatever L is.
        """
        return getattr(self, "_tape_limit", self.DEFAULT_TAPE_LIMIT)

    @tape_limit.setter
    def tape_limit(self, value: int):
        call(_set_tape_limit, self._h, int(value))
        self._tape_limit = int(value)

    def __len__(self):
        c = ctypes.c_int64()
        call(_block_count, self._h, ctypes.addressof(c))
        return c.value

    @property
    def parameter_count(self) -> int:
        c = ctypes.c_int64()
        call(_param_count, self._h, ctypes.addressof(c))
        return c.value

    @property
    def parameters(self) -> np.ndarray:
        """A copy of the flat parameter vector."""
        out = as_output(self.parameter_count)
        call(_get_params, self._h, ptr(out), out.size)
        return out

    def set_parameters(self, values) -> None:
        """Set all parameters (validated first; nothing changes on error)."""
        v = as_input(values, "parameters", ndim=(1,))
        call(_set_params, self._h, ptr(v), v.size)

    def block_slices(self):
        """``[(kind, slice), ...]``: each block's kind and its slice of the parameter vector."""
        out = []
        kind, off, cnt = ctypes.c_int32(), ctypes.c_int64(), ctypes.c_int64()
        for k in range(len(self)):
            call(_block_info, self._h, k, ctypes.addressof(kind), ctypes.addressof(off), ctypes.addressof(cnt))
            out.append((_BLOCK_KINDS[kind.value], slice(off.value, off.value + cnt.value)))
        return out

    def describe(self) -> str:
        """One line per block with its current parameters."""
        return _text(_describe, self._h)

    # --- running -------------------------------------------------------------------
    def forward(self, x, *, progress=None) -> np.ndarray:
        """``network(x)`` for a signal (N,) or batch (batch, N); records for :meth:`backward`.

        ``progress`` (None, True for a tqdm bar, a callable or a :class:`Progress`) reports
        blocks x rows and can cancel (:class:`CancelledError`; no pass is recorded then).
        See :mod:`pdeblocks.progress`.
        """
        arr, batch, n = signal_rows(x, "x")
        out = as_output(arr.shape)
        try:
            call(_forward if progress is None else reporting(progress, "forward", "block", _forward),
                 self._h, ptr(arr), batch, n, 0, ptr(out))
        except BusyError:
            raise                                   # a re-entrant call: nothing changed
        except BaseException:
            self._last = None
            raise
        self._last = (batch, n, arr.ndim == 1)
        return out

    __call__ = forward

    def predict(self, x, *, progress=None) -> np.ndarray:
        """``network(x)`` without recording (inference; less memory). ``progress`` as for :meth:`forward`."""
        arr, batch, n = signal_rows(x, "x")
        out = as_output(arr.shape)
        call(_forward if progress is None else reporting(progress, "predict", "block", _forward),
             self._h, ptr(arr), batch, n, _INFERENCE, ptr(out))
        return out

    def backward(self, grad_out, *, progress=None):
        """Vector-Jacobian products of the calling thread's last :meth:`forward`.

        ``progress`` as for :meth:`forward` (a cancelled backward pass keeps the recorded
        forward pass).

        Returns
        -------
        grad_in : ndarray, shape of the forward input
            ``J_x^T grad_out``.
        grad_params : ndarray, shape (parameter_count,)
            ``J_theta^T grad_out``, summed over the batch.
        """
        g, batch, n, squeeze = signals(grad_out, "grad_out")
        last = self._last
        # Without a record on this thread the library refuses (or, for a progress callback of
        # a running call on this network, raises BusyError).
        if last is not None and (last[2] != squeeze or (batch, n) != last[:2]):
            raise PDEBlocksError(f"grad_out has shape {np.shape(grad_out)}, which differs from the last forward output")
        gin = as_output(g.shape)
        gp = as_output(self.parameter_count)
        call(_backward if progress is None else reporting(progress, "backward", "block", _backward),
             self._h, ptr(g), batch, n, ptr(gin), ptr(gp), gp.size)
        return (gin[0] if squeeze else gin), gp

    # --- stability -----------------------------------------------------------------
    def _n(self, n):
        if n is None:
            if self._last is None:
                raise PDEBlocksError("pass the signal length n (||K||_2 depends on it)")
            return self._last[1]
        return int(n)

    def certificate(self, n: int | None = None) -> Certificate:
        """Theorem 2 for every block on signals of length n (default: that of the last forward).

        Each :class:`BlockCertificate` gives the block's ``tau``, the certified bounds
        ``tau_bound = 2/lambda_max(sum_c sup g_c K_c^T K_c)`` and ``tau_bound_lipschitz``
        (paper's form), and a ``reason`` naming the result or every failing condition.
        """
        n = self._n(n)
        blocks = []
        c = ctypes.c_int32()
        tau, b, bl = F64(), F64(), F64()
        kinds = [kind for kind, _ in self.block_slices()]
        for k in range(len(self)):
            length = ctypes.c_int64()
            args = (self._h, k, n, ctypes.addressof(c), ctypes.addressof(tau), ctypes.addressof(b), ctypes.addressof(bl))
            call(_block_certificate, *args, None, 0, ctypes.addressof(length))
            buf = ctypes.create_string_buffer(length.value + 1)
            call(_block_certificate, *args, buf, length.value + 1, ctypes.addressof(length))
            blocks.append(BlockCertificate(kinds[k], bool(c.value), tau.value, b.value, bl.value,
                                           buf.value.decode("utf-8", "replace")))
        return Certificate(n, all(x.certified for x in blocks), tuple(blocks))

    def project_stable(self, n: int | None = None, margin: float = 1.0) -> int:
        """Clamp every free step size into ``[0, margin * tau_bound]``; returns the blocks changed."""
        changed = ctypes.c_int64()
        call(_project, self._h, self._n(n), float(margin), ctypes.addressof(changed))
        return changed.value

    # --- files ---------------------------------------------------------------------
    def save(self, path: str | bytes | os.PathLike) -> None:
        """Save structure and parameters (bit-exact; format in pdeblocks_layers.h).

        Atomic: the file is written under a unique temporary name in the target's directory,
        flushed and renamed over the target, so a concurrent reader sees the old or the new
        file, complete. A symbolic link is followed (its target is replaced, the link stays);
        a path that exists and is not a regular file (directory, FIFO, device) is refused.
        ``path`` is ``str``, ``bytes`` or ``os.PathLike``, passed as its ``os.fsencode``
        bytes; an embedded NUL raises ``ValueError``.
        """
        call(_save, self._h, c_string(path, "path", path=True))

    @classmethod
    def load(cls, path: str | bytes | os.PathLike, threads: int = 0) -> "Network":
        """Load a network saved by :meth:`save`; a truncated or corrupted file raises PDEBlocksError.
        ``path`` as for :meth:`save`."""
        h = _VP()
        call(_load, c_string(path, "path", path=True), ctypes.addressof(h))
        return cls(threads=threads, _handle=h)

"""Networks of blocks: forward and backward passes, parameters, stability certificates, files.

A :class:`Network` turns a list of blocks (:mod:`pdeblocks.blocks`) into a library handle
that runs forward and backward passes (vector-Jacobian products for the input and every
parameter), exposes all parameters as one flat float64 vector for any optimiser, certifies
Euclidean stability (Theorem 2) and saves/loads networks.
"""
from __future__ import annotations

import ctypes
import os
import threading
from dataclasses import dataclass

import numpy as np

from . import _abi
from ._args import INT32, as_array, as_float, as_int, as_rows, as_signals
from ._handle import Handle
from ._lib import F64, call, codes, lib, as_output, c_string, ptr, PDEBlocksError, BusyError
from .progress import reporting

__all__ = ["Network", "Certificate", "BlockCertificate"]

_create = lib.pdb_network_create
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

_INFERENCE = _abi.PDB_FORWARD_INFERENCE
_BLOCK_KINDS = {code: name for name, code in codes("PDB_BLOCK_").items()}


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


class Network(Handle):
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

    Owns a library handle: :meth:`close` (or a ``with`` block) frees it; a closed network
    raises :class:`PDEBlocksError`.
    """

    _destroy = lib.pdb_network_destroy
    _what = "network"

    def __init__(self, blocks=(), threads: int = 0, *, _handle=None):
        self._local = threading.local()
        if _handle is not None:
            self._own(_handle)
        else:
            blocks = list(blocks)
            if not blocks:
                raise PDEBlocksError("a network needs at least one block")
            h = ctypes.c_void_p()
            call(_create, ctypes.addressof(h))
            self._own(h)
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

    # --- structure and parameters --------------------------------------------------
    @property
    def threads(self) -> int:
        return self._threads

    @threads.setter
    def threads(self, value: int):
        value = as_int(value, "threads", INT32)
        call(_set_threads, self._h, value)
        self._threads = value

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
        value = as_int(value, "tape_limit")
        call(_set_tape_limit, self._h, value)
        self._tape_limit = value

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
        v = as_array(values, "parameters", ndim=(1,))
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
        arr, batch, n = as_rows(x, "x")
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
        arr, batch, n = as_rows(x, "x")
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
        g, batch, n, squeeze = as_signals(grad_out, "grad_out")
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
        return as_int(n, "n")

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
        call(_project, self._h, self._n(n), as_float(margin, "margin"), ctypes.addressof(changed))
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
        h = ctypes.c_void_p()
        call(_load, c_string(path, "path", path=True), ctypes.addressof(h))
        return cls(threads=threads, _handle=h)

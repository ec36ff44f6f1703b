"""The generic two-level U-net of the paper's Sec. 3.1, composed of library blocks."""
from __future__ import annotations

import ctypes

import numpy as np

from . import _abi
from ._args import as_array, as_choice, as_float, as_signals
from ._handle import Handle
from ._lib import PDEBlocksError, as_output, call, codes, lib, ptr
from .diffusivities import as_diffusivity
from .operators import Stencil
from .stencil2d import Stencil2D

__all__ = ["TwoLevelUNet", "TwoLevelUNet2D"]

_unet_create = lib.pdb_unet2_create
_unet_forward = lib.pdb_unet2_forward
_UNET_TRANSFERS = codes("PDB_MG_TRANSFER_", ("cell", "vertex"))


class TwoLevelUNet(Handle):
    """The generic two-level U-net of the paper's Sec. 3.1 with additive combination.

    ``f~ = C1(f)``, ``f_H = R f~``, ``f~_H = C_H(f_H)``, ``f_new = f~ + P f~_H``,
    ``out = C2(f_new)``.

    Parameters
    ----------
    pre, coarse, post : sequence of blocks
        The chains C1, C_H, C2 (empty = identity). A block is a :class:`Stencil`
        (``u -> K u``) or a tuple ``(K, g, tau)`` (the diffusion block
        ``u -> u - tau K^T Phi(K u)``, one explicit step). Coarse blocks act on
        signals of length ``ceil(N/2)`` ("cell") or ``floor(N/2)`` ("vertex").
    transfer : {"cell", "vertex"}
        ``"cell"``: R averages pairs of cells (weights 1/8, 3/8, 3/8, 1/8), P
        interpolates linearly, both mirrored at the boundary. ``"vertex"``: full
        weighting and linear interpolation with zero boundary values.
    """

    _destroy = lib.pdb_unet2_destroy
    _what = "U-net"

    def __new__(cls, pre=(), coarse=(), post=(), *, transfer: str = "cell"):
        """2D blocks (a :class:`~pdeblocks.Stencil2D`, or a tuple whose first item is one or a
        list of them) make a :class:`TwoLevelUNet2D`, the same network on images."""
        if cls is TwoLevelUNet and any(_is_2d(b) for b in [*pre, *coarse, *post]):
            cls = TwoLevelUNet2D
        return super().__new__(cls)

    def __init__(self, pre=(), coarse=(), post=(), *, transfer: str = "cell"):
        chains = [list(pre), list(coarse), list(post)]
        kinds, lengths, offsets, weights, gkinds, lambdas, taus = [], [], [], [], [], [], []
        for block in chains[0] + chains[1] + chains[2]:
            if isinstance(block, Stencil):
                kinds.append(_abi.PDB_UNET_STENCIL)
                K, gk, lam, tau = block, _abi.PDB_DIFFUSIVITY_LINEAR, 1.0, 0.0
            elif isinstance(block, tuple) and len(block) == 3 and isinstance(block[0], Stencil):
                K, g, tau = block
                g = as_diffusivity(g)
                kinds.append(_abi.PDB_UNET_DIFFUSION)
                gk, lam, tau = g.kind, g.lam, as_float(tau, "tau")
            else:
                raise PDEBlocksError(f"a U-net block must be a Stencil or a tuple (Stencil, diffusivity, tau), got {block!r}")
            lengths.append(K.weights.size)
            offsets.append(K.offset)
            weights.append(K.weights)
            gkinds.append(gk)
            lambdas.append(lam)
            taus.append(tau)
        count = len(kinds)
        arrays = dict(
            kinds=np.array(kinds, dtype=np.int32), lengths=np.array(lengths, dtype=np.int64),
            offsets=np.array(offsets, dtype=np.int64),
            weights=np.concatenate(weights) if weights else np.zeros(0),
            gkinds=np.array(gkinds, dtype=np.int32), lambdas=np.array(lambdas, dtype=np.float64),
            taus=np.array(taus, dtype=np.float64))
        handle = ctypes.c_void_p()
        t = as_choice(transfer, _UNET_TRANSFERS, "transfer")
        call(_unet_create, count, *(a.ctypes.data for a in arrays.values()), len(chains[0]), len(chains[1]), t,
             ctypes.addressof(handle))
        self._own(handle)
        self._arrays = arrays
        self.pre, self.coarse, self.post, self.transfer = chains[0], chains[1], chains[2], transfer

    def forward(self, f) -> np.ndarray:
        """Apply the network to a signal or each row of a ``(batch, N)`` array (N >= 2)."""
        arr, batch, n, squeeze = as_signals(f)
        out = as_output(arr.shape)
        call(_unet_forward, self._h, ptr(arr), batch, n, ptr(out))
        return out[0] if squeeze else out

    __call__ = forward


def _is_2d(block) -> bool:
    if isinstance(block, Stencil2D):
        return True
    if isinstance(block, tuple) and block:
        first = block[0]
        return isinstance(first, Stencil2D) or (isinstance(first, (list, tuple)) and bool(first)
                                                and all(isinstance(k, Stencil2D) for k in first))
    return False


class TwoLevelUNet2D(TwoLevelUNet):
    """:class:`TwoLevelUNet` on ``(H, W)`` images or ``(B, H, W)`` batches (made by
    ``TwoLevelUNet`` itself when given 2D blocks).

    A block is a :class:`~pdeblocks.Stencil2D` (``u -> K u``) or a tuple ``(K, g, tau)`` with
    ``K`` a Stencil2D or a list of them (the diffusion block
    ``u -> u - tau sum_c K_c^T g(sum_d (K_d u)^2) K_c u``, one explicit step; e.g.
    ``(pdb.gradient_2d(), "perona_malik", 0.2)``). The transfers are the tensor products of the
    1D ones along y and x: ``"cell"`` (coarse ``ceil(H/2) x ceil(W/2)``) or ``"vertex"``
    (``floor(H/2) x floor(W/2)``); the coarse chain acts on the coarse images.
    """

    _destroy = lib.pdb_unet2d_destroy
    _what = "U-net on images"

    def __init__(self, pre=(), coarse=(), post=(), *, transfer: str = "cell"):
        chains = [list(pre), list(coarse), list(post)]
        kinds, filters, shapes, weights, gkinds, lambdas, taus = [], [], [], [], [], [], []
        for block in chains[0] + chains[1] + chains[2]:
            if isinstance(block, Stencil2D):
                kinds.append(_abi.PDB_UNET_STENCIL)
                bank, gk, lam, tau = [block], _abi.PDB_DIFFUSIVITY_LINEAR, 1.0, 0.0
            elif isinstance(block, tuple) and len(block) == 3 and _is_2d(block):
                K, g, tau = block
                bank = [K] if isinstance(K, Stencil2D) else list(K)
                g = as_diffusivity(g)
                kinds.append(_abi.PDB_UNET_DIFFUSION)
                gk, lam, tau = g.kind, g.lam, as_float(tau, "tau")
            else:
                raise PDEBlocksError("a U-net block on images must be a Stencil2D or a tuple (Stencil2D or list of "
                                     f"Stencil2D, diffusivity, tau), got {block!r}")
            filters.append(len(bank))
            for k in bank:
                shapes.append([k.shape[0], k.shape[1], k.offset[0], k.offset[1]])
                weights.append(k.weights.reshape(-1))
            gkinds.append(gk)
            lambdas.append(lam)
            taus.append(tau)
        arrays = dict(
            kinds=np.array(kinds, dtype=np.int32), filters=np.array(filters, dtype=np.int64),
            shapes=np.array(shapes, dtype=np.int64).reshape(-1),
            weights=np.concatenate(weights) if weights else np.zeros(0),
            gkinds=np.array(gkinds, dtype=np.int32), lambdas=np.array(lambdas, dtype=np.float64),
            taus=np.array(taus, dtype=np.float64))
        handle = ctypes.c_void_p()
        t = as_choice(transfer, _UNET_TRANSFERS, "transfer")
        call(lib.pdb_unet2d_create, len(kinds), *(a.ctypes.data for a in arrays.values()), len(chains[0]),
             len(chains[1]), t, ctypes.addressof(handle))
        self._own(handle)
        self._arrays = arrays
        self.pre, self.coarse, self.post, self.transfer = chains[0], chains[1], chains[2], transfer

    def forward(self, f) -> np.ndarray:
        """Apply the network to an ``(H, W)`` image or each image of a ``(B, H, W)`` batch
        (H, W >= 2)."""
        arr = np.ascontiguousarray(as_array(f, "f", ndim=(2, 3)), dtype=np.float64)
        squeeze = arr.ndim == 2
        arr3 = arr[None] if squeeze else arr
        out = as_output(arr3.shape)
        call(lib.pdb_unet2d_forward, self._h, ptr(arr3), *arr3.shape, ptr(out))
        return out[0] if squeeze else out

    __call__ = forward

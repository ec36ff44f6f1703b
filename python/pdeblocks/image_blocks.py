"""A trainable 2D diffusion block on images, forward and backward (the block alone).

    u_out = u - tau * ( sum_c K_c^T Phi_c(K u) + mu (u - f) )

over a bank of 2D stencils ``K_c`` (half-sample mirror boundaries), with the isotropic
coupling ``Phi_c = g(sum_d (K_d u)^2) K_c u`` (one diffusivity) or the channelwise one
``Phi_c = g_c((K_c u)^2) K_c u`` (one per filter). The C ABI is in
``include/pdeblocks_image_layers.h``, which states the packed parameter vector:
filter weights, diffusivity parameters (``log lam``, mixture logits and log-contrasts, or
RBF coefficients, bias and ``log lam``),
``tau``, then ``m`` with ``mu = softplus(m)`` when the block has a reaction term.
"""
from __future__ import annotations

import ctypes

import numpy as np

from . import _abi
from ._args import as_array, as_float
from ._lib import call, lib, ptr, PDEBlocksError
from .blocks import LearnableDiffusivity
from .diffusivities import as_diffusivity
from .rbf_diffusivity import RBFDiffusivity
from .stencil2d import Stencil2D

__all__ = ["DiffusionBlock2D"]

_COUPLINGS = {"isotropic": _abi.PDB_COUPLING_ISOTROPIC, "channelwise": _abi.PDB_COUPLING_CHANNELWISE}
_LINEAR = _abi.PDB_DIFFUSIVITY_LINEAR


def _diffusivity(g):
    """(kind, terms, initial parameters) of one diffusivity argument."""
    if isinstance(g, RBFDiffusivity):
        return _abi.PDB_IMAGE_DIFFUSIVITY_RBF, g.terms, g.parameters
    if isinstance(g, LearnableDiffusivity):
        a, lam = g.weights, g.contrasts
        if np.any(a <= 0) or a.sum() >= 1 or np.any(lam <= 0):
            raise PDEBlocksError("learnable diffusivity needs weights > 0 summing to < 1 and contrasts > 0")
        return _LINEAR, a.size, np.concatenate([np.log(a / (1 - a.sum())), np.log(lam)])
    g = as_diffusivity(g)
    if g.kind == _LINEAR:
        return g.kind, 0, np.empty(0)
    if not (np.isfinite(g.lam) and g.lam > 0):
        raise PDEBlocksError(f"lambda must be positive and finite, got {g.lam}")
    return g.kind, 0, np.array([np.log(g.lam)])


class DiffusionBlock2D:
    """The 2D diffusion(-reaction) block ``u - tau (sum_c K_c^T Phi_c(K u) + mu (u - f))``.

    Parameters
    ----------
    filters : Stencil2D or list of Stencil2D
        The initial bank ``K_1..K_C`` (shapes and offsets stay fixed; weights are learned).
    diffusivities : Diffusivity, name, LearnableDiffusivity, RBFDiffusivity, or a list of them
        One (isotropic) or one per filter (channelwise). Built-in kinds learn ``log lam``;
        an :class:`~pdeblocks.RBFDiffusivity` learns its coefficients, bias and ``log lam``.
    tau : float
        The step size (learned as is).
    mu : float or None
        Initial reaction weight ``mu > 0`` (learned through ``m``, ``mu = softplus(m)``), or
        None for no reaction term (then ``f`` is not used).
    coupling : "isotropic" or "channelwise"
    zero_mean : bool
        Use the filters projected to zero mean ``w - mean(w)`` (TNRD); the gradient is
        projected alike.
    bounded : bool
        Refuse (``PDEBlocksError``) a ``tau`` outside ``[0, tau_bound(shape)]``, the certified
        ``2/(sup g lambda_max(sum K_c^T K_c) + mu)``.

    ``parameters`` is the packed vector (settable); ``forward(u, f)`` takes ``(H, W)`` or
    ``(B, H, W)`` images and remembers its inputs for ``backward(grad_out)``, which returns
    ``(grad_u, grad_f, grad_params)`` (``grad_params`` summed over the batch).
    """

    def __init__(self, filters, diffusivities, tau, mu=None, *, coupling="isotropic", zero_mean=False,
                 bounded=False):
        bank = [filters] if isinstance(filters, Stencil2D) else list(filters)
        if not bank or not all(isinstance(k, Stencil2D) for k in bank):
            raise PDEBlocksError("filters must be a Stencil2D or a nonempty list of Stencil2D")
        if coupling not in _COUPLINGS:
            raise PDEBlocksError(f"unknown coupling {coupling!r} (known: isotropic, channelwise)")
        gs = list(diffusivities) if isinstance(diffusivities, (list, tuple)) else [diffusivities]
        want = 1 if coupling == "isotropic" else len(bank)
        if len(gs) != want:
            raise PDEBlocksError(f"{coupling} coupling with {len(bank)} filters needs {want} diffusivities, got {len(gs)}")
        described = [_diffusivity(g) for g in gs]
        self.filters = tuple(bank)
        self.coupling = coupling
        self._shapes = np.array([[k.shape[0], k.shape[1], k.offset[0], k.offset[1]] for k in bank],
                                dtype=np.int64).reshape(-1)
        self._kinds = np.array([d[0] for d in described], dtype=np.int32)
        self._terms = np.array([d[1] for d in described], dtype=np.int64)
        self._flags = ((_abi.PDB_IMAGE_BLOCK_ZERO_MEAN if zero_mean else 0)
                       | (_abi.PDB_IMAGE_BLOCK_REACTION if mu is not None else 0)
                       | (_abi.PDB_IMAGE_BLOCK_TAU_BOUNDED if bounded else 0))
        tail = [as_float(tau, "tau")]
        if mu is not None:
            mu = as_float(mu, "mu")
            if not (np.isfinite(mu) and mu > 0):
                raise PDEBlocksError(f"mu must be positive and finite (mu = softplus(m) > 0), got {mu}")
            tail.append(mu + np.log(-np.expm1(-mu)))  # softplus^{-1}(mu) = log(e^mu - 1)
        self.parameters = np.concatenate([k.weights.reshape(-1) for k in bank] + [d[2] for d in described] + [tail])
        self._saved = None

    def _description(self):
        return (len(self.filters), ptr(self._shapes), _COUPLINGS[self.coupling], ptr(self._kinds),
                ptr(self._terms), self._flags)

    @property
    def parameter_count(self) -> int:
        count = ctypes.c_int64()
        call(lib.pdb_image_block_parameter_count, *self._description(), ctypes.addressof(count))
        return count.value

    @property
    def parameters(self) -> np.ndarray:
        """The packed parameter vector (a copy)."""
        return self._params.copy()

    @parameters.setter
    def parameters(self, p) -> None:
        p = np.ascontiguousarray(as_array(p, "parameters", ndim=(1,)), dtype=np.float64)
        if p.size != self.parameter_count:
            raise PDEBlocksError(f"the block has {self.parameter_count} parameters, got {p.size}")
        self._params = p.copy()

    @property
    def has_reaction(self) -> bool:
        return bool(self._flags & _abi.PDB_IMAGE_BLOCK_REACTION)

    def tau_bound(self, shape) -> float:
        """The certified ``2/(sup g lambda_max(sum_c K_c^T K_c) + mu)`` on images of ``shape``."""
        h, w = shape
        bound = ctypes.c_double()
        call(lib.pdb_image_block_tau_bound, *self._description(), ptr(self._params), self._params.size,
             int(h), int(w), ctypes.addressof(bound))
        return bound.value

    def _images(self, u, f):
        u = np.ascontiguousarray(as_array(u, "u", ndim=(2, 3)), dtype=np.float64)
        if self.has_reaction:
            if f is None:
                raise PDEBlocksError("the block has a reaction term mu (u - f): f is required")
            f = np.ascontiguousarray(as_array(f, "f", ndim=(2, 3)), dtype=np.float64)
            if f.shape != u.shape:
                raise PDEBlocksError(f"f has shape {f.shape}, u has {u.shape}")
        else:
            f = None
        b, h, w = (1,) + u.shape if u.ndim == 2 else u.shape
        return u, f, (b, h, w)

    def forward(self, u, f=None) -> np.ndarray:
        """``u_out`` for images ``u`` (and data ``f``, required with a reaction term)."""
        u, f, (b, h, w) = self._images(u, f)
        out = np.empty_like(u)
        call(lib.pdb_image_block_forward, *self._description(), ptr(self._params), self._params.size,
             ptr(u), ptr(f), b, h, w, ptr(out))
        self._saved = (u, f)
        return out

    def backward(self, grad_out, u=None, f=None):
        """``(grad_u, grad_f, grad_params)`` for ``grad_out = dL/du_out`` at the last forward
        pass's inputs (or at ``u``, ``f`` when given). ``grad_f`` is zero without reaction."""
        if u is None:
            if self._saved is None:
                raise PDEBlocksError("backward needs a forward pass first (or u and f)")
            u, f = self._saved
        u, f, (b, h, w) = self._images(u, f)
        v = np.ascontiguousarray(as_array(grad_out, "grad_out", ndim=(2, 3)), dtype=np.float64)
        if v.shape != u.shape:
            raise PDEBlocksError(f"grad_out has shape {v.shape}, u has {u.shape}")
        gu, gf = np.empty_like(u), np.empty_like(u)
        gp = np.empty(self._params.size)
        call(lib.pdb_image_block_backward, *self._description(), ptr(self._params), self._params.size,
             ptr(v), ptr(u), ptr(f), b, h, w, ptr(gu), ptr(gf), ptr(gp))
        return gu, gf, gp

    def __repr__(self) -> str:
        return (f"DiffusionBlock2D({len(self.filters)} filters, {self.coupling}, flags={self._flags}, "
                f"{self._params.size} parameters)")

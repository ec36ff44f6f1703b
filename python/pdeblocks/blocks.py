"""Trainable blocks: residual, diffusion, FSI and implicit blocks and their parts (paper Sec. 2).

Blocks are light descriptions; each adds itself to a library network handle in ``_build``
(see :class:`pdeblocks.network.Network`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _abi
from ._args import as_array, as_float, as_int
from ._lib import call, codes, lib, ptr, PDEBlocksError
from .operators import Stencil
from .diffusivities import Diffusivity, as_diffusivity

__all__ = ["LearnableDiffusivity", "FluxActivation", "TransposedStencil", "BoundedTau",
           "ResidualBlock", "DiffusionBlock", "FSIBlock", "ImplicitBlock"]

_add_diffusion = lib.pdb_network_add_diffusion
_add_fsi = lib.pdb_network_add_fsi
_add_implicit = lib.pdb_network_add_implicit
_add_filter = lib.pdb_network_add_filter
_add_learnable = lib.pdb_network_add_learnable_filter
_add_residual = lib.pdb_network_add_residual
_add_channel = lib.pdb_network_add_residual_channel

_TAU_FREE, _TAU_BOUNDED = _abi.PDB_TAU_FREE, _abi.PDB_TAU_BOUNDED
_ACTIVATIONS = codes("PDB_ACTIVATION_", ("identity", "relu", "tanh"))   # by name; FLUX is a FluxActivation
_ACT_FLUX = _abi.PDB_ACTIVATION_FLUX
_W2_CONV, _W2_TRANSPOSED = _abi.PDB_W2_CONVOLUTION, _abi.PDB_W2_TRANSPOSED


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
        self.weights = np.array(as_array(weights, "weights", ndim=(1,)))
        self.contrasts = np.array(as_array(contrasts, "contrasts", ndim=(1,)))
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
        return (_ACT_FLUX, g.kind, g.lam, as_float(a.tau, "tau"))
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
        self.b1 = np.zeros(len(self.W1)) if b1 is None else np.array(as_array(b1, "b1", ndim=(1,)))
        if self.b1.size != len(self.W1):
            raise PDEBlocksError(f"b1 must have one bias per channel ({len(self.W1)}), got {self.b1.size}")
        self.b2 = as_float(b2, "b2")
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
            self.tau, self._mode = as_float(tau.fraction, "fraction"), _TAU_BOUNDED
        else:
            self.tau, self._mode = as_float(tau, "tau"), _TAU_FREE

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
        self.block, self.cycle_length = block, as_int(cycle_length, "cycle_length")

    def _build(self, h):
        call(_add_fsi, h, self.block.tau, self.block._mode, self.cycle_length)
        self.block._add_filters(h)


class ImplicitBlock:
    """Implicit block (eq. 9): ``iterations`` fixed-point sweeps ``u <- x - tau sum_c K_c^T Phi_c(K_c u)``."""

    def __init__(self, block: DiffusionBlock, iterations: int):
        if not isinstance(block, DiffusionBlock):
            raise PDEBlocksError(f"block must be a DiffusionBlock, got {type(block).__name__}")
        self.block, self.iterations = block, as_int(iterations, "iterations")

    def _build(self, h):
        call(_add_implicit, h, self.block.tau, self.block._mode, self.iterations)
        self.block._add_filters(h)

"""The 1D schemes as differentiable torch functions of their input signal.

Each function takes a tensor ``x`` of shape ``(N,)``, ``(batch, N)`` or ``(..., N)`` (signals on
the last axis) and the arguments of the numpy function of the same name, and returns a tensor
of ``x``'s shape and dtype. The forward result *is* the numpy API's (``pdeblocks.explicit``
etc. on ``x``'s float64 values): bitwise equal, same validation, same errors.

Gradients flow to ``x`` only (the stencil, diffusivity and step sizes are fixed numbers here;
to train them use :class:`pdeblocks.torch.Module`). The backward pass is the library's: a
:class:`~pdeblocks.Network` of fixed blocks that computes the same map (one
:class:`~pdeblocks.DiffusionBlock` per explicit or FED step, one
:class:`~pdeblocks.FSIBlock` per FSI cycle, one :class:`~pdeblocks.ImplicitBlock` per implicit
step) runs a recorded forward pass on the saved input and then its backward pass, so a
backward costs one extra forward pass plus the library's backward pass, and the record (the
tape: N values per row and step) exists only during the backward call. Its gradient is that
of the network, which equals the scheme up to rounding (an FSI cycle is evaluated in a
different order; a diffusivity's contrast is stored as ``log(lam)``).

What has no backward in the library is refused when a gradient is needed (an input with
``requires_grad`` under grad mode) and computed as usual otherwise:

* ``fsi``/``fed`` with ``update="cycle"`` (the diffusivity frozen per cycle): the network
  blocks evaluate the flux at every step, so only ``update="step"`` is differentiable;
* ``implicit`` with ``tol > 0`` (a data-dependent number of sweeps): use ``tol=0``;
* ``semi_implicit`` and ``evolve`` are not offered (no backward pass in the library).

Threads: the forward pass uses the library's thread count (:func:`pdeblocks.set_num_threads`),
the backward network the same count; results do not depend on it.
"""
from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from .. import accelerated, schemes
from .._args import as_stencil
from .._lib import PDEBlocksError
from ..blocks import DiffusionBlock, FSIBlock, ImplicitBlock
from ..diffusivities import as_diffusivity
from ..network import Network
from ..threads import get_num_threads
from ._tensors import as_rows, from_rows

__all__ = ["explicit", "fsi", "fed", "implicit"]


class _Scheme(torch.autograd.Function):
    """``run`` (the numpy scheme on (batch, N) float64 rows) as a function of ``x``;
    ``blocks()`` lists the network blocks whose backward pass is its vector-Jacobian product."""

    @staticmethod
    def forward(ctx, x, run, blocks):
        ctx.save_for_backward(x)
        ctx.blocks = blocks
        return from_rows(run(as_rows(x)), x)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        blocks = ctx.blocks()
        if not blocks:                      # zero steps: the identity
            return grad, None, None
        with Network(blocks, threads=get_num_threads()) as net:
            net.forward(as_rows(x))
            grad_in, _ = net.backward(as_rows(grad, "grad"))
        return from_rows(grad_in, x), None, None


def _apply(x, run, blocks, not_differentiable=None):
    rows = as_rows(x)
    if torch.is_grad_enabled() and x.requires_grad:
        if not_differentiable:
            raise PDEBlocksError(not_differentiable)
        return _Scheme.apply(x, run, blocks)
    return from_rows(run(rows), x)


def _one_d(K, g):
    return as_stencil(K, "K (pdeblocks.torch is 1D: a Stencil)"), as_diffusivity(g)


def explicit(x, K, g, tau, steps, *, check_stability=True):
    """:func:`pdeblocks.explicit` on a tensor, differentiable in ``x``: ``steps`` steps
    ``u <- u - tau K^T Phi(K u)`` from ``u = x``. Backward: ``steps`` diffusion blocks."""
    K, g = _one_d(K, g)

    def run(rows):
        return schemes.explicit(rows, K, g, tau, steps, check_stability=check_stability)
    return _apply(x, run, lambda: [DiffusionBlock([K], [g], tau)] * steps)


def fsi(x, K, g, tau, cycle_length, cycles, *, check_stability=True, update="step"):
    """:func:`pdeblocks.fsi` on a tensor, differentiable in ``x`` for ``update="step"``.
    Backward: ``cycles`` FSI blocks of length ``cycle_length``."""
    K, g = _one_d(K, g)

    def run(rows):
        return accelerated.fsi(rows, K, g, tau, cycle_length, cycles, check_stability=check_stability, update=update)
    why = None if update == "step" else \
        f"fsi with update={update!r} has no backward pass in the library; use update='step' to differentiate"
    return _apply(x, run, lambda: [FSIBlock(DiffusionBlock([K], [g], tau), cycle_length)] * cycles, why)


def fed(x, K, g, tau_max, cycle_length, cycles, *, check_stability=True, reorder=True, update="cycle"):
    """:func:`pdeblocks.fed` on a tensor (same defaults), differentiable in ``x`` for
    ``update="step"``. Backward: one diffusion block per FED step (step sizes of
    :func:`pdeblocks.fed_step_sizes`)."""
    K, g = _one_d(K, g)

    def run(rows):
        return accelerated.fed(rows, K, g, tau_max, cycle_length, cycles, check_stability=check_stability,
                               reorder=reorder, update=update)

    def blocks():
        taus = accelerated.fed_step_sizes(cycle_length, tau_max, reorder=reorder)
        return [DiffusionBlock([K], [g], float(t)) for t in taus] * cycles
    why = None if update == "step" else \
        f"fed with update={update!r} has no backward pass in the library; use update='step' to differentiate"
    return _apply(x, run, blocks, why)


def implicit(x, K, g, tau, steps, iterations, *, tol=0.0, check_contraction=True):
    """:func:`pdeblocks.implicit` on a tensor, differentiable in ``x`` for ``tol=0`` (exactly
    ``iterations`` sweeps per step). Backward: ``steps`` implicit blocks."""
    K, g = _one_d(K, g)

    def run(rows):
        return accelerated.implicit(rows, K, g, tau, steps, iterations, tol=tol, check_contraction=check_contraction)
    why = None if tol == 0 else \
        f"implicit with tol={tol!r} stops after a data-dependent number of sweeps and has no backward pass " \
        "in the library; use tol=0 (exactly `iterations` sweeps) to differentiate"
    return _apply(x, run, lambda: [ImplicitBlock(DiffusionBlock([K], [g], tau), iterations)] * steps, why)

"""Nonlinear diffusion of images: explicit (eq. 4), FSI (eq. 7), FED, implicit (eqs. 8-9)
and evolve with a filter bank ``K = [K_1; ...; K_C]`` of :class:`Stencil2D` (DESIGN.md "Images").

One step is ``u <- u - tau sum_c K_c^T G_c K_c u`` with the coupling

* ``"isotropic"`` (default): ``G_c = g(sum_j (K_j u)^2)`` for every channel (Perona-Malik on
  images as usually meant; rotationally invariant for :func:`gradient_2d`);
* ``"channelwise"``: each filter its own flux ``Phi_c(K_c u)``, ``Phi_c(s) = g_c(s^2) s``;
  ``g`` may then be a list of one diffusivity per filter (medpy's ``anisotropic_diffusion``
  is this with ``gradient_2d``).

Images are (H, W) or (B, H, W) arrays; each image of a batch evolves independently.
Step sizes are held to Theorem 2's ``2 / (sup g lambda_max(sum_c K_c^T K_c))`` (certified).
The public entry points are :func:`pdeblocks.explicit`, :func:`pdeblocks.fsi`,
:func:`pdeblocks.fed`, :func:`pdeblocks.implicit` and :func:`pdeblocks.evolve`, which
dispatch here when ``K`` is a :class:`Stencil2D` or a list of them.
"""
from __future__ import annotations

import ctypes
import math

import numpy as np

from . import _abi
from ._args import as_array, as_choice, as_float, as_int, history_buffer
from ._lib import F64, as_output, call, codes, lib, ptr, PDEBlocksError
from .diffusivities import as_diffusivity
from .progress import reporting
from .stencil2d import Stencil2D, as_bank

__all__ = ["COUPLINGS", "is_bank", "explicit_2d", "fsi_2d", "fed_2d", "implicit_2d", "evolve_2d"]

#: Couplings of a filter bank (values: ``PDB_COUPLING_*``).
COUPLINGS = codes("PDB_COUPLING_")
_UNCHECKED = _abi.PDB_UNCHECKED


def is_bank(K) -> bool:
    """Whether ``K`` is an image operator: a :class:`Stencil2D` or a nonempty list/tuple of them."""
    return isinstance(K, Stencil2D) or (isinstance(K, (list, tuple)) and len(K) > 0
                                        and all(isinstance(k, Stencil2D) for k in K))


class _Arguments:
    """The leading C arguments of every image scheme, kept alive for the call."""

    def __init__(self, f, K, g, coupling):
        arr = as_array(f, "f", ndim=(2, 3))
        self.squeeze = arr.ndim == 2
        self.arr = arr.reshape((1,) + arr.shape) if self.squeeze else arr
        self.bank = as_bank(K)
        code = as_choice(coupling, COUPLINGS, "coupling")
        gs = [as_diffusivity(x) for x in g] if isinstance(g, (list, tuple)) else [as_diffusivity(g)]
        self.kinds = np.array([x._c[0] for x in gs], dtype=np.int32)
        self.lambdas = np.array([x._c[1] for x in gs], dtype=np.float64)
        b, h, w = self.arr.shape
        self.c = (ptr(self.arr), b, h, w, *self.bank.c, code, len(gs), ptr(self.kinds), ptr(self.lambdas))
        self.out = as_output(self.arr.shape)

    def finish(self, history=None):
        out = self.out[0] if self.squeeze else self.out
        if history is None:
            return out
        return out, (history[:, 0] if self.squeeze else history)


def _call(fn, name, progress, *args, value=None):
    call(fn if progress is None else reporting(progress, name, "step", fn, value), *args)


def explicit_2d(f, K, g, tau, steps, *, coupling="isotropic", check_stability=True, record_every=0, progress=None):
    """``steps`` explicit steps ``u <- u - tau sum_c K_c^T G_c(u) K_c u`` (eq. 4) on images;
    see :func:`pdeblocks.explicit`. Returns ``u`` or ``(u, history)`` (history shape
    ``(steps // record_every + 1, *f.shape)``)."""
    a = _Arguments(f, K, g, coupling)
    tau, steps = as_float(tau, "tau"), as_int(steps, "steps")
    record_every = as_int(record_every, "record_every")
    history = history_buffer(a.arr, steps, record_every)
    _call(lib.pdb_explicit_2d, "explicit", progress, *a.c, tau, steps, 0 if check_stability else _UNCHECKED,
          record_every, ptr(history), 0 if history is None else history.size, ptr(a.out))
    return a.finish(history)


def fsi_2d(f, K, g, tau, cycle_length, cycles, *, coupling="isotropic", check_stability=True, record_every=0,
           update="step", progress=None):
    """FSI cycles (eq. 7) on images; see :func:`pdeblocks.fsi`."""
    from .accelerated import _update_code
    a = _Arguments(f, K, g, coupling)
    cycles = as_int(cycles, "cycles")
    record_every = as_int(record_every, "record_every")
    history = history_buffer(a.arr, cycles, record_every)
    _call(lib.pdb_fsi_2d, "fsi", progress, *a.c, as_float(tau, "tau"), as_int(cycle_length, "cycle_length"),
          cycles, _update_code(update), 0 if check_stability else _UNCHECKED,
          record_every, ptr(history), 0 if history is None else history.size, ptr(a.out))
    return a.finish(history)


def fed_2d(f, K, g, tau_max, cycle_length, cycles, *, coupling="isotropic", check_stability=True, reorder=True,
           update="cycle", record_every=0, progress=None):
    """FED cycles on images; see :func:`pdeblocks.fed`."""
    from .accelerated import _ordering_code, _update_code
    a = _Arguments(f, K, g, coupling)
    cycles = as_int(cycles, "cycles")
    record_every = as_int(record_every, "record_every")
    history = history_buffer(a.arr, cycles, record_every)
    _call(lib.pdb_fed_2d, "fed", progress, *a.c, as_float(tau_max, "tau_max"), as_int(cycle_length, "cycle_length"),
          cycles, _ordering_code(reorder), _update_code(update), 0 if check_stability else _UNCHECKED,
          record_every, ptr(history), 0 if history is None else history.size, ptr(a.out))
    return a.finish(history)


def implicit_2d(f, K, g, tau, steps, iterations, *, coupling="isotropic", tol=0.0, check_contraction=True,
                return_info=False, progress=None):
    """The implicit scheme (eqs. 8-9) on images by fixed-point sweeps; see :func:`pdeblocks.implicit`."""
    a = _Arguments(f, K, g, coupling)
    tol = as_float(tol, "tol")
    sweeps, residual = ctypes.c_int64(), F64()
    _call(lib.pdb_implicit_2d, "implicit", progress, *a.c, as_float(tau, "tau"), as_int(steps, "steps"),
          as_int(iterations, "iterations"), tol, 0 if check_contraction else _UNCHECKED, ptr(a.out),
          ctypes.addressof(sweeps), ctypes.addressof(residual), value="update")
    u = a.finish()
    if not return_info:
        return u
    return u, {"sweeps": sweeps.value, "residual": residual.value, "tol": tol,
               "converged": math.isfinite(residual.value) and (tol == 0 or residual.value <= tol)}


def evolve_2d(f, K, g, T, *, scheme="fsi", coupling="isotropic", progress=None, **options):
    """Diffuse images to time ``T`` with the plan of :func:`pdeblocks.evolve` (same options
    and info dict), with the image step and bounds."""
    from .accelerated import SCHEMES, _OPTION_BITS, _info, _option_values
    a = _Arguments(f, K, g, coupling)
    as_choice(scheme, SCHEMES, "scheme")
    check_stability = options.pop("check_stability", True)
    mask, values = _option_values(options)
    report = as_output(_abi.PDB_EVOLVE_REPORT_COUNT)
    _call(lib.pdb_evolve_2d, f"evolve ({scheme})", progress, *a.c, as_float(T, "T"), SCHEMES[scheme], mask, *values,
          0 if check_stability else _UNCHECKED, ptr(a.out), ptr(report), report.size,
          value="update" if scheme == "implicit" else None)
    return a.finish(), _info(scheme, as_float(T, "T"), report)

"""Diffusivities g(s^2), their fluxes Phi(s) = g(s^2) s and flux derivatives."""
from __future__ import annotations

import ctypes

import numpy as np
import numpy.typing as npt

from ._args import as_array, as_float
from ._lib import F64, FloatArray, call, codes, lib, c_string, ptr, PDEBlocksError

__all__ = ["Diffusivity", "DIFFUSIVITIES"]

_from_name = lib.pdb_diffusivity_from_name
_g = lib.pdb_diffusivity_g
_flux = lib.pdb_diffusivity_flux
_dflux = lib.pdb_diffusivity_flux_derivative
_constants = lib.pdb_diffusivity_constants

#: Names of the built-in diffusivities, in code order: the header's ``PDB_DIFFUSIVITY_*`` in lower case.
DIFFUSIVITIES = tuple(codes("PDB_DIFFUSIVITY_"))


class Diffusivity:
    """A diffusivity ``g(s^2)`` with contrast parameter ``lam`` > 0.

    ``name`` is one of :data:`DIFFUSIVITIES` (the header's ``pdb_diffusivity`` values, where
    each formula is documented; the README's table repeats them).

    The flux ``Phi(s) = g(s^2) s`` (eq. 3) scaled by tau is the activation of a
    diffusion block (Theorem 1); for Perona-Malik it is nonmonotone (Sec. 2.5).
    """

    def __init__(self, name: str = "perona_malik", lam: float = 1.0) -> None:
        if not isinstance(name, str):
            raise PDEBlocksError(f"diffusivity name must be a string, got {type(name).__name__}")
        kind = ctypes.c_int32()
        call(_from_name, c_string(name, "diffusivity name"), ctypes.addressof(kind))
        self.name = name
        self.kind = kind.value
        self.lam = as_float(lam, "lam")
        sup, lip = F64(), F64()
        call(_constants, self.kind, self.lam, ctypes.addressof(sup), ctypes.addressof(lip))
        #: ``sup g`` (= 1 for every built-in diffusivity)
        self.sup_g = sup.value
        #: Lipschitz constant ``L = sup |Phi'|`` of the flux (computed by the library)
        self.lipschitz = lip.value
        #: C argument pair (kind, lambda)
        self._c: tuple[int, float] = (self.kind, self.lam)

    def __repr__(self) -> str:
        return f"Diffusivity({self.name!r}, lam={self.lam})"

    def __reduce__(self):
        # Pickled by name and λ; the receiving process looks the kind up again (Dask workers).
        return (Diffusivity, (self.name, self.lam))

    def _eval(self, fn, x: npt.ArrayLike, name: str) -> FloatArray | float:
        # any shape; real numbers only (complex, object and bool refused, as everywhere)
        arr = as_array(x, name, ndim=None)
        out = np.empty(arr.shape, dtype=np.float64)
        call(fn, *self._c, ptr(arr), arr.size, ptr(out))
        return float(out[()]) if out.ndim == 0 else out

    def g(self, s2: npt.ArrayLike) -> FloatArray | float:
        """``g(s^2)`` elementwise (``s2 >= 0``), for a real array of any shape: an array of
        the same shape, or a Python float for a scalar (a 0-d input). Complex, object and
        boolean inputs raise PDEBlocksError, as in every function of the package."""
        return self._eval(_g, s2, "s2")

    def flux(self, s: npt.ArrayLike) -> FloatArray | float:
        """``Phi(s) = g(s^2) s`` elementwise."""
        return self._eval(_flux, s, "s")

    def flux_derivative(self, s: npt.ArrayLike) -> FloatArray | float:
        """``Phi'(s) = g(s^2) + 2 s^2 g'(s^2)`` elementwise."""
        return self._eval(_dflux, s, "s")


def as_diffusivity(g: Diffusivity | str) -> Diffusivity:
    """Accept a :class:`Diffusivity` or a name."""
    if isinstance(g, Diffusivity):
        return g
    if isinstance(g, str):
        return Diffusivity(g)
    raise PDEBlocksError(f"expected a Diffusivity or a diffusivity name, got {type(g).__name__}")

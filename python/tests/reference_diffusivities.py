"""The one reference table of the diffusivity kinds for the Python tests.

Each kind's formulas transcribed independently from DESIGN.md with numpy, as functions of
``x2 = s**2 / lam**2``: ``g``, the flux derivative ``dphi`` (Phi'(s) = g + 2 s^2 g'),
``sup_g`` and the Lipschitz constant ``sup |Phi'|`` in closed form. The Swift tests' table is
``Tests/PDEBlocksTests/ReferenceDiffusivities.swift``; ``test_reference_table.py`` checks that
this table names exactly the library's kinds, so a new kind fails until it has a row.
"""
from dataclasses import dataclass
from typing import Callable

import numpy as np

WEICKERT_C = 3.31488


def _weickert_g(x2):
    x2 = np.asarray(x2, dtype=float)
    with np.errstate(divide="ignore", over="ignore"):
        out = -np.expm1(-WEICKERT_C / x2**4)  # 1 - exp(.), without cancellation
    return np.where(x2 == 0, 1.0, out)


def _weickert_dphi(x2):
    # with t = C/x^8: Phi' = 1 - exp(-t) (1 + 8t)
    x2 = np.asarray(x2, dtype=float)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        t = WEICKERT_C / x2**4
        out = 1 - np.exp(-t) * (1 + 8 * t)
    return np.where(x2 == 0, 1.0, out)


@dataclass(frozen=True)
class ReferenceDiffusivity:
    name: str
    g_of_x2: Callable
    dphi_of_x2: Callable
    sup_g: float
    lipschitz: float

    def g(self, s2, lam):
        return self.g_of_x2(np.asarray(s2, dtype=float) / lam**2)

    def flux(self, s, lam):
        s = np.asarray(s, dtype=float)
        return self.g(s * s, lam) * s

    def flux_derivative(self, s, lam):
        s = np.asarray(s, dtype=float)
        return self.dphi_of_x2(s * s / lam**2)


REFERENCE = {
    r.name: r
    for r in [
        ReferenceDiffusivity("linear", lambda x2: np.ones_like(np.asarray(x2, dtype=float)),
                             lambda x2: np.ones_like(np.asarray(x2, dtype=float)), 1.0, 1.0),
        # |exp(-x^2/2)(1 - x^2)| peaks at x = 0
        ReferenceDiffusivity("perona_malik", lambda x2: np.exp(-np.asarray(x2, dtype=float) / 2),
                             lambda x2: np.exp(-np.asarray(x2, dtype=float) / 2) * (1 - np.asarray(x2, dtype=float)),
                             1.0, 1.0),
        ReferenceDiffusivity("perona_malik_rational", lambda x2: 1 / (1 + np.asarray(x2, dtype=float)),
                             lambda x2: (1 - np.asarray(x2, dtype=float)) / (1 + np.asarray(x2, dtype=float)) ** 2,
                             1.0, 1.0),
        ReferenceDiffusivity("charbonnier", lambda x2: 1 / np.sqrt(1 + np.asarray(x2, dtype=float)),
                             lambda x2: (1 + np.asarray(x2, dtype=float)) ** -1.5, 1.0, 1.0),
        # extreme of Phi' at t = 7/8: 1 - 8 exp(-7/8)
        ReferenceDiffusivity("weickert", _weickert_g, _weickert_dphi, 1.0, 8 * np.exp(-7 / 8) - 1),
    ]
}

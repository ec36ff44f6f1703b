"""A certified bound of ``lambda_max(sum_c K_c^T K_c)`` that holds on *every* image size at
least ``min_shape`` — what a trained network needs to be stable on images it has not seen.

The bound is Gershgorin's on the Gram ``G = sum_c K_c^T K_c`` (half-sample mirror
boundaries), maximised over image sizes:

    lambda_max(G) <= max_q sum_q' |G[q, q']|.

Why finitely many sizes suffice. Let ``R_y`` be the largest vertical reach ``|oy + a|`` of a
tap of the bank (``R_x`` alike). Along y, ``K_c`` is a sum of mirrored shifts ``S_s`` with
``|s| <= R_y``, and ``S_s^T S_s'`` couples a row ``i`` only to rows ``i + (s' - s)`` folded at
the boundaries, with ``|s' - s| <= 2 R_y``. So the pattern of Gram row ``i`` (relative to
``i``) depends only on its distance to the top boundary when that is ``< 2 R_y``, to the
bottom one likewise, and is the interior pattern otherwise. For ``H >= H0 = 4 R_y + 1`` no row
is within ``2 R_y`` of both boundaries, and every size ``H >= H0`` has exactly the row
patterns of ``H0`` (distances ``0 .. 2R_y - 1`` to either side, and the interior). In 2D the
row of pixel (i, j) is the tensor combination of its y- and x-patterns, and an ``H x W``
image has every pair of them. Hence the maximum row sum over all ``H >= h_min, W >= w_min``
is the maximum over the finitely many sizes ``H in [h_min, max(h_min, H0)]``,
``W in [w_min, max(w_min, W0)]``, each computed exactly (dense, rounded up at the end).

It is within a small factor (1.3-2 for random zero-mean 3x3 and 5x5 filters) of the true
``lambda_max``, far tighter than ``2 sum_c ||w_c||_1^2``; for the standard operators prefer
:func:`pdeblocks.stable_tau` at the actual size, which is exact.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ._args import as_int
from ._lib import PDEBlocksError
from .diffusivities import as_diffusivity
from .stencil2d import as_bank, bank_matrix

__all__ = ["lambda_max_any_size", "stable_tau_any_size"]


def _reach(lo: int, count: int) -> int:
    return max(abs(lo), abs(lo + count - 1))


def _gershgorin(bank, h: int, w: int) -> float:
    m = bank_matrix(list(bank), (h, w))          # (C*h*w, h*w), at most (4R+1)^2 = 289 columns
    return float(np.abs(m.T @ m).sum(axis=1).max())


def lambda_max_any_size(K: Any, min_shape: tuple[int, int] = (8, 8)) -> float:
    """An upper bound of ``lambda_max(sum_c K_c^T K_c)`` valid on every ``H x W`` image with
    ``H >= min_shape[0]`` and ``W >= min_shape[1]`` (see the module docstring; the largest
    Gershgorin row sum of the Gram over all those sizes, rounded up).

    ``K`` is a ``Stencil2D`` or a list of them; ``min_shape`` must be at least (1, 1), the
    bank's reach per axis at most 4 (filters up to 9 x 9 centred: at most 100 dense Grams of
    at most 289 x 289) and ``min_shape`` at most 64 x 64 (sizes from there on are covered by
    that one size when it is at least 4R + 1)."""
    bank = as_bank(K).stencils
    if not (isinstance(min_shape, (tuple, list)) and len(min_shape) == 2):
        raise PDEBlocksError(f"min_shape must be a pair (H, W), got {min_shape!r}")
    h_min, w_min = (as_int(v, "min_shape") for v in min_shape)
    if h_min < 1 or w_min < 1:
        raise PDEBlocksError(f"min_shape must be positive, got {(h_min, w_min)}")
    ry = max(_reach(k.offset[0], k.shape[0]) for k in bank)
    rx = max(_reach(k.offset[1], k.shape[1]) for k in bank)
    if max(ry, rx) > 4:
        raise PDEBlocksError(f"the bank reaches {max(ry, rx)} pixels; at most 4 is supported")
    if h_min > 64 or w_min > 64:
        raise PDEBlocksError(f"min_shape {(h_min, w_min)} exceeds the supported 64 x 64")
    hs = range(h_min, max(h_min, 4 * ry + 1) + 1)
    ws = range(w_min, max(w_min, 4 * rx + 1) + 1)
    bound = max(_gershgorin(bank, h, w) for h in hs for w in ws)
    return float(np.nextafter(bound * (1 + 1e-13), np.inf))   # rounding of the dense sums


def stable_tau_any_size(K: Any, g: Any, min_shape: tuple[int, int] = (8, 8), mu: float = 0.0) -> float:
    """``2 / (sup g * lambda_max_any_size(K) + mu)``, rounded down: a step size that satisfies
    Theorem 2 (with the reaction weight ``mu >= 0``) on every image of at least ``min_shape``.
    ``g`` is a diffusivity (its ``sup``) or a number ``sup g >= 0``."""
    sup = float(g) if isinstance(g, (int, float, np.floating)) else as_diffusivity(g).sup_g
    mu = float(mu)
    if not (np.isfinite(sup) and sup >= 0 and np.isfinite(mu) and mu >= 0):
        raise PDEBlocksError(f"sup g and mu must be finite and >= 0, got {sup} and {mu}")
    den = sup * lambda_max_any_size(K, min_shape) + mu
    return float(np.nextafter(2 / den, 0)) if den > 0 else float("inf")

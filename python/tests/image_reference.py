"""Dense numpy transcriptions of the image conventions of DESIGN.md ("Images") for the image
scheme tests: the matrix of a 2D stencil with the half-sample mirror per axis, and one step
``base - tau sum_c K_c^T G_c K_c x`` for both couplings."""
import numpy as np

from reference_diffusivities import REFERENCE


def mirror(k, n):
    k = k % (2 * n)
    return k if k < n else 2 * n - 1 - k


def matrix(weights, offset, h, w):
    weights = np.atleast_2d(np.asarray(weights, dtype=float))
    oy, ox = offset
    m = np.zeros((h * w, h * w))
    for i in range(h):
        for j in range(w):
            for a in range(weights.shape[0]):
                for b in range(weights.shape[1]):
                    m[i * w + j, mirror(i + oy + a, h) * w + mirror(j + ox + b, w)] += weights[a, b]
    return m


def step(x, base, mats, gs, coupling, tau):
    """``gs``: list of (kind name, lambda), one or one per matrix (channelwise)."""
    ys = [m @ x for m in mats]
    out = base.copy()
    for c, (m, y) in enumerate(zip(mats, ys)):
        name, lam = gs[0] if len(gs) == 1 else gs[c]
        s2 = sum(v * v for v in ys) if coupling == "isotropic" else y * y
        out -= tau * (m.T @ (REFERENCE[name].g(s2, lam) * y))
    return out

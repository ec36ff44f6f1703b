"""Shared fixtures and independent dense references used across the test-suite."""
import math

import numpy as np
import pytest

import pdeblocks as pdb
from reference_diffusivities import REFERENCE


def mirror(j: int, n: int) -> int:
    """Half-sample symmetric, 2n-periodic extension index (written independently of the library)."""
    j = j % (2 * n)
    return j if j < n else 2 * n - 1 - j


def dense_stencil(weights, offset, n):
    """Dense N x N matrix of a mirrored stencil, built entry by entry from the definition."""
    K = np.zeros((n, n))
    for i in range(n):
        for j, w in enumerate(weights):
            K[i, mirror(i + offset + j, n)] += w
    return K


def g_reference(name, s2, lam):
    """g(s^2) of the shared reference table (reference_diffusivities.py)."""
    return REFERENCE[name].g(s2, lam)


def explicit_reference(f, K, name, lam, tau, steps):
    """Dense transcription of eq. (4): u <- u - tau K^T Phi(K u)."""
    u = np.array(f, dtype=float)
    for _ in range(steps):
        y = K @ u
        u = u - tau * K.T @ (g_reference(name, y * y, lam) * y)
    return u


def noisy_step(n=256, sigma=0.1, seed=0, jumps=(0.3, 0.6), levels=(0.2, 0.9, 0.4)):
    rng = np.random.default_rng(seed)
    x = np.arange(n) / n
    clean = np.full(n, levels[0])
    for k, t in enumerate(jumps):
        clean[x >= t] = levels[k + 1]
    return clean, clean + sigma * rng.standard_normal(n)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


DIFFUSIVITY_NAMES = list(pdb.DIFFUSIVITIES)

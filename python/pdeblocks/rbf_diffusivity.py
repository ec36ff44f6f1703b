"""A learnable diffusivity from radial basis functions through a sigmoid (2D diffusion blocks).

    x = |s| / lam,   lam = exp(rho),
    h(x) = b + sum_{j=0}^{J-1} c_j exp(-(x - x_j)^2 / (2 gamma^2)),   x_j = 3 j/(J-1),  gamma = 3/(J-1),
    g(s^2) = sigmoid(h(x)) = 1 / (1 + exp(-h)),      flux Phi(s) = g s,

with ``2 <= J <= 64``. Parameters in a block's vector: ``c_0..c_{J-1}, b, rho`` (``J + 2``). For
every parameter value ``0 <= g <= 1`` (computed; ``c_j`` and ``b`` act clipped to
``[-1e300, 1e300]``), so Theorem 2's step-size bound certifies the block whatever training
does; g need not be monotone (the flux may be nonmonotone, paper Sec. 2.5). C ABI:
``PDB_IMAGE_DIFFUSIVITY_RBF`` with ``terms[d] = J`` (``include/pdeblocks_image_layers.h``).
"""
from __future__ import annotations

import numpy as np

from ._args import as_array, as_float
from ._lib import PDEBlocksError

__all__ = ["RBFDiffusivity"]

MIN_TERMS, MAX_TERMS = 2, 64


def _sigmoid(h):
    e = np.exp(-np.abs(h))
    return np.where(h >= 0, 1 / (1 + e), e / (1 + e))


class RBFDiffusivity:
    """``g(s^2) = sigmoid(b + sum_j c_j exp(-(|s|/lam - x_j)^2 / (2 gamma^2)))`` (see the module).

    Parameters
    ----------
    coefficients : array_like, shape (J,)
        Initial ``c_j``, 2 <= J <= 64, finite.
    bias : float
        Initial ``b`` (``g -> sigmoid(b)`` for large ``|s|``; the default -4 gives 0.018).
    scale : float
        Initial ``lam > 0`` (learned as ``rho = log lam``): the centres ``x_j`` sit at
        ``|s| = 3 j lam/(J - 1)``.
    """

    def __init__(self, coefficients, bias=-4.0, scale=1.0):
        c = np.array(as_array(coefficients, "coefficients", ndim=(1,)), dtype=np.float64)
        if not MIN_TERMS <= c.size <= MAX_TERMS:
            raise PDEBlocksError(f"an RBF diffusivity needs {MIN_TERMS}...{MAX_TERMS} coefficients, got {c.size}")
        bias, scale = as_float(bias, "bias"), as_float(scale, "scale")
        if not (np.all(np.isfinite(c)) and np.isfinite(bias)):
            raise PDEBlocksError("RBF diffusivity coefficients and bias must be finite")
        if not (np.isfinite(scale) and scale > 0 and np.isfinite(np.log(scale))):
            raise PDEBlocksError(f"RBF diffusivity scale must be positive and finite, got {scale}")
        self.coefficients, self.bias, self.scale = c, bias, scale

    @property
    def terms(self) -> int:
        """J, the number of radial basis functions."""
        return self.coefficients.size

    @property
    def parameters(self) -> np.ndarray:
        """``[c_0..c_{J-1}, b, log(lam)]``, the block-vector slice of this diffusivity."""
        return np.concatenate([self.coefficients, [self.bias, np.log(self.scale)]])

    @staticmethod
    def basis(x, terms):
        """The ``J`` Gaussians ``exp(-(x - x_j)^2 / (2 gamma^2))`` at ``x`` (new last axis)."""
        gamma = 3.0 / (terms - 1)
        centres = gamma * np.arange(terms)
        x = np.asarray(x, dtype=np.float64)[..., None]
        return np.exp(-(x - centres) ** 2 / (2 * gamma * gamma))

    def h(self, x):
        """``h(x)`` at ``x = |s|/lam`` (coefficients and bias clipped as in the library)."""
        c = np.clip(self.coefficients, -1e300, 1e300)
        return np.clip(self.bias, -1e300, 1e300) + self.basis(x, self.terms) @ c

    def g(self, s2):
        """``g(s^2)`` evaluated in numpy (for plots and checks)."""
        x = np.sqrt(np.asarray(s2, dtype=np.float64)) / self.scale
        return _sigmoid(self.h(np.minimum(x, 3 + 120.0 / (self.terms - 1))))

    def __call__(self, s2):
        return self.g(s2)

    @property
    def sup_g(self) -> float:
        """``sigmoid(b + sum_j max(c_j, 0))`` >= sup g (the library's certified value rounds it up)."""
        return float(_sigmoid(self.bias + np.maximum(self.coefficients, 0).sum()))

    @classmethod
    def perona_malik_like(cls, terms=8, lam=0.1, tail=-4.0):
        """Coefficients fitted so that ``g(s^2) ~ 1/(1 + s^2/lam^2)`` for ``|s| <= 3 lam``, with
        ``b = tail`` (``g(inf) = sigmoid(tail)``): least squares in ``h`` against the logit of the
        target (weighted by its slope ``t(1 - t)``), then Gauss-Newton steps on the squared
        error of g itself, on 301 points of ``x = |s|/lam in [0, 3]``."""
        terms = int(terms)
        if not MIN_TERMS <= terms <= MAX_TERMS:
            raise PDEBlocksError(f"an RBF diffusivity needs {MIN_TERMS}...{MAX_TERMS} coefficients, got {terms}")
        x = np.linspace(0.0, 3.0, 301)
        target = 1 / (1 + x * x)
        A = cls.basis(x, terms)
        t = np.clip(target, 1e-3, 1 - 1e-2)
        w = t * (1 - t)
        c = np.linalg.lstsq(A * w[:, None], (np.log(t / (1 - t)) - tail) * w, rcond=None)[0]
        for _ in range(20):
            g = _sigmoid(tail + A @ c)
            jac = A * (g * (1 - g))[:, None]
            step = np.linalg.lstsq(np.vstack([jac, 1e-6 * np.eye(terms)]),
                                   np.concatenate([target - g, np.zeros(terms)]), rcond=None)[0]
            c = c + step
        return cls(c, bias=tail, scale=lam)

    def __repr__(self):
        return f"RBFDiffusivity({self.coefficients.tolist()}, bias={self.bias}, scale={self.scale})"

"""A small numpy Adam optimiser for flat parameter vectors (users may bring their own)."""
from __future__ import annotations

import numpy as np

__all__ = ["Adam"]


class Adam:
    """Adam (Kingma & Ba 2015) on a flat float64 parameter vector.

    Parameters
    ----------
    lr : float or array_like
        Step size (a vector gives per-parameter step sizes).
    betas : (float, float)
        Decay rates of the first and second moment estimates.
    eps : float

    Examples
    --------
    >>> opt = Adam(lr=1e-2)
    >>> p = net.parameters                                    # doctest: +SKIP
    >>> for _ in range(100):                                  # doctest: +SKIP
    ...     y = net.forward(x); _, g = net.backward(y - target)
    ...     p = opt.step(p, g); net.set_parameters(p)
    """

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"betas must lie in [0, 1), got {betas}")
        self.lr = np.asarray(lr, dtype=np.float64)
        self.b1, self.b2 = float(betas[0]), float(betas[1])
        self.eps = float(eps)
        self.t = 0
        self.m = None
        self.v = None

    def step(self, params, grad) -> np.ndarray:
        """Return the updated parameters (new array; ``params`` and ``grad`` are not modified)."""
        params = np.asarray(params, dtype=np.float64)
        grad = np.asarray(grad, dtype=np.float64)
        if params.shape != grad.shape:
            raise ValueError(f"params {params.shape} and grad {grad.shape} differ in shape")
        if self.m is None or self.m.shape != params.shape:
            self.m = np.zeros_like(params)
            self.v = np.zeros_like(params)
            self.t = 0
        self.t += 1
        self.m = self.b1 * self.m + (1 - self.b1) * grad
        self.v = self.b2 * self.v + (1 - self.b2) * grad * grad
        mhat = self.m / (1 - self.b1 ** self.t)
        vhat = self.v / (1 - self.b2 ** self.t)
        return params - self.lr * mhat / (np.sqrt(vhat) + self.eps)

"""Benchmark: one explicit Perona-Malik step (eq. 4), ns per sample, library vs numpy.

Prints, measured in one run, for N = 1e4 and 1e6: this library called from Python
(many steps per call, and one step per call), a numpy vectorised implementation of the
same step with the same mirrored boundaries, and the ratio numpy / library.
Run: `make bench` (or PYTHONPATH=python python bench/explicit_step.py).
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import pdeblocks as pdb


def numpy_step(u, tau, lam):
    """u - tau K^T Phi(K u), K the mirrored forward difference (last row is zero)."""
    y = np.empty_like(u)
    np.subtract(u[1:], u[:-1], out=y[:-1])
    y[-1] = 0.0
    y *= np.exp(-(y * y) / (2 * lam * lam))  # Phi(y) = g(y^2) y
    out = u.copy()
    # K^T y: (K^T y)_0 = -y_0; (K^T y)_i = y_{i-1} - y_i
    out[0] += tau * y[0]
    out[1:] -= tau * (y[:-1] - y[1:])
    return out


def best_of(fn, repeat):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    lam = 0.1
    print(f"explicit Perona-Malik step, ns per sample (best of {args.repeat}); pdeblocks {pdb.__version__}")
    print(f"{'N':>10}{'lib (multi-step)':>18}{'lib (1 step/call)':>19}{'numpy':>10}{'numpy/lib':>11}")
    for n in args.sizes:
        rng = np.random.default_rng(0)
        f = np.cumsum(rng.standard_normal(n)) / np.sqrt(n)
        K = pdb.DifferenceOperator([0, 1])
        g = pdb.Diffusivity("perona_malik", lam)
        tau = pdb.stable_tau(K, g, n)
        steps = max(1, 2_000_000 // n) * 10
        # check both compute the same step
        np.testing.assert_allclose(pdb.explicit(f, K, g, tau, 1), numpy_step(f, tau, lam), rtol=1e-12, atol=1e-14)
        t_lib = best_of(lambda: pdb.explicit(f, K, g, tau, steps), args.repeat) / (steps * n)
        t_one = best_of(lambda: pdb.explicit(f, K, g, tau, 1), args.repeat * 5) / n

        def numpy_run():
            u = f
            for _ in range(steps):
                u = numpy_step(u, tau, lam)
        t_np = best_of(numpy_run, args.repeat) / (steps * n)
        print(f"{n:>10}{t_lib * 1e9:>18.2f}{t_one * 1e9:>19.2f}{t_np * 1e9:>10.2f}{t_np / t_lib:>11.2f}")


if __name__ == "__main__":
    main()

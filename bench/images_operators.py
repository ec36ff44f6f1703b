"""Benchmark of the 2D operators: the certified lambda_max of gradient_2d on a 4096^2 image,
and Stencil2D.apply / adjoint in ns per pixel for 3x3 and 7x7 stencils (and a separable 7x7) on a 1024^2 image
against scipy.ndimage.correlate (mode="reflect" is the half-sample mirror of pdeblocks;
mode="mirror" is not). Same results checked before timing. One run, best of --repeat.

Usage:  python bench/images_operators.py [--size 1024] [--repeat 5] [--rows FILE]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.ndimage as ndi

import pdeblocks as pb
from rows import Rows  # bench/rows.py (the script's directory is on sys.path)


def best_time(fn, repeat):
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rows", help="write the key figures as JSON rows to this file (bench/rows.py)")
    args = parser.parse_args()
    rows = Rows()
    pb.set_num_threads(1)

    # lambda_max of gradient_2d on 4096^2: the first call (cold: the 1D norms are cached per
    # process afterwards) and a fresh bank each time (h varies, so nothing is cached).
    t0 = time.perf_counter()
    lam = pb.filter_bank_norm_squared(pb.gradient_2d(), (4096, 4096))
    cold = time.perf_counter() - t0
    hs = iter(np.linspace(0.5, 2.0, 1000))
    fresh = best_time(lambda: pb.filter_bank_norm_squared(pb.gradient_2d(float(next(hs))), (4096, 4096)), args.repeat)
    closed = 8 * np.cos(np.pi / 8192) ** 2
    print(f"lambda_max(gradient_2d) on 4096^2: {lam:.12f} (closed form {closed:.12f}, "
          f"rel. excess {lam / closed - 1:.1e}); first call {cold * 1e3:.2f} ms, uncached {fresh * 1e3:.2f} ms")
    rows.add("gradient_2d 4096^2", "lambda_max first call", cold * 1e3, "ms")
    rows.add("gradient_2d 4096^2", "lambda_max uncached", fresh * 1e3, "ms")

    n = args.size
    rng = np.random.default_rng(0)
    u = rng.standard_normal((n, n))
    print(f"\n{'stencil':8} {'pdeblocks apply':>16} {'adjoint':>9} {'scipy correlate':>16} {'ratio apply':>12}"
          "   (ns/pixel, 1 thread)")
    binomial = np.array([1.0, 6, 15, 20, 15, 6, 1]) / 64
    cases = [("3x3", rng.standard_normal((3, 3))), ("7x7", rng.standard_normal((7, 7))),
             ("7x7 sep", np.outer(binomial, binomial))]   # separable: two 7-tap passes
    for label, w in cases:
        k = w.shape[0]
        K = pb.Stencil2D(w, offset=(-(k // 2), -(k // 2)))
        ref = ndi.correlate(u, w, mode="reflect")
        assert np.allclose(K.apply(u), ref, rtol=1e-12, atol=1e-10), "not the same operator"
        out = np.empty_like(u)
        t_apply = best_time(lambda: K.apply(u), args.repeat)
        t_adj = best_time(lambda: K.adjoint(u), args.repeat)
        t_scipy = best_time(lambda: ndi.correlate(u, w, output=out, mode="reflect"), args.repeat)
        per = 1e9 / u.size
        print(f"{label:8} {t_apply * per:16.2f} {t_adj * per:9.2f} {t_scipy * per:16.2f} {t_scipy / t_apply:11.1f}x")
        rows.add(f"{label} {n}^2", "apply", t_apply * per, "ns/pixel")
        rows.add(f"{label} {n}^2", "adjoint", t_adj * per, "ns/pixel")
        rows.add(f"{label} {n}^2", "scipy.ndimage.correlate", t_scipy * per, "ns/pixel")
    rows.write(args.rows)


if __name__ == "__main__":
    main()

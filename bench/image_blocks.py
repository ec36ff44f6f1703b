"""Benchmark: forward and backward of a TNRD-like DiffusionBlock2D (C = 8 zero-mean 3x3
filters, Perona-Malik, reaction term) on a batch of images, ns per pixel, against the same
forward pass written with scipy.ndimage.correlate (mode="reflect" is the half-sample mirror;
K^T by correlating with the flipped kernel, exact away from the boundary: a timing yardstick,
not a reference), measured in one run. Threads: the library's default (the block runs on one).
Run: PYTHONPATH=python python bench/image_blocks.py [--size 256] [--batch 4] [--filters 8]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import ndimage

from pdeblocks import Diffusivity, Stencil2D
from pdeblocks.image_blocks import DiffusionBlock2D
from rows import Rows  # bench/rows.py (the script's directory is on sys.path)


def best_of(fn, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def scipy_forward(kernels, u, f, tau, mu, lam):
    out = np.empty_like(u)
    for r in range(u.shape[0]):
        z = [ndimage.correlate(u[r], k, mode="reflect") for k in kernels]
        g = np.exp(-sum(zc * zc for zc in z) / (2 * lam * lam))
        res = sum(ndimage.correlate(g * zc, k[::-1, ::-1], mode="reflect") for k, zc in zip(kernels, z))
        out[r] = u[r] - tau * (res + mu * (u[r] - f[r]))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--filters", type=int, default=8)
    p.add_argument("--rows", help="write the figures as JSON rows (bench/rows.py)")
    args = p.parse_args()
    rng = np.random.default_rng(0)
    kernels = [k - k.mean() for k in rng.normal(size=(args.filters, 3, 3)) * 0.3]
    block = DiffusionBlock2D([Stencil2D(k, (-1, -1)) for k in kernels], Diffusivity("perona_malik", 0.5), 0.05, 0.1,
                             zero_mean=True)
    u = rng.normal(size=(args.batch, args.size, args.size))
    f = rng.normal(size=u.shape)
    px = u.size
    t_fwd = best_of(lambda: block.forward(u, f))
    t_bwd = best_of(lambda: block.backward(u))
    t_sp = best_of(lambda: scipy_forward(kernels, u, f, 0.05, 0.1, 0.5))
    name = f"DiffusionBlock2D C={args.filters} 3x3, {args.batch}x{args.size}^2"
    print(f"{name}")
    print(f"  forward            {t_fwd / px * 1e9:8.1f} ns/pixel")
    print(f"  backward           {t_bwd / px * 1e9:8.1f} ns/pixel  ({t_bwd / t_fwd:.1f}x forward)")
    print(f"  scipy forward      {t_sp / px * 1e9:8.1f} ns/pixel  (forward is {t_sp / t_fwd:.2f}x faster)")
    rows = Rows()
    rows.add(name, "forward", t_fwd / px * 1e9, "ns/pixel")
    rows.add(name, "backward", t_bwd / px * 1e9, "ns/pixel")
    rows.add(f"scipy.ndimage forward, {args.batch}x{args.size}^2", "forward", t_sp / px * 1e9, "ns/pixel")
    rows.write(args.rows)


if __name__ == "__main__":
    main()

"""Benchmark: one EED step and one AOS step on a 1024^2 image, ns per pixel, against an
explicit linear diffusion step computed in numpy (the yardstick), measured in one run.

The per-step cost is (time of 1 + S steps - time of 1 step) / S in one call each, so the
call's fixed cost (argument checks, work buffers, the copy to the output) is reported
separately as "per call". Threads: 1 and the default.
Run: PYTHONPATH=python python bench/images_eed.py [--size 1024] [--steps 8]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import pdeblocks as pdb
from pdeblocks.eed import aos, eed_stable_tau
from rows import Rows  # bench/rows.py (the script's directory is on sys.path)


def numpy_linear_step(u, tau):
    """u - tau (Kx^T Kx u + Ky^T Ky u): forward differences, zero in the last column/row."""
    px = np.zeros_like(u)
    py = np.zeros_like(u)
    np.subtract(u[:, 1:], u[:, :-1], out=px[:, :-1])
    np.subtract(u[1:, :], u[:-1, :], out=py[:-1, :])
    out = u.copy()
    out[:, 0] += tau * px[:, 0]
    out[:, 1:] -= tau * (px[:, :-1] - px[:, 1:])
    out[0, :] += tau * py[0, :]
    out[1:, :] -= tau * (py[:-1, :] - py[1:, :])
    return out


def best_of(fn, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=1024)
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--rows", help="write the key figures as JSON rows to this file (bench/rows.py)")
    args = p.parse_args(argv)
    rows = Rows()
    n, S = args.size, args.steps
    px = n * n
    rng = np.random.default_rng(0)
    u = rng.random((n, n))
    tau = eed_stable_tau((n, n), 0.05)
    K = pdb.gradient_2d()

    t_np = best_of(lambda: numpy_linear_step(u, 0.2))
    print(f"{n}x{n} image, ns per pixel per step (best of 3)")
    print(f"  numpy explicit linear step (yardstick): {t_np / px * 1e9:7.2f}")
    default_threads = pdb.get_num_threads()
    for threads in sorted({1, default_threads}):
        pdb.set_num_threads(threads)
        e1 = best_of(lambda: pdb.eed(u, 0.05, 1.0, tau, tau=tau))
        eS = best_of(lambda: pdb.eed(u, 0.05, 1.0, (S + 1) * tau, tau=tau))
        a1 = best_of(lambda: aos(u, K, pdb.Diffusivity("perona_malik", 0.05), 5.0, 1))
        aS = best_of(lambda: aos(u, K, pdb.Diffusivity("perona_malik", 0.05), 5.0, S + 1))
        eed_step, aos_step = (eS - e1) / S, (aS - a1) / S
        print(f"  threads = {threads}")
        print(f"    EED step (sigma = 1, weickert):  {eed_step / px * 1e9:7.2f}   ({eed_step / t_np:.2f}x numpy linear; "
              f"per call {max(e1 - eed_step, 0) / px * 1e9:.2f})")
        print(f"    AOS step (perona_malik, tau = 5): {aos_step / px * 1e9:7.2f}   ({aos_step / t_np:.2f}x numpy linear; "
              f"per call {max(a1 - aos_step, 0) / px * 1e9:.2f})")
        rows.add(f"EED {n}^2, {threads} thread(s)", "step", eed_step / px * 1e9, "ns/pixel")
        rows.add(f"AOS {n}^2, {threads} thread(s)", "step", aos_step / px * 1e9, "ns/pixel")
    rows.add(f"numpy linear step {n}^2", "step", t_np / px * 1e9, "ns/pixel")
    pdb.set_num_threads(0)
    rows.write(args.rows)


if __name__ == "__main__":
    main()

"""Benchmark of the trainable layers: forward and backward time per sample of a 5-block
diffusion network on a (64, 4096) batch, and the throughput of 2 threads against 1.

Targets (issue 5): backward <= 3x forward; 2-thread throughput >= 1.7x one thread.
All figures are measured side by side in one run (best of --repeat runs).

Usage:  python bench/layers.py [--threads 2] [--batch 64] [--n 4096] [--repeat 7]
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

import pdeblocks as pb
from rows import Rows  # bench/rows.py (the script's directory is on sys.path)


def network(kind: str, threads: int) -> pb.Network:
    """5 diffusion blocks with 2 filters each (forward difference, 3-tap centred first
    difference), diffusivities learnable (3 terms) or built-in Perona-Malik."""
    filters = [pb.Stencil([-1.0, 1.0]), pb.Stencil([-0.5, 0.0, 0.5], -1)]
    if kind == "learnable":
        gs = [pb.LearnableDiffusivity([0.3, 0.3, 0.3], [0.05, 0.1, 0.3]) for _ in filters]
    else:
        gs = [pb.Diffusivity("perona_malik", 0.1) for _ in filters]
    return pb.Network([pb.DiffusionBlock(filters, gs, 0.2) for _ in range(5)], threads=threads)


def machine_busy():
    """CPU seconds all processes have spent on this machine (from /proc/stat), or 0."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
        return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def best_time(fn, repeat):
    """Best wall time of `repeat` runs, and the process CPU time (all threads) of that run."""
    fn()  # warm-up
    best = (float("inf"), 0.0)
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        best = min(best, (wall, cpu))
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="thread count compared with 1 thread")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--n", type=int, default=4096)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--rows", help="write the key figures as JSON rows to this file (bench/rows.py)")
    args = parser.parse_args(argv)
    figures = Rows()
    rng = np.random.default_rng(0)
    x = np.cumsum(rng.normal(scale=0.05, size=(args.batch, args.n)), axis=1)
    w = rng.normal(size=x.shape)
    print(f"5 diffusion blocks x 2 filters on ({args.batch}, {args.n}); best of {args.repeat}; "
          f"times per sample in microseconds; load average before: {os.getloadavg()[0]:.2f}")
    print(f"{'diffusivity':<12} {'threads':>7} {'forward':>9} {'backward':>9} {'bwd/fwd':>8} "
          f"{'inference':>9} {'fwd+bwd cpu':>11} {'speed-up':>9}")
    busy0, cpu0, wall0 = machine_busy(), time.process_time(), time.perf_counter()
    ok = True
    per = 1e6 / args.batch
    for kind in ("perona_malik", "learnable"):
        # One- and multi-thread runs alternate, so a change of the machine's load hits both.
        nets = {t: network(kind, t) for t in (1, args.threads)}
        best = {t: dict(fwd=(np.inf, 0.0), bwd=(np.inf, 0.0), inf=(np.inf, 0.0)) for t in nets}
        for _ in range(args.repeat):
            for t, net in nets.items():
                best[t]["fwd"] = min(best[t]["fwd"], best_time(lambda: net.forward(x), 1))
                best[t]["bwd"] = min(best[t]["bwd"], best_time(lambda: net.backward(w), 1))
                best[t]["inf"] = min(best[t]["inf"], best_time(lambda: net.predict(x), 1))
        one = None
        for t in nets:
            (fwd, cf), (bwd, cb), (inf, _) = best[t]["fwd"], best[t]["bwd"], best[t]["inf"]
            total = fwd + bwd
            speedup = "" if one is None else f"{one / total:9.2f}"
            print(f"{kind:<12} {t:>7} {fwd * per:9.1f} {bwd * per:9.1f} {bwd / fwd:8.2f} {inf * per:9.1f} "
                  f"{(cf + cb) * per:11.1f} {speedup}")
            case = f"{kind}, ({args.batch}, {args.n}), {t} thread(s)"
            figures.add(case, "forward", fwd * per, "us/sample")
            figures.add(case, "backward", bwd * per, "us/sample")
            figures.add(case, "inference", inf * per, "us/sample")
            if one is not None:
                figures.add(case, "forward+backward speed-up vs 1 thread", one / total, "x")
            if one is None:
                one = total
                ok &= bwd <= 3 * fwd
            else:
                ok &= one / total >= 1.7
    others = (machine_busy() - busy0 - (time.process_time() - cpu0)) / (time.perf_counter() - wall0)
    print(f"load average after: {os.getloadavg()[0]:.2f}; other processes used {max(others, 0):.2f} of the "
          f"{os.cpu_count()} cores during the run (the speed-up needs a second core free)")
    print("targets (backward <= 3x forward, speed-up >= 1.7):", "met" if ok else "NOT met")
    figures.write(args.rows)


if __name__ == "__main__":
    main()

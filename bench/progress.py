"""Benchmark: the cost of progress reports (``progress=``), measured side by side.

For each case the same call runs alternately without reports (``progress=None``) and
with a Python callback (default interval 0.1 s; and 0 s, a report at every flush of the
workers' counts, the worst case), best of several rounds each. Prints milliseconds per
call (wall clock) and the ratios (with / without) of wall-clock and of process CPU time:
on a shared machine the CPU-time ratio is the steadier figure. The cost of ``progress=None`` against a build
without the feature is not measured here: compare ``bench/suite.py --sections explicit``
of the two builds.

Run: PYTHONPATH=python python bench/progress.py [--quick]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import pdeblocks as pdb


def best_of_alternating(fns, rounds):
    """Best wall-clock and best CPU time of each function, running them in turn `rounds`
    times (drift hits all alike)."""
    wall = [float("inf")] * len(fns)
    cpu = [float("inf")] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            wall[i] = min(wall[i], time.perf_counter() - t0)
            cpu[i] = min(cpu[i], time.process_time() - c0)
    return wall, cpu


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds")
    ap.add_argument("--rounds", type=int, default=None)
    args = ap.parse_args(argv)
    rounds = args.rounds or (3 if args.quick else 7)

    K = pdb.DifferenceOperator([0, 1])
    g = pdb.Diffusivity("perona_malik", 0.1)
    rng = np.random.default_rng(0)
    calls = [0]

    def callback(done, total, value):
        calls[0] += 1

    every = pdb.Progress(callback, interval=0)
    A = pdb.poisson_1d(2**14 - 1)
    b = np.sin(np.arange(A.n) * 0.01)
    mg = pdb.Multigrid(A)
    A2 = pdb.poisson_1d(4095)
    b2 = np.ones(A2.n)
    net = pdb.Network([pdb.DiffusionBlock([K], [g], 0.2) for _ in range(4)])
    single = np.cumsum(rng.standard_normal((1, 10_000)), axis=1) / 100
    small_rows = np.cumsum(rng.standard_normal((512, 64)), axis=1) / 10
    rows = np.cumsum(rng.standard_normal((64, 4096)), axis=1) / 64
    x = rng.standard_normal((256, 256))
    tau = 0.2
    cases = [
        ("explicit (1, 1e4), 2000 steps", lambda p: pdb.explicit(single, K, g, tau, 2000, progress=p)),
        ("explicit (512, 64), 2000 steps", lambda p: pdb.explicit(small_rows, K, g, tau, 2000, progress=p)),
        ("explicit (64, 4096), 200 steps", lambda p: pdb.explicit(rows, K, g, tau, 200, progress=p)),
        ("fsi (1, 1e4), 10 cycles of 40", lambda p: pdb.fsi(single, K, g, tau, 40, 10, progress=p)),
        ("implicit (64, 4096), 20 steps", lambda p: pdb.implicit(rows, K, g, 0.05, 20, 5, progress=p)),
        ("Multigrid.solve n=16383", lambda p: mg.solve(b, tol=1e-10, progress=p)),
        ("cg n=4095", lambda p: pdb.cg(A2, b2, tol=1e-10, progress=p)),
        ("Network.forward (256, 256), 4 blocks", lambda p: net.forward(x, progress=p)),
    ]
    print(f"{'case':<40}{'none ms':>9}{'0.1 s ms':>10}{'0 s ms':>9}   ratio wall 0.1 s / 0 s   ratio CPU 0.1 s / 0 s")
    for name, run in cases:
        run(None)  # warm up (pools, first-touch)
        (w_none, w_cb, w_every), (c_none, c_cb, c_every) = best_of_alternating(
            [lambda: run(None), lambda: run(callback), lambda: run(every)], rounds)
        print(f"{name:<40}{w_none * 1e3:>9.2f}{w_cb * 1e3:>10.2f}{w_every * 1e3:>9.2f}"
              f"{w_cb / w_none:>16.3f}{w_every / w_none:>8.3f}{c_cb / c_none:>17.3f}{c_every / c_none:>8.3f}",
              flush=True)
    print(f"(callback calls in total: {calls[0]})")


if __name__ == "__main__":
    main()

"""Reaching a stopping time T with explicit, FSI, FED and implicit schemes (one run, side by side).

Perona-Malik diffusion (lambda = 0.1) with the forward difference K on h = 1/N, of a
noisy step: a unit step at x = 1/2 plus Gaussian noise of standard deviation 0.5 lambda h,
so that finite-difference gradients of the noise (~0.7 lambda) sit where g varies
(the nonlinear regime), while the step's gradient (1/h) is an edge. T is chosen so that
the explicit scheme at its stability bound needs `--steps` (>= 10^4) steps. Each scheme
is run through `pdeblocks.evolve` with its default choices; the reference is the
explicit scheme with a tenth of the step (10x more steps).

Usage:  PYTHONPATH=python python3 bench/schemes.py [--n 100000] [--steps 10000]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import pdeblocks as pdb
from rows import Rows  # bench/rows.py (the script's directory is on sys.path)


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100_000, help="signal length N (h = 1/N)")
    ap.add_argument("--steps", type=int, default=10_000, help="explicit steps at the bound to reach T")
    ap.add_argument("--lam", type=float, default=0.1, help="Perona-Malik contrast parameter")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rows", help="write the key figures as JSON rows to this file (bench/rows.py)")
    args = ap.parse_args()
    rows = Rows()

    n, h = args.n, 1.0 / args.n
    K = pdb.DifferenceOperator([0, 1], h=h)
    g = pdb.Diffusivity("perona_malik", args.lam)
    rng = np.random.default_rng(args.seed)
    f = (np.arange(n) >= n // 2).astype(float) + 0.5 * args.lam * h * rng.standard_normal(n)
    bound = pdb.stable_tau(K, g, n)
    T = args.steps * bound

    print(f"PDEBlocks {pdb.__version__} - schemes to a stopping time")
    print(f"Perona-Malik lambda = {args.lam}, N = {n}, h = 1/N, tau bound 2/(sup g ||K||^2) = {bound:.4e}, "
          f"T = {args.steps} x bound = {T:.4e}")

    (ref, ref_info), ref_time = timed(lambda: pdb.evolve(f, K, g, T, scheme="explicit", tau=bound / 10))
    change = np.abs(ref - f).max()
    print(f"reference: explicit with tau = bound/10, {ref_info['steps']} steps, {ref_time:.1f} s; "
          f"max |u(T) - f| = {change:.3e}\n")

    runs = [
        ("explicit", {}),
        ("fsi", {}),
        ("fed", {}),
        ("implicit", {}),
        ("fsi", {"cycles": 20}),
        ("fed", {"cycles": 20}),
    ]
    header = (f"{'scheme':<10} {'options':<12} {'tau':>10} {'steps x L':>12} {'block evals':>12} "
              f"{'vs explicit':>12} {'wall s':>8} {'vs explicit':>12} {'max error':>10} {'rel. error':>10}")
    print(header)
    print("-" * len(header))
    results = {}
    for scheme, options in runs:
        (u, info), seconds = timed(lambda: pdb.evolve(f, K, g, T, scheme=scheme, **options))
        err = np.abs(u - ref).max()
        key = (scheme, tuple(sorted(options.items())))
        results[key] = (info, seconds, err)
        explicit_info, explicit_seconds, _ = results[("explicit", ())]
        if scheme in ("fsi", "fed"):
            shape = f"{info['cycles']} x {info['cycle_length']}"
        elif scheme == "implicit":
            shape = f"{info['steps']} x {info['block_evaluations'] / max(info['steps'], 1):.2f}"
        else:
            shape = f"{info['steps']} x 1"
        opts = ",".join(f"{k}={v}" for k, v in options.items()) or "default"
        ev = info["block_evaluations"]
        rows.add(f"{scheme} {opts}, N={n}", "block evaluations", ev, "count")
        rows.add(f"{scheme} {opts}, N={n}", "wall time", seconds, "s")
        rows.add(f"{scheme} {opts}, N={n}", "max error vs reference", err, "abs")
        print(f"{scheme:<10} {opts:<12} {info['tau']:>10.3e} {shape:>12} {ev:>12d} "
              f"{explicit_info['block_evaluations'] / ev:>11.1f}x {seconds:>8.2f} {explicit_seconds / seconds:>11.1f}x "
              f"{err:>10.2e} {err / change:>10.2e}")

    e_info, _, e_err = results[("explicit", ())]
    f_info, _, f_err = results[("fsi", ())]
    ratio = e_info["block_evaluations"] / f_info["block_evaluations"]
    print(f"\nFSI (default, {f_info['cycles']} cycles): {ratio:.1f}x fewer block evaluations than explicit, "
          f"error {f_err:.2e} vs explicit's {e_err:.2e} (ratio {f_err / e_err:.2f})"
          f" -> {'meets' if ratio >= 10 and f_err <= 2 * e_err else 'MISSES'} the 10x-at-comparable-error target")
    rows.add(f"FSI vs explicit, N={n}", "fewer block evaluations", ratio, "x")
    rows.add(f"FSI vs explicit, N={n}", "faster to T", results[("explicit", ())][1] / results[("fsi", ())][1], "x")
    i_info = results[("implicit", ())][0]
    print(f"implicit: steps of tau = {i_info['tau']:.3e} (contraction bound {i_info['tau_bound']:.3e} = half the "
          f"explicit bound, times 0.5), {i_info['block_evaluations']} sweeps, largest final residual "
          f"{i_info['residual']:.2e} (tol {i_info['tol']:.2e}, converged: {i_info['converged']})")
    rows.write(args.rows)


if __name__ == "__main__":
    main()

"""Benchmark: the same figures for every CPU variant of the library, in one run.

For each variant this machine runs (pdeblocks._variants: baseline, v3 = x86-64-v3, v4 =
x86-64-v4; from the source tree's .build/lib) and for a `make native` build when present
(.build/native/release), a child process measures, on one thread:
- the explicit Perona-Malik step in 1D at N = 1e4 and 1e6, ns/sample, and numpy's time for
  the same step (bench/explicit_step.py's numpy_step) measured beside it: the ratio;
- the explicit isotropic Perona-Malik step on a 1024^2 image, ns/pixel, and medpy's
  anisotropic_diffusion beside it (when medpy is installed): the ratio;
- one V(2,2) multigrid cycle on 1D Poisson, n = 2^20 - 1, ns/unknown;
- forward + backward of a 5-block network (bench/layers.py) on a (16, 4096) batch, us/sample.
Rounds alternate the variants (best of each), so a change of the machine's load hits all.
Targets (issue 18): the default (dispatched) variant within 5 % of the native build; the
explicit step >= 3x numpy at N = 1e4 and >= 4x at N = 1e6.

Run: PYTHONPATH=python python bench/variants.py [--rounds 2] [--rows FILE]
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "python" / "pdeblocks"))
import _variants  # noqa: E402  (the table only: the parent loads no library)
from rows import Rows  # noqa: E402

FIGURES = [("explicit 1D N=1e4", "ns/sample"), ("numpy / lib, N=1e4", "x"),
           ("explicit 1D N=1e6", "ns/sample"), ("numpy / lib, N=1e6", "x"),
           ("explicit 2D 1024^2 PM", "ns/pixel"), ("medpy / lib, 1024^2", "x"),
           ("V(2,2) cycle n=2^20", "ns/unknown"), ("network fwd+bwd (16, 4096)", "us/sample")]


def child() -> dict:
    """The figures of the library this process loads (PDEBLOCKS_LIBRARY / PDEBLOCKS_CPU)."""
    import numpy as np
    import pdeblocks as pdb
    sys.path.insert(0, str(HERE))
    from explicit_step import best_of, numpy_step
    from layers import network

    pdb.set_num_threads(1)
    out = {"variant": pdb.build_info()["variant"]}
    rng = np.random.default_rng(0)
    K, lam = pdb.DifferenceOperator([0, 1]), 0.1
    g = pdb.Diffusivity("perona_malik", lam)
    for n, label in ((10_000, "1e4"), (1_000_000, "1e6")):
        f = np.cumsum(rng.standard_normal(n)) / np.sqrt(n)
        tau = pdb.stable_tau(K, g, n)
        steps = max(16, 20_000_000 // n)
        lib = best_of(lambda: pdb.explicit(f, K, g, tau, steps), 3) / (steps * n)
        np_steps = max(1, steps // 8)

        def numpy_run():
            u = f
            for _ in range(np_steps):
                u = numpy_step(u, tau, lam)
        ref = best_of(numpy_run, 3) / (np_steps * n)
        out[f"explicit 1D N={label}"] = lib * 1e9
        out[f"numpy 1D N={label}"] = ref * 1e9
    img = rng.random((1024, 1024))
    G = pdb.gradient_2d()
    lib = best_of(lambda: pdb.explicit(img, G, g, 0.15, 16), 3) / (16 * img.size)
    out["explicit 2D 1024^2 PM"] = lib * 1e9
    try:
        from medpy.filter.smoothing import anisotropic_diffusion
        ref = best_of(lambda: anisotropic_diffusion(img, niter=10, kappa=0.1, gamma=0.15, option=1), 3) / (10 * img.size)
        out["medpy 2D 1024^2"] = ref * 1e9
    except ImportError:
        pass
    A = pdb.poisson_1d(2**20 - 1)
    mg = pdb.Multigrid(A)
    b, x = rng.standard_normal(A.n), np.zeros(A.n)
    mg.cycle(x, b)
    out["V(2,2) cycle n=2^20"] = best_of(lambda: mg.cycle(x, b), 5) / A.n * 1e9
    net = network("learnable", 1)
    X = rng.standard_normal((16, 4096))

    def fwd_bwd():
        net.forward(X)
        net.backward(X)
    out["network fwd+bwd (16, 4096)"] = best_of(fwd_bwd, 3) / 16 * 1e6
    return out


def libraries() -> dict[str, dict[str, str]]:
    """Name -> environment of each build to measure."""
    libdir = ROOT / ".build" / "lib"
    found = {}
    for name in _variants.runnable():
        if (libdir / _variants.library_name(name)).is_file():
            found[name] = {"PDEBLOCKS_CPU": name}
    native = ROOT / ".build" / "native" / "release" / "libpdeblocks.so"
    if native.is_file():
        found["native"] = {"PDEBLOCKS_LIBRARY": str(native)}
    return found


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--rows", help="write the key figures as JSON rows to this file (bench/rows.py)")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        print(json.dumps(child()))
        return
    builds = libraries()
    if not builds:
        sys.exit("no variant libraries in .build/lib: run `make build` first")
    best: dict[str, dict[str, float]] = {name: {} for name in builds}
    for _ in range(a.rounds):
        for name, env in builds.items():
            clean = {k: v for k, v in os.environ.items() if k not in ("PDEBLOCKS_LIBRARY", "PDEBLOCKS_CPU")}
            done = subprocess.run([sys.executable, __file__, "--child"], capture_output=True, text=True, check=True,
                                  env={**clean, **env, "PYTHONPATH": str(ROOT / "python")})
            figures = json.loads(done.stdout)
            figures.pop("variant")
            for key, value in figures.items():   # times: the best of the rounds
                best[name][key] = min(best[name].get(key, value), value)
    for figures in best.values():   # ratios of best times (numpy's, medpy's measured in the same child)
        for lib, ref, ratio in (("explicit 1D N=1e4", "numpy 1D N=1e4", "numpy / lib, N=1e4"),
                                ("explicit 1D N=1e6", "numpy 1D N=1e6", "numpy / lib, N=1e6"),
                                ("explicit 2D 1024^2 PM", "medpy 2D 1024^2", "medpy / lib, 1024^2")):
            if ref in figures:
                figures[ratio] = figures[ref] / figures[lib]
    dispatched = _variants.choose([n for n in builds if n != "native"])
    names = list(builds)
    print(f"per CPU variant, 1 thread, best of {a.rounds} alternating rounds (default = {dispatched})")
    print(f"{'figure':<30}{'unit':>11}" + "".join(f"{n + ('*' if n == dispatched else ''):>11}" for n in names))
    rows = Rows()
    for key, unit in FIGURES:
        if not any(key in best[n] for n in names):
            continue
        print(f"{key:<30}{unit:>11}" + "".join(f"{best[n].get(key, float('nan')):>11.3g}" for n in names))
        for n in names:
            if key in best[n]:
                rows.add(f"variant {n}", key, best[n][key], unit)
    if "native" in best:
        print("default / native time (target <= 1.05):")
        for key, unit in FIGURES:
            if unit != "x" and key in best["native"]:
                ratio = best[dispatched][key] / best["native"][key]
                print(f"  {key:<28}{ratio:>8.3f}")
                rows.add(f"default {dispatched} / native", key, ratio, "x")
    rows.write(a.rows)


if __name__ == "__main__":
    main()

"""The benchmark suite: every figure measured side by side in one run, printed as a
table and written as JSON (out/bench.json) so versions can be compared.

Sections
  explicit   explicit Perona-Malik step, ns/sample: library via Python and via its C
             entry point, numpy vectorised, a plain C loop (-O3, scalar libm exp); ratios
  threads    N = 1e7 single signal and a (64, 4096) batch: 1 vs 2 threads
  overhead   Python call overhead for N = 64: the C function called from C, via raw ctypes
             (15 arguments / packed struct) and via pdeblocks.explicit; Python minus C
  schemes    FSI/FED vs explicit to a stopping time (bench/schemes.py, small N)
  multigrid  multigrid and banded solves vs scipy / PyAMG (bench/multigrid.py), if present
  layers     network forward/backward throughput (bench/layers.py), if present
  torch      pdeblocks.torch.Module vs the same network in plain PyTorch, forward+backward,
             signals (bench/torch_layers.py) and images (bench/torch_images.py), if torch is installed
  images     the 2D operators, the explicit/AOS image step vs medpy/OpenCV, EED (bench/images_*.py)
  variants   explicit, 2D, multigrid and layer figures for every CPU variant and a
             `make native` build (bench/variants.py)

Usage: PYTHONPATH=python python bench/suite.py [--quick] [--sections explicit threads ...]
"""
from __future__ import annotations

import os

# Idle OpenBLAS threads spin and steal a core on a 2-core machine; the figures here use no BLAS.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import importlib.util
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import pdeblocks as pdb
from pdeblocks._lib import lib

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from explicit_step import numpy_step, best_of  # noqa: E402

ROWS: list[dict] = []


def row(section, case, measure, value, unit):
    ROWS.append({"section": section, "case": case, "measure": measure, "value": value, "unit": unit})
    print(f"  {section:<10}{case:<52} {measure:<38}{value:>11.4g} {unit}", flush=True)


def build_c(tmp: Path, name: str = "explicit_c") -> Path:
    cc = shutil.which("cc") or shutil.which("gcc")
    libdir = Path(lib._name).parent
    exe = tmp / name
    march = ["-march=haswell"] if platform.machine() == "x86_64" else []
    subprocess.run([cc, "-O3", *march, f"-I{ROOT / 'include'}", str(ROOT / f"bench/{name}.c"), f"-L{libdir}",
                    "-lpdeblocks", f"-Wl,-rpath,{libdir}", "-lm", "-o", str(exe)], check=True)
    return exe


def section_explicit(exe: Path, sizes):
    K = pdb.DifferenceOperator([0, 1])
    lam = 0.1
    g = pdb.Diffusivity("perona_malik", lam)
    for n in sizes:
        steps = max(16, 20_000_000 // n)  # >= two sweeps of the temporally blocked path
        rng = np.random.default_rng(0)
        f = np.cumsum(rng.standard_normal(n)) / np.sqrt(n)
        tau = pdb.stable_tau(K, g, n)
        pdb.set_num_threads(1)
        t_py = best_of(lambda: pdb.explicit(f, K, g, tau, steps), 3) / (steps * n)
        np_steps = max(1, steps // 4)

        def numpy_run():
            u = f
            for _ in range(np_steps):
                u = numpy_step(u, tau, lam)
        t_np = best_of(numpy_run, 3) / (np_steps * n)
        out = subprocess.run([str(exe), str(n), str(steps), "1"], capture_output=True, text=True, check=True).stdout
        _, plain_ns, lib_ns, diff = out.split()
        case = f"N={n:.0e}"
        row("explicit", case, "lib via Python", t_py * 1e9, "ns/sample")
        row("explicit", case, "lib via C", float(lib_ns), "ns/sample")
        row("explicit", case, "numpy vectorised", t_np * 1e9, "ns/sample")
        row("explicit", case, "plain C loop -O3", float(plain_ns), "ns/sample")
        row("explicit", case, "numpy / lib (Python)", t_np / t_py, "x")
        row("explicit", case, "plain C / lib (C)", float(plain_ns) / float(lib_ns), "x")
        assert float(diff) < 1e-10, f"library and plain C loop disagree by {diff}"
    pdb.set_num_threads(0)


def section_threads(exe: Path, quick: bool):
    n = 10**6 if quick else 10**7
    # 1 and 2 threads alternate over a few rounds (best of each), so a change of the machine's
    # load hits both.
    times = {1: float("inf"), 2: float("inf")}
    for _ in range(1 if quick else 3):
        for t in (1, 2):
            out = subprocess.run([str(exe), str(n), "5" if quick else "16", str(t)], capture_output=True, text=True,
                                 check=True).stdout
            times[t] = min(times[t], float(out.split()[2]))
    for t in (1, 2):
        row("threads", f"single signal N={n:.0e}", f"{t} thread(s)", times[t], "ns/sample")
    row("threads", f"single signal N={n:.0e}", "speed-up 2 vs 1", times[1] / times[2], "x")
    K = pdb.DifferenceOperator([0, 1])
    g = pdb.Diffusivity("perona_malik", 0.1)
    F = np.cumsum(np.random.default_rng(1).standard_normal((64, 4096)), axis=1) / 64
    tau = pdb.stable_tau(K, g, 4096)
    bt = {}
    for t in (1, 2):
        pdb.set_num_threads(t)
        bt[t] = best_of(lambda: pdb.explicit(F, K, g, tau, 50), 3) / (50 * F.size)
        row("threads", "batch (64, 4096)", f"{t} thread(s)", bt[t] * 1e9, "ns/sample")
    row("threads", "batch (64, 4096)", "speed-up 2 vs 1", bt[1] / bt[2], "x")
    pdb.set_num_threads(0)


def section_overhead(tmp: Path, rounds: int = 5):
    """One explicit step at N = 64, per call: the C function called from C (bench/overhead_c.c),
    the same call through ctypes with its 15 arguments and with the packed argument struct,
    and pdeblocks.explicit. Rounds alternate the four; each figure is the best over all rounds.
    "Added by Python" is what a Python caller pays on top of the native call."""
    from pdeblocks._lib import lib, ptr
    from pdeblocks.schemes import _explicit_packed, _pack_explicit_args

    n, reps = 64, 5000  # short samples: the best of many dodges bursts of load from other processes
    exe = build_c(tmp, "overhead_c")
    f = np.random.default_rng(2).standard_normal(n)
    K = pdb.DifferenceOperator([0, 1])
    g = pdb.Diffusivity("perona_malik", 0.5)
    tau = pdb.stable_tau(K, g, n)
    out = np.empty(n)
    unpacked = lib.pdb_explicit   # signature bound from the header (pdeblocks._abi)
    args = (ptr(f), 1, n, ptr(K.weights), 2, 0, g.kind, g.lam, tau, 1, 0, 0, None, 0, ptr(out))
    packed = _pack_explicit_args(ptr(f), 1, n, ptr(K.weights), 2, 0, g.kind, g.lam, tau, 1, 0, 0, 0, 0, ptr(out))

    def native():
        res = subprocess.run([str(exe), str(n), str(reps)], check=True, capture_output=True, text=True)
        return float(res.stdout.split()[1]) * 1e-6

    def per_call(fn):
        return best_of(fn, 5) / reps

    def c_call():
        for _ in range(reps):
            unpacked(*args)

    def packed_call():
        for _ in range(reps):
            _explicit_packed(packed)

    def py_call():
        for _ in range(reps):
            pdb.explicit(f, K, g, tau, 1)

    best = {"native": float("inf"), "ctypes": float("inf"), "packed": float("inf"), "python": float("inf")}
    for _ in range(rounds):
        for name, measure in (("native", native), ("ctypes", lambda: per_call(c_call)),
                              ("packed", lambda: per_call(packed_call)), ("python", lambda: per_call(py_call))):
            best[name] = min(best[name], measure())
    case = "explicit, N=64, 1 step"
    row("overhead", case, "native C (C caller)", best["native"] * 1e6, "us")
    row("overhead", case, "raw ctypes, 15 arguments", best["ctypes"] * 1e6, "us")
    row("overhead", case, "raw ctypes, packed struct", best["packed"] * 1e6, "us")
    row("overhead", case, "pdeblocks.explicit", best["python"] * 1e6, "us")
    row("overhead", case, "added by Python", (best["python"] - best["native"]) * 1e6, "us")


def run_script(section, script, args):
    """Runs bench/<script> (its printed table is shown and kept in the JSON as text) and adds
    the figures it writes with --rows (bench/rows.py) to this table."""
    path = ROOT / "bench" / script
    if not path.exists():
        print(f"  {section:<10}(skipped: {script} not present)")
        return
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        rows_file = Path(tmp) / "rows.json"
        res = subprocess.run([sys.executable, str(path), *args, "--rows", str(rows_file)], capture_output=True,
                             text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "python")})
        print("\n".join("    " + line for line in res.stdout.splitlines()))
        figures = json.loads(rows_file.read_text()) if rows_file.exists() else []
    for r in figures:
        row(section, r["case"], r["measure"], r["value"], r["unit"])
    ROWS.append({"section": section, "case": script, "measure": "output", "value": res.stdout,
                 "unit": "text", "seconds": time.perf_counter() - t0, "returncode": res.returncode})
    if res.returncode:
        print(res.stderr)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (for a smoke test)")
    ap.add_argument("--sections", nargs="+",
                    default=["explicit", "threads", "overhead", "schemes", "multigrid", "layers", "torch", "images",
                             "variants"])
    ap.add_argument("--json", default=str(ROOT / "out" / "bench.json"))
    args = ap.parse_args(argv)
    print(f"PDEBlocks {pdb.__version__} benchmark suite on {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores; numpy {np.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        exe = build_c(Path(tmp))
        if "explicit" in args.sections:
            section_explicit(exe, [1000, 10_000] if args.quick else [1000, 10_000, 10**6, 10**7])
        if "threads" in args.sections:
            section_threads(exe, args.quick)
        if "overhead" in args.sections:
            section_overhead(Path(tmp))
    if "schemes" in args.sections:
        run_script("schemes", "schemes.py", ["--n", "2000" if args.quick else "20000", "--steps", "10000"])
    if "multigrid" in args.sections:
        run_script("multigrid", "multigrid.py", ["--quick"] if args.quick else [])
    if "layers" in args.sections:
        run_script("layers", "layers.py", ["--batch", "8", "--n", "1024", "--repeat", "2"] if args.quick else [])
    if "torch" in args.sections:
        if importlib.util.find_spec("torch") is None:
            print("  torch     (skipped: torch is not installed; pip install \"pdeblocks[torch]\")")
        else:
            run_script("torch", "torch_layers.py", ["--batch", "8", "--n", "1024", "--repeat", "2"] if args.quick else [])
            run_script("torch", "torch_images.py", ["--batch", "4", "--size", "64", "--repeat", "2"] if args.quick else [])
    if "images" in args.sections:
        size = ["--size", "256"] if args.quick else []
        run_script("images", "images_operators.py", size + (["--repeat", "2"] if args.quick else []))
        run_script("images", "images_explicit.py", size + (["--steps", "8", "--repeat", "1"] if args.quick else []))
        run_script("images", "images_eed.py", size)
    if "variants" in args.sections:
        run_script("variants", "variants.py", ["--rounds", "1" if args.quick else "2"])
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"version": pdb.__version__, "machine": platform.machine(),
                                           "rows": ROWS}, indent=1))
    print(f"JSON written to {args.json}")


if __name__ == "__main__":
    main()

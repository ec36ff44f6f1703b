"""Two builds of the library timed against each other in one process: one AOS step on a
1024^2 image (pdb_aos, Perona-Malik, lambda 0.1, tau 5, 10 steps, 1 thread), the two
libraries called alternately in every round (best round each), and whether their outputs are
bitwise equal. For before/after figures of a kernel change on a shared, drifting machine.

Run: python bench/aos_two_builds.py OLD.so NEW.so [--rounds 15]
(e.g. a copy of .build/lib/libpdeblocks-v3.so made before the change, and the current one)
"""
from __future__ import annotations

import argparse
import ctypes
import time

import numpy as np


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("libraries", nargs=2)
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--size", type=int, default=1024)
    a = p.parse_args(argv)
    libs = [ctypes.CDLL(path) for path in a.libraries]
    for lib in libs:
        lib.pdb_aos.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, ctypes.c_double,
                                ctypes.c_int32, ctypes.c_double, ctypes.c_double, ctypes.c_int64, ctypes.c_void_p]
        lib.pdb_aos.restype = ctypes.c_int32
        lib.pdb_set_threads(1)
    n, steps = a.size, 10
    f = np.random.default_rng(0).random((n, n))
    outs = [np.zeros_like(f) for _ in libs]
    best = [float("inf")] * len(libs)
    for _ in range(a.rounds):
        for k, lib in enumerate(libs):
            t0 = time.perf_counter()
            status = lib.pdb_aos(f.ctypes.data, 1, n, n, 1.0, 1, 0.1, 5.0, steps, outs[k].ctypes.data)
            best[k] = min(best[k], time.perf_counter() - t0)
            if status != 0:
                raise SystemExit(f"{a.libraries[k]}: pdb_aos returned {status}")
    per = [t / (steps * f.size) * 1e9 for t in best]
    print(f"AOS step {n}^2, 1 thread: {per[0]:.2f} ns/pixel ({a.libraries[0]}), {per[1]:.2f} ns/pixel "
          f"({a.libraries[1]}); ratio {per[1] / per[0]:.3f}; outputs bitwise equal: {np.array_equal(*outs)}")


if __name__ == "__main__":
    main()

"""Benchmark: the explicit Perona-Malik step on images (issue 14, item 8), ns per pixel per step.

Prints, measured in one run:
- this library, isotropic coupling with gradient_2d, on a 1024^2 image with 1 and 2 threads,
  and on a (16, 256, 256) batch (1 thread);
- medpy.filter.smoothing.anisotropic_diffusion (option 1, float32, numpy) on the same image;
- OpenCV cv2.ximgproc.anisotropicDiffusion on a 1024^2 3-channel uint8 image with
  cv2.setNumThreads(1), per channel-pixel;
and the ratios (targets: >= 5x medpy, >= 2x OpenCV, 2 threads >= 1.7x one thread).
Run: PYTHONPATH=python python bench/images_explicit.py
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import pdeblocks as pdb
from explicit_step import best_of  # bench/ is the script's directory


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=1024)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args(argv)
    n, steps = a.size, a.steps
    rng = np.random.default_rng(0)
    img = rng.random((n, n))
    K = pdb.gradient_2d()
    g = pdb.Diffusivity("perona_malik", 0.1)
    tau = 0.15

    old = pdb.get_num_threads()
    rows = []
    try:
        for threads in (1, 2):
            pdb.set_num_threads(threads)
            pdb.explicit(img, K, g, tau, 1)
            t = best_of(lambda: pdb.explicit(img, K, g, tau, steps), a.repeat)
            rows.append((f"pdeblocks isotropic PM, {n}^2, {threads} thread(s)", t / (steps * n * n) * 1e9))
            t = best_of(lambda: pdb.explicit(img, K, g, tau, steps, check_stability=False), a.repeat)
            rows.append((f"  same, check_stability=False (no bound computed), {threads} thread(s)",
                         t / (steps * n * n) * 1e9))
        pdb.set_num_threads(1)
        batch = rng.random((16, 256, 256))
        t = best_of(lambda: pdb.explicit(batch, K, g, tau, steps), a.repeat)
        rows.append(("pdeblocks isotropic PM, (16, 256, 256), 1 thread", t / (steps * batch.size) * 1e9))
    finally:
        pdb.set_num_threads(old)
    ours1, ours2 = rows[0][1], rows[2][1]
    kernel1, kernel2 = rows[1][1], rows[3][1]

    medpy_ns = cv_ns = None
    try:
        from medpy.filter.smoothing import anisotropic_diffusion
        m_steps = max(2, steps // 4)
        t = best_of(lambda: anisotropic_diffusion(img, niter=m_steps, kappa=0.1, gamma=tau, option=1), a.repeat)
        medpy_ns = t / (m_steps * n * n) * 1e9
        rows.append((f"medpy anisotropic_diffusion (float32), {n}^2", medpy_ns))
    except ImportError:
        rows.append(("medpy: not installed", float("nan")))
    try:
        import cv2
        cv2.setNumThreads(1)
        rgb = (rng.random((n, n, 3)) * 255).astype(np.uint8)
        t = best_of(lambda: cv2.ximgproc.anisotropicDiffusion(rgb, 0.2, 10.0, steps), a.repeat)
        cv_ns = t / (steps * rgb.size) * 1e9
        rows.append((f"OpenCV ximgproc.anisotropicDiffusion, {n}^2 x 3 uint8, per channel-pixel", cv_ns))
    except (ImportError, AttributeError):
        rows.append(("OpenCV ximgproc: not available", float("nan")))

    for name, ns in rows:
        print(f"{name:<75s} {ns:8.2f} ns/pixel/step")
    print(f"2 threads / 1 thread speed-up:        {ours1 / ours2:6.2f}x (target >= 1.7); "
          f"kernel only {kernel1 / kernel2:.2f}x")
    if medpy_ns:
        print(f"medpy / pdeblocks (1 thread):          {medpy_ns / ours1:6.2f}x (target >= 5); "
              f"kernel only {medpy_ns / kernel1:.2f}x")
    if cv_ns:
        print(f"OpenCV / pdeblocks (1 thread):         {cv_ns / ours1:6.2f}x (target >= 2); "
              f"kernel only {cv_ns / kernel1:.2f}x")
    print(f"batch (16, 256, 256) / 1024^2 per pixel: {rows[4][1] / ours1:6.2f} (target <= 1)")


if __name__ == "__main__":
    main()

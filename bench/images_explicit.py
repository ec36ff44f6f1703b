"""Benchmark: the explicit Perona-Malik step on images (issue 14, item 8), ns per pixel per step.

Prints, measured in one run:
- this library, isotropic coupling with gradient_2d, on a 1024^2 image with 1 and 2 threads,
  and on a (16, 256, 256) batch (1 thread);
- one AOS step (semi-implicit, solver="aos") on the same image, 1 thread;
- medpy.filter.smoothing.anisotropic_diffusion (option 1, float32, numpy) on the same image;
- OpenCV cv2.ximgproc.anisotropicDiffusion on a 1024^2 3-channel uint8 image with
  cv2.setNumThreads(1), per channel-pixel;
the isotropic step for every diffusivity kind (1 thread); and the ratios (targets: >= 5x medpy, >= 2x OpenCV, 2 threads >= 1.7x one thread, batch per
pixel <= one image, AOS step <= 4x an explicit step). Each figure is the whole call's time
divided by steps x pixels (argument checks, the certified bound and copies included); the
comparisons run interleaved (each round runs every case once; best round each), so that a
shared machine's drift does not fall on one side of a ratio.
Run: PYTHONPATH=python python bench/images_explicit.py [--size 1024] [--steps 40] [--rows FILE]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import pdeblocks as pdb
from explicit_step import best_of  # bench/ is the script's directory
from rows import Rows


def interleaved_best(calls: dict, repeat: int) -> dict:
    """Seconds of each call's fastest run over ``repeat`` rounds that run every call once."""
    best = dict.fromkeys(calls, float("inf"))
    for _ in range(repeat):
        for k, call in calls.items():
            t0 = time.perf_counter()
            call()
            best[k] = min(best[k], time.perf_counter() - t0)
    return best


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=1024)
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--rows", help="write the key figures as JSON rows to this file (bench/rows.py)")
    a = p.parse_args(argv)
    n, steps = a.size, a.steps
    out = Rows()
    rng = np.random.default_rng(0)
    img = rng.random((n, n))
    K = pdb.gradient_2d()
    g = pdb.Diffusivity("perona_malik", 0.1)
    tau = 0.15
    per = lambda t, pixels, k=steps: t / (k * pixels) * 1e9  # noqa: E731

    old = pdb.get_num_threads()

    def threads(t, fn):
        def run():
            pdb.set_num_threads(t)
            fn()
        return run

    batch = rng.random((16, n // 4, n // 4))
    aos_steps = m_steps = max(2, steps // 4)
    # name: (call, pixels, steps); every round runs each case once and each figure is its best
    # round, so that the ratios compare runs made under the same load (a shared machine drifts)
    cases = {
        "ours1": (threads(1, lambda: pdb.explicit(img, K, g, tau, steps)), img.size, steps),
        "ours2": (threads(2, lambda: pdb.explicit(img, K, g, tau, steps)), img.size, steps),
        "batch": (threads(1, lambda: pdb.explicit(batch, K, g, tau, steps)), batch.size, steps),
        "aos": (threads(1, lambda: pdb.semi_implicit(img, K, g, 5.0, aos_steps, solver="aos")), img.size, aos_steps),
    }
    lines = [(f"pdeblocks explicit isotropic PM, {n}^2, 1 thread", "ours1"),
             (f"pdeblocks explicit isotropic PM, {n}^2, 2 threads", "ours2"),
             (f"pdeblocks explicit isotropic PM, (16, {n // 4}, {n // 4}), 1 thread", "batch"),
             (f"pdeblocks AOS step (tau = 5), {n}^2, 1 thread", "aos")]
    try:
        from medpy.filter.smoothing import anisotropic_diffusion
        cases["medpy"] = (lambda: anisotropic_diffusion(img, niter=m_steps, kappa=0.1, gamma=tau, option=1),
                          img.size, m_steps)
        lines.append((f"medpy anisotropic_diffusion (float32), {n}^2", "medpy"))
    except ImportError:
        lines.append(("medpy: not installed", None))
    try:
        import cv2
        cv2.setNumThreads(1)
        rgb = (rng.random((n, n, 3)) * 255).astype(np.uint8)
        cv2.ximgproc.anisotropicDiffusion  # noqa: B018 (AttributeError without the contrib modules)
        cases["opencv"] = (lambda: cv2.ximgproc.anisotropicDiffusion(rgb, 0.2, 10.0, steps), rgb.size, steps)
        lines.append((f"OpenCV ximgproc.anisotropicDiffusion, {n}^2 x 3 uint8, per channel-pixel", "opencv"))
    except (ImportError, AttributeError):
        lines.append(("OpenCV ximgproc: not available", None))
    try:
        for call, _, _ in cases.values():   # warm-up (first calls map memory and load code)
            call()
        ns = {k: per(t, cases[k][1], cases[k][2]) for k, t in interleaved_best(
            {k: c[0] for k, c in cases.items()}, a.repeat).items()}
    finally:
        pdb.set_num_threads(old)
    lines = [(name, ns[key] if key else float("nan")) for name, key in lines]

    # every diffusivity kind through the same isotropic step (each kind's g of the squared
    # gradient in SIMD registers: exp, division, vector square root)
    pdb.set_num_threads(1)
    try:
        k_steps = max(2, steps // 4)
        from pdeblocks.diffusivities import DIFFUSIVITIES
        for kind in DIFFUSIVITIES:
            gk = pdb.Diffusivity(kind, 0.1)
            t = pdb.stable_tau(K, gk, img.shape)
            ns[f"kind_{kind}"] = per(best_of(lambda: pdb.explicit(img, K, gk, t, k_steps), a.repeat), img.size, k_steps)
            lines.append((f"  by diffusivity: {kind}, {n}^2, 1 thread", ns[f"kind_{kind}"]))
    finally:
        pdb.set_num_threads(old)
    for name, v in lines:
        print(f"{name:<75s} {v:8.2f} ns/pixel/step")
    ratios = [("2 threads / 1 thread speed-up", ns["ours1"] / ns["ours2"], ">= 1.7"),
              ("batch / one image, per pixel", ns["batch"] / ns["ours1"], "<= 1"),
              ("AOS step / explicit step, per pixel", ns["aos"] / ns["ours1"], "<= 4")]
    if "medpy" in ns:
        ratios.append(("medpy / pdeblocks (1 thread)", ns["medpy"] / ns["ours1"], ">= 5"))
    if "opencv" in ns:
        ratios.append(("OpenCV / pdeblocks (1 thread), per channel-pixel", ns["opencv"] / ns["ours1"], ">= 2"))
    for name, v, target in ratios:
        print(f"{name + ':':<52s} {v:6.2f}x (target {target})")
        out.add(f"explicit PM {n}^2", name, v, "ratio")
    for key, v in ns.items():
        out.add(f"explicit PM {n}^2", key, v, "ns/pixel/step")
    out.write(a.rows)


if __name__ == "__main__":
    main()

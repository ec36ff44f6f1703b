"""Denoise one image six ways and show them side by side (issue 16).

noisy / TV (``skimage.restoration.denoise_tv_chambolle``) / Perona-Malik / EED / the shipped
certified learned denoiser (``pdeblocks.denoise.learned``) / BM3D, one figure with the PSNR
and the run time in each title. The TV weight, the PM contrast and stopping time and the EED
parameters are tuned on the clean image (oracle tuning, as ``denoise_benchmark.py`` does),
which favours them; the learned model and BM3D are not tuned.

Usage:  python examples/denoise_image.py [--image camera] [--sigma 25] [--crop 256]
                                         [--out denoise_image.png]
The image is one of scikit-image's bundled test images (camera, coins, moon: never used in
training); noise is seeded per (image, sigma) as in the benchmark.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))   # denoise_benchmark beside this file
import denoise_benchmark as B  # noqa: E402

import pdeblocks as pb  # noqa: E402
from pdeblocks import datasets as D  # noqa: E402
from pdeblocks.metrics import psnr  # noqa: E402


def denoise_all(clean: np.ndarray, sigma255: float) -> list[tuple[str, np.ndarray, float, str]]:
    """``[(method, image, seconds, setting), ...]`` for noisy, TV, PM, EED, learned, BM3D."""
    sigma = D.sigma_from_255(sigma255)
    grid, extend = B.GRIDS[False], B.EXTEND[False]
    noisy = B.noisy_image("example", clean, sigma255)
    out = [("noisy", noisy, 0.0, "")]
    out.append(("TV",) + B.best_tv(noisy, clean, sigma, grid["tv"], extend))
    out.append(("Perona-Malik",) + B.best_pm(noisy, clean, sigma, grid["pm_lam"], extend))
    out.append(("EED",) + B.best_eed(noisy, clean, sigma, grid["eed_lam"], grid["eed_rho"], extend))
    out.append(("learned (certified)",) + B.timed(pb.denoise.learned, noisy, sigma255) + ("",))
    out.append(("BM3D",) + B.timed(B.bm3d_denoise, noisy, sigma) + ("",))
    return out


def figure(clean, results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(2, 3, figsize=(12, 8.4))
    for ax, (method, image, seconds, _) in zip(axes.flat, results):
        ax.imshow(np.clip(image, 0, 1), cmap="gray", vmin=0, vmax=1)
        timing = f", {seconds * 1e3:.0f} ms" if seconds else ""
        ax.set_title(f"{method}\n{psnr(clean, image):.2f} dB{timing}", fontsize=10)
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--image", default="camera", choices=D.TEST_NAMES)
    ap.add_argument("--sigma", type=float, default=25, help="noise level, 0-255 scale")
    ap.add_argument("--crop", type=int, default=256, help="central crop side (0: whole image)")
    ap.add_argument("--out", default="denoise_image.png")
    a = ap.parse_args(argv)
    clean = D.load_image(a.image)
    if a.crop:
        clean = B.center_crop(clean, a.crop)
    results = denoise_all(clean, a.sigma)
    for method, image, seconds, setting in results:
        print(f"{method:20s} {psnr(clean, image):6.2f} dB  {seconds:7.3f} s  {setting}")
    figure(clean, results, a.out)
    print(f"figure: {a.out}")
    return results


if __name__ == "__main__":
    main()

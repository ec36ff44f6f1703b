"""Denoising benchmark on the held-out test images of issue 16 (camera, coins, moon).

For each noise level sigma (0-255 scale; sigma = 25 means 25/255 on the [0, 1] images) and
each test image, Gaussian noise is drawn with a seed fixed per (image, sigma), and these
denoisers are compared by PSNR and SSIM (data range 1) and the time of one run:

* noisy       -- the noisy image itself;
* TV          -- ``skimage.restoration.denoise_tv_chambolle``, weight picked from a small
                 grid of multiples of sigma (extended while the best lies at an end);
* PM          -- Perona-Malik diffusion (``pdeblocks.denoise.perona_malik``, FED), the
                 contrast ``lam`` from a small grid of multiples of sigma and the stopping
                 time from a geometric grid (factor sqrt 2, 0.125 .. 128);
* EED         -- edge-enhancing diffusion (``pdeblocks.denoise.eed``, FED), ``lam``, the
                 presmoothing scale and the stopping time from small grids alike;
* BM3D        -- ``bm3d.bm3d(noisy, sigma_psd=sigma)`` (pip package bm3d), no tuning;
* learned     -- the shipped certified denoiser for that sigma (``pdeblocks.models``, the
                 nearest noise level as ``pdeblocks.denoise.learned`` picks it), or one
                 trained model file for every sigma (``--model PATH``); ``--no-learned``
                 skips the row.

The baselines' parameters are tuned per image ON THE CLEAN TEST IMAGE (oracle tuning), which
favours them. The diffusion time search continues the evolution from the previous grid time
and stops when the PSNR has fallen twice in a row; the reported PM/EED rows are then one
fresh run to the chosen time (whose PSNR may differ from the search's by ~0.01 dB).
The time column is the wall time of that one run with the chosen parameters (tuning not
counted). With a learned model, its speed is also compared with BM3D's on one 512^2 image
(the first sigma's model).

Usage:  python examples/denoise_benchmark.py [--sigmas 15 25 50] [--images camera coins moon]
                                             [--quick] [--model PATH | --no-learned]
``--quick`` uses central 128^2 crops and tiny grids (for tests).
"""
from __future__ import annotations

import argparse
import math
import time
import zlib

import numpy as np

import pdeblocks as pb
from pdeblocks import datasets as D
from pdeblocks.metrics import psnr, ssim

SIGMAS = (15, 25, 50)
QUICK_SIZE = 128

#: Initial search grids: multiples of sigma (on the [0, 1] scale) for the TV weight and the
#: contrast lam, presmoothing scales in pixels for EED. A grid of multiples is extended
#: geometrically beyond an end while the best value lies at that end (``EXTEND`` times).
GRIDS = {
    False: dict(tv=(0.5, 0.71, 1.0, 1.41, 2.0), pm_lam=(0.75, 1.0, 1.5, 2.0, 3.0),
                eed_lam=(0.1, 0.2, 0.4, 0.8), eed_rho=(1.0, 1.5, 2.0)),
    True: dict(tv=(0.5, 1.0, 2.0), pm_lam=(1.5, 3.0), eed_lam=(0.2, 0.6), eed_rho=(1.0,)),
}
EXTEND = {False: 6, True: 1}
TIMES = 0.125 * np.sqrt(2) ** np.arange(21)  # 0.125 .. 128


def noisy_image(name: str, clean: np.ndarray, sigma255: float) -> np.ndarray:
    """The benchmark's noisy version of a test image (seed fixed by image name and sigma)."""
    seed = zlib.crc32(f"{name}:{sigma255:g}".encode())
    return D.noisy_pairs(clean, D.sigma_from_255(sigma255), seed)[0]


def center_crop(image: np.ndarray, size: int) -> np.ndarray:
    i, j = (image.shape[0] - size) // 2, (image.shape[1] - size) // 2
    return image[i:i + size, j:j + size]


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def grid_search(score, values, extend: int):
    """``(best value, its score)`` of ``score(v) -> (psnr, ...)`` (compared by psnr) over the
    geometric grid ``values``, extended by the grid's ratio beyond an end while the best
    value lies at that end, at most ``extend`` times."""
    vals = sorted(values)
    ratio = vals[-1] / vals[-2] if len(vals) > 1 else 2.0
    scores = {v: score(v) for v in vals}
    for _ in range(extend):
        best = max(vals, key=lambda v: scores[v][0])
        if best == vals[0]:
            vals.insert(0, vals[0] / ratio)
            scores[vals[0]] = score(vals[0])
        elif best == vals[-1]:
            vals.append(vals[-1] * ratio)
            scores[vals[-1]] = score(vals[-1])
        else:
            break
    best = max(vals, key=lambda v: scores[v][0])
    return best, scores[best]


def best_tv(noisy, clean, sigma, factors, extend):
    from skimage.restoration import denoise_tv_chambolle
    k, _ = grid_search(lambda k: (psnr(clean, denoise_tv_chambolle(noisy, weight=k * sigma)),), factors, extend)
    out, secs = timed(denoise_tv_chambolle, noisy, weight=k * sigma)
    return out, secs, f"weight={k * sigma:.4f}"


def best_time(step, noisy, clean):
    """(PSNR, t) of the best grid time of an evolution ``step(u, dt)``, continued from the
    previous time and stopped when the PSNR has fallen twice in a row."""
    u, prev, best, falls, last = noisy, 0.0, (-math.inf, 0.0), 0, -math.inf
    for t in TIMES:
        u = step(u, t - prev)
        prev = t
        q = psnr(clean, u)
        best = max(best, (q, t))
        falls = falls + 1 if q < last else 0
        last = q
        if falls == 2:
            break
    return best


def best_pm(noisy, clean, sigma, lams, extend):
    k, (_, t) = grid_search(lambda k: best_time(lambda u, dt: pb.denoise.perona_malik(u, k * sigma, dt),
                                                noisy, clean), lams, extend)
    out, secs = timed(pb.denoise.perona_malik, noisy, k * sigma, t)
    return out, secs, f"lam={k * sigma:.4f} t={t:.3g}"


def best_eed(noisy, clean, sigma, lams, rhos, extend):
    found = []
    for rho in rhos:
        k, (q, t) = grid_search(lambda k: best_time(lambda u, dt: pb.denoise.eed(u, k * sigma, rho, dt),
                                                    noisy, clean), lams, extend)
        found.append((q, k * sigma, rho, t))
    _, lam, rho, t = max(found)
    out, secs = timed(pb.denoise.eed, noisy, lam, rho, t)
    return out, secs, f"lam={lam:.4f} sigma={rho:g} t={t:.3g}"


def bm3d_denoise(noisy, sigma):
    import bm3d
    return bm3d.bm3d(noisy, sigma_psd=sigma)


def run(images: dict, sigmas, *, quick: bool = False, model=None, report=print) -> list[dict]:
    """Rows ``{sigma, image, method, psnr, ssim, seconds, setting}`` of the benchmark on
    ``images`` (name -> clean [0, 1] image) at ``sigmas`` (0-255 scale). ``model`` is an
    object with ``predict(noisy)``, a mapping sigma -> such object, or None. ``report(row_text)`` prints each row as done."""
    grid, extend = GRIDS[bool(quick)], EXTEND[bool(quick)]
    rows = []
    for sigma255 in sigmas:
        sigma = D.sigma_from_255(sigma255)
        for name, clean in images.items():
            noisy = noisy_image(name, clean, sigma255)
            methods = [
                ("noisy", lambda: (noisy, 0.0, "")),
                ("TV", lambda: best_tv(noisy, clean, sigma, grid["tv"], extend)),
                ("PM", lambda: best_pm(noisy, clean, sigma, grid["pm_lam"], extend)),
                ("EED", lambda: best_eed(noisy, clean, sigma, grid["eed_lam"], grid["eed_rho"], extend)),
                ("BM3D", lambda: timed(bm3d_denoise, noisy, sigma) + ("",)),
            ]
            net = model.get(sigma255) if isinstance(model, dict) else model
            if net is not None:
                methods.append(("learned", lambda: timed(net.predict, noisy) + (getattr(net, "label", ""),)))
            for method, fn in methods:
                out, secs, setting = fn()
                out = np.asarray(out, dtype=np.float64).reshape(clean.shape)
                row = dict(sigma=sigma255, image=name, method=method, psnr=psnr(clean, out),
                           ssim=ssim(clean, out), seconds=secs, setting=setting)
                rows.append(row)
                report(format_row(row))
    return rows


HEADER = f"{'sigma':>5}  {'image':<7} {'method':<8} {'PSNR':>6} {'SSIM':>6} {'time[s]':>8}  setting"


def format_row(r: dict) -> str:
    return (f"{r['sigma']:>5g}  {r['image']:<7} {r['method']:<8} {r['psnr']:6.2f} {r['ssim']:6.3f} "
            f"{r['seconds']:8.4f}  {r['setting']}")


def summary(rows: list[dict]) -> str:
    """Mean PSNR / SSIM over the images, per sigma and method."""
    lines = [f"{'sigma':>5}  {'method':<8} {'PSNR':>6} {'SSIM':>6}   (mean over images)"]
    seen = []
    for r in rows:
        if (r["sigma"], r["method"]) not in seen:
            seen.append((r["sigma"], r["method"]))
    for sigma, method in seen:
        sel = [r for r in rows if r["sigma"] == sigma and r["method"] == method]
        lines.append(f"{sigma:>5g}  {method:<8} {np.mean([r['psnr'] for r in sel]):6.2f} "
                     f"{np.mean([r['ssim'] for r in sel]):6.3f}")
    return "\n".join(lines)


def speed_ratio(model, size: int, sigma255: float) -> tuple[float, float]:
    """(BM3D seconds, model seconds) on one ``size x size`` noisy crop of camera."""
    clean = D.load_image("camera")[:size, :size]
    noisy = noisy_image("camera", clean, sigma255)
    _, t_bm3d = timed(bm3d_denoise, noisy, D.sigma_from_255(sigma255))
    model.predict(noisy)  # warm-up
    _, t_model = timed(model.predict, noisy)
    return t_bm3d, t_model


def shipped_models(sigmas) -> dict:
    """sigma -> the shipped denoiser nearest to it (``pdeblocks.models``), labelled."""
    from pdeblocks import models
    levels = models.available()
    out = {}
    for sigma in sigmas:
        if levels:
            level = min(levels, key=lambda s: (abs(math.log(s / sigma)), s))
            net = models.denoiser(level)
            net.label = f"shipped sigma={level}"
            out[sigma] = net
    return out


def default_loader():
    """``pdeblocks.ImageNetwork.load`` when this pdeblocks has it, else None."""
    cls = getattr(pb, "ImageNetwork", None)
    return None if cls is None else cls.load


def main(argv=None, load_model=None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sigmas", type=float, nargs="+", default=list(SIGMAS), help="noise levels, 0-255 scale")
    ap.add_argument("--images", nargs="+", default=list(D.TEST_NAMES), choices=D.TEST_NAMES)
    ap.add_argument("--quick", action="store_true", help=f"central {QUICK_SIZE}^2 crops and tiny grids")
    ap.add_argument("--model", help="a trained model file for the 'learned' row (default: the shipped models)")
    ap.add_argument("--no-learned", action="store_true", help="no 'learned' row")
    args = ap.parse_args(argv)

    images = {name: D.load_image(name) for name in args.images}
    if args.quick:
        images = {k: center_crop(v, QUICK_SIZE) for k, v in images.items()}
    model = None
    if args.model:
        load_model = load_model or default_loader()
        if load_model is None:
            print(f"learned row skipped: this pdeblocks has no ImageNetwork to load {args.model}")
        else:
            model = load_model(args.model)
    elif not args.no_learned:
        model = shipped_models(args.sigmas) or None
    print(f"pdeblocks {pb.__version__}; images {', '.join(images)} "
          f"({'quick: 128^2 crops, tiny grids' if args.quick else 'full size'}); parameters tuned on the clean image")
    print(HEADER)
    rows = run(images, args.sigmas, quick=args.quick, model=model)
    print()
    print(summary(rows))
    if model is not None:
        size = QUICK_SIZE if args.quick else 512
        first = model.get(args.sigmas[0]) if isinstance(model, dict) else model
        t_bm3d, t_model = speed_ratio(first, size, args.sigmas[0])
        print(f"\nspeed at {size}^2: BM3D {t_bm3d:.3f} s, learned {t_model:.4f} s, "
              f"learned is {t_bm3d / t_model:.1f}x faster")
    return rows


if __name__ == "__main__":
    main()

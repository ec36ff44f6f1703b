"""Symmetric versus free residual blocks (Alt et al., JMIV 2023): at equal depth, train

(a) diffusion blocks ``u - tau K^T Phi(K u)`` (the symmetric form ``W2 = -tau W1^T``, learned
    flux, tau projected into Theorem 2's bound after every step: certified);
(b) free residual blocks ``u - W2^T tanh(W1 u + b)`` with about the same parameter count
    (fewer channels);
(c) free residual blocks of the same width (same channel count: about twice the weights),

on the 1D task of ``examples/learned_denoiser.py`` (piecewise-constant signals, noise 0.1) and
on images (the issue's training images, sigma = 25, tested on camera, coins, moon), and print
a table of test PSNR, parameter counts and the largest ``||u^{k+1}|| / ||u^k||`` of any block
on the test data (a diffusion block cannot exceed 1; a free block can).

The diffusion blocks here have no reaction term, so that every network maps ``u`` alone and
the norm ratios compare like with like. All three variants of a task use the same depth,
filter size, optimiser, learning rate, steps, data and seed.

Usage:  python examples/symmetric_vs_free.py [--quick] [--seed S]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

import pdeblocks as pb
from pdeblocks import DiffusionBlock2D, ImageNetwork, ResidualBlock2D, Stencil2D
from pdeblocks.any_size_bound import lambda_max_any_size
from pdeblocks.datasets import noisy_pairs, test_images, training_images
from pdeblocks.metrics import psnr as image_psnr
from pdeblocks.train import fit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from learned_denoiser import N, make_signals, psnr as signal_psnr, train as train_signals  # noqa: E402


def free_width(target: int, per_channel: int, extra: int = 0) -> int:
    """The channel count whose free block has the parameter count nearest ``target``."""
    return max(1, min(range(1, 64), key=lambda c: (abs(c * per_channel + extra - target), c)))


def largest_norm_ratio(blocks, params, make, inputs) -> float:
    """``max ||u^{k+1}|| / ||u^k||`` over the blocks and the inputs, each block run alone."""
    worst, u = 0.0, inputs
    offset = 0
    for b in blocks:
        net = make([b])
        count = net.parameter_count
        net.set_parameters(params[offset:offset + count])
        offset += count
        v = net.predict(u)
        axes = tuple(range(1, u.ndim))
        ratio = np.sqrt(np.sum(v * v, axis=axes) / np.sum(u * u, axis=axes))
        worst, u = max(worst, float(ratio.max())), v
    return worst


# --- 1D: piecewise-constant signals ------------------------------------------------------------

def signal_blocks(kind: str, depth: int, channels: int, taps: int, terms: int, rng):
    """``depth`` 1D blocks: diffusion (learned mixture fluxes) or free tanh residual blocks."""
    blocks = []
    for _ in range(depth):
        if kind == "diffusion":
            filters = [pb.Stencil(np.eye(taps)[c % taps] - np.eye(taps)[(c + 1) % taps], -(taps // 2))
                       for c in range(channels)]
            gs = [pb.LearnableDiffusivity(np.full(terms, 0.9 / terms), np.geomspace(0.03, 0.3, terms))
                  for _ in range(channels)]
            blocks.append(pb.DiffusionBlock(filters, gs, 0.1))
        else:
            w1 = [pb.Stencil(rng.standard_normal(taps) / taps, -(taps // 2)) for _ in range(channels)]
            w2 = [pb.TransposedStencil(pb.Stencil(-0.1 * rng.standard_normal(taps) / taps, -(taps // 2)))
                  for _ in range(channels)]
            blocks.append(pb.ResidualBlock(w1, w2, np.zeros(channels), 0.0, "tanh", "identity"))
    return blocks


def signal_rows(cfg, seed: int):
    rng = np.random.default_rng(seed)
    train_clean, train_noisy = make_signals(rng, cfg["train"])
    test_clean, test_noisy = make_signals(rng, cfg["test"])
    C, k, J, D = cfg["channels"], cfg["taps"], cfg["terms"], cfg["depth"]
    diffusion_count = D * (C * k + 2 * J * C + 1)
    narrow = free_width(diffusion_count // D, 2 * k + 1, 1)
    rows = []
    for label, kind, channels in [("(a) diffusion (symmetric)", "diffusion", C),
                                  ("(b) free, same parameter count", "free", narrow),
                                  ("(c) free, same width", "free", C)]:
        blocks = signal_blocks(kind, D, channels, k, J, np.random.default_rng(seed + 1))
        net = pb.Network(blocks)
        t0 = time.perf_counter()
        train_signals(net, train_noisy, train_clean, cfg["iterations"], cfg["batch"], cfg["lr"],
                      np.random.default_rng(seed + 2), certified=kind == "diffusion")
        seconds = time.perf_counter() - t0
        ratio = largest_norm_ratio(blocks, net.parameters, pb.Network, test_noisy)
        rows.append(dict(task="1D signals", network=label, channels=channels, parameters=net.parameter_count,
                         psnr=signal_psnr(net.predict(test_noisy), test_clean), ratio=ratio,
                         certified=bool(net.certificate(N).certified), seconds=seconds))
    return rows


# --- 2D: images ---------------------------------------------------------------------------------

def image_blocks(kind: str, depth: int, channels: int, size: int, terms: int, rng):
    """``depth`` 2D blocks of ``channels`` random ``size x size`` filters (unit l1 norm)."""
    r = size // 2

    def bank(scale=1.0):
        return [Stencil2D(scale * w / np.abs(w).sum(), offset=(-r, -r)) for w in rng.standard_normal((channels, size, size))]

    blocks = []
    for _ in range(depth):
        if kind == "diffusion":
            gs = [pb.LearnableDiffusivity(np.full(terms, 0.9 / terms), np.geomspace(0.02, 0.5, terms))
                  for _ in range(channels)]
            blocks.append(DiffusionBlock2D(bank(), gs, 0.05, coupling="channelwise"))
        else:
            blocks.append(ResidualBlock2D(bank(), bank(0.1), np.zeros(channels), activation="tanh"))
    return blocks


def tau_projector(blocks, channels: int, size: int):
    """Each diffusion block's tau onto ``[0, 0.99 * 2 / Lambda]``, ``Lambda`` the bound of
    lambda_max(sum_c K_c^T K_c) on every image size >= 8x8 (sup g < 1 for the mixtures)."""
    per = blocks[0].parameter_count
    r = size // 2

    def project(p):
        p = p.copy()
        for s in range(len(blocks)):
            w = p[s * per:s * per + channels * size * size].reshape(channels, size, size)
            lam = lambda_max_any_size([Stencil2D(k, offset=(-r, -r)) for k in w], (8, 8))
            t = s * per + per - 1
            p[t] = min(max(p[t], 0.0), 0.99 * 2 / lam)
        return p
    return project


def image_rows(cfg, seed: int):
    sigma = 25 / 255
    tests = sorted(test_images().items())
    noisy = [noisy_pairs(clean, sigma, np.random.default_rng(seed + i))[0] for i, (_, clean) in enumerate(tests)]
    C, k, J, D = cfg["channels"], cfg["size"], cfg["terms"], cfg["depth"]
    diffusion_per_block = C * k * k + 2 * J * C + 1
    narrow = free_width(diffusion_per_block, 2 * k * k + 1)
    rows = []
    for label, kind, channels in [("(a) diffusion (symmetric)", "diffusion", C),
                                  ("(b) free, same parameter count", "free", narrow),
                                  ("(c) free, same width", "free", C)]:
        blocks = image_blocks(kind, D, channels, k, J, np.random.default_rng(seed + 1))
        net = ImageNetwork(blocks)
        project = tau_projector(blocks, channels, k) if kind == "diffusion" else None
        if project is not None:
            net.set_parameters(project(net.parameters))
        t0 = time.perf_counter()
        fit(net, training_images(), sigma=sigma, crop=cfg["crop"], batch=cfg["batch"], steps=cfg["steps"],
            lr=cfg["lr"], seed=seed, project=project)
        seconds = time.perf_counter() - t0
        scores = [image_psnr(clean, net.predict(u)) for (_, clean), u in zip(tests, noisy)]
        ratio = max(largest_norm_ratio(blocks, net.parameters, ImageNetwork, u[None]) for u in noisy)
        certified = all(bool(net.certificate(s)) for s in [(8, 8), (64, 64), (512, 512)])
        rows.append(dict(task="images, sigma 25", network=label, channels=channels, parameters=net.parameter_count,
                         psnr=float(np.mean(scores)), ratio=ratio, certified=certified, seconds=seconds))
    return rows


CONFIGS = {
    "full": (dict(train=512, test=256, depth=6, channels=4, taps=5, terms=2, iterations=2000, batch=32, lr=0.01),
             dict(depth=6, channels=8, size=3, terms=2, steps=2000, crop=48, batch=8, lr=5e-3)),
    "quick": (dict(train=64, test=32, depth=2, channels=2, taps=5, terms=2, iterations=20, batch=16, lr=0.01),
              dict(depth=2, channels=2, size=3, terms=2, steps=5, crop=24, batch=2, lr=5e-3)),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tiny configuration (for the tests)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    signals, images = CONFIGS["quick" if args.quick else "full"]
    rows = signal_rows(signals, args.seed) + image_rows(images, args.seed)
    print(f"depth {signals['depth']} (1D, {signals['taps']}-tap filters) and {images['depth']} "
          f"(images, {images['size']}x{images['size']} filters); test PSNR in dB")
    print(f"| task | network | channels | parameters | test PSNR | max ‖u^(k+1)‖/‖u^k‖ | certified | train s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['task']} | {r['network']} | {r['channels']} | {r['parameters']} | {r['psnr']:.2f} | "
              f"{r['ratio']:.4f} | {'yes' if r['certified'] else 'no'} | {r['seconds']:.0f} |")
    return rows


if __name__ == "__main__":
    main()

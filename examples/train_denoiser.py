"""Train a certified image denoiser: a chain of 2D diffusion-reaction blocks (issue 16).

Each stage is ``u <- u - tau (sum_c K_c^T Phi_c(K_c u) + mu (u - f))`` with C learned,
zero-mean k x k filters, a learned Gaussian-mixture diffusivity per filter (channelwise
coupling; g in (0, 1), so the fluxes may be nonmonotone while sup g < 1) and a learned
reaction weight mu. After every Adam step each stage's tau is projected onto
``[0, 0.99 * 2 / (sup g * Lambda + mu)]`` with ``Lambda`` the bank's Gershgorin bound of
lambda_max(sum_c K_c^T K_c) over every image size >= 8x8 with mirrored boundaries
(``pdeblocks.any_size_bound.lambda_max_any_size``; 2-6x tighter than ``2 sum_c ||w_c||_1^2``
for 3x3 filters): so every stage satisfies Theorem 2 on any image, which ``certificate`` then confirms.

Training data: the issue's training images only (``pdeblocks.datasets.training_images``);
the reported PSNR is on camera, coins and moon (noise seeded).

Run: PYTHONPATH=python python examples/train_denoiser.py --sigma 25 --out model.pdbnet
(defaults = the shipped models' configuration: 24 stages of 8 zero-mean 5x5 filters, 10000 steps;
mean test PSNR 31.55 dB at sigma 25 in 18 min on 2 cores, one run at a time (1500 steps gave 31.35 dB);
``--stages 32 --filters 4 --size 3 --steps 2000`` takes about 2 minutes and gave 31.01 dB)
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

import pdeblocks as pdb
from pdeblocks import DiffusionBlock2D, ImageNetwork, Stencil2D
from pdeblocks.any_size_bound import lambda_max_any_size
from pdeblocks.blocks import LearnableDiffusivity
from pdeblocks.datasets import noisy_pairs, test_images, training_images
from pdeblocks.metrics import psnr
from pdeblocks.train import fit


def make_network(stages: int, filters: int, size: int, terms: int, seed: int) -> ImageNetwork:
    """``stages`` blocks of ``filters`` random zero-mean ``size x size`` filters (DCT-like start:
    unit l1 norm), mixture diffusivities of ``terms`` Gaussians, mu 0.02 (tau: see main)."""
    rng = np.random.default_rng(seed)
    blocks = []
    r = size // 2
    for _ in range(stages):
        raw = [w - w.mean() for w in rng.standard_normal((filters, size, size))]
        bank = [Stencil2D(w / np.abs(w).sum(), offset=(-r, -r)) for w in raw]   # ||w||_1 = 1
        gs = [LearnableDiffusivity(np.full(terms, 0.9 / terms), np.geomspace(0.02, 0.5, terms)) for _ in range(filters)]
        blocks.append(DiffusionBlock2D(bank, gs, 0.05, 0.02, coupling="channelwise", zero_mean=True))
    return ImageNetwork(blocks)


def stage_slices(net: ImageNetwork, filters: int, size: int, terms: int):
    """(weights slice, tau index, m index) of each stage in the flat parameter vector."""
    per = filters * size * size + filters * 2 * terms + 2
    return [(slice(s * per, s * per + filters * size * size), s * per + per - 2, s * per + per - 1)
            for s in range(net.parameter_count // per)]


def projector(slices, filters: int, size: int):
    """Project each stage's tau onto ``[0, 0.99 * 2 / (sup g * Lambda + mu)]`` with ``Lambda``
    the bank's Gershgorin bound on every image size >= 8x8 (``lambda_max_any_size``); sup g < 1
    for the mixture diffusivities."""
    r = size // 2

    def project(p):
        p = p.copy()
        for w, t, m in slices:
            ws = p[w].reshape(filters, size, size)
            ws = ws - ws.mean(axis=(1, 2), keepdims=True)          # the filters used (zero mean)
            lam = lambda_max_any_size([Stencil2D(k, offset=(-r, -r)) for k in ws], (8, 8))
            mu = np.logaddexp(0, p[m])
            cap = 0.99 * 2 / (1.0 * lam + mu)
            p[t] = min(max(p[t], 0.0), cap)
        return p
    return project


def certified_network(stages: int, filters: int, size: int, terms: int, seed: int):
    """(network, project): :func:`make_network` with every stage's tau at its certified bound
    (the projection of tau = inf), and the projector that keeps it there during training."""
    net = make_network(stages, filters, size, terms, seed)
    slices = stage_slices(net, filters, size, terms)
    project = projector(slices, filters, size)
    start = net.parameters
    for _, t, _ in slices:
        start[t] = np.inf          # every stage starts at its certified step size
    net.set_parameters(project(start))
    return net, project


def evaluate(net: ImageNetwork, sigma: float, seed: int = 0) -> dict:
    out = {}
    for i, (name, clean) in enumerate(sorted(test_images().items())):
        noisy, _ = noisy_pairs(clean, sigma, np.random.default_rng(seed + i))
        out[name] = psnr(clean, net.predict(noisy))
    return out


def arguments(description: str = __doc__.splitlines()[0]) -> argparse.ArgumentParser:
    """The command-line options of the network and of its training run."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--sigma", type=float, default=25, help="noise level on the 0-255 scale")
    p.add_argument("--steps", type=int, default=10000)
    p.add_argument("--stages", type=int, default=24)
    p.add_argument("--filters", type=int, default=8)
    p.add_argument("--size", type=int, default=5)
    p.add_argument("--terms", type=int, default=3)
    p.add_argument("--crop", type=int, default=64)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--lr", type=float, default=5e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--augment", action="store_true",
                   help="map each crop by a random symmetry of the square (8 rotations/transpositions)")
    p.add_argument("--out", help="save the trained network here (.pdbnet) and its model card beside it (.json)")
    return p


def main(argv=None):
    a = arguments().parse_args(argv)
    sigma = a.sigma / 255
    net, project = certified_network(a.stages, a.filters, a.size, a.terms, a.seed)
    t0 = time.perf_counter()
    hist = fit(net, training_images(), sigma=sigma, crop=a.crop, batch=a.batch, steps=a.steps, lr=a.lr,
               seed=a.seed, project=project, progress=False, augment=a.augment)
    train_s = time.perf_counter() - t0
    scores = evaluate(net, sigma)
    cert = all(bool(net.certificate(s)) for s in [(8, 8), (9, 13), (64, 64), (512, 512)])
    print(f"sigma {a.sigma:g}: {a.stages} stages x {a.filters} filters {a.size}x{a.size}, "
          f"{net.parameter_count} parameters, {a.steps} steps in {train_s:.0f} s, last loss {hist.losses[-1]:.3g}")
    for name, v in scores.items():
        print(f"  {name:8s} PSNR {v:6.2f} dB")
    print(f"  mean     PSNR {np.mean(list(scores.values())):6.2f} dB; certified on 8x8 ... 512x512: {cert}")
    if a.out:
        net.save(a.out)
        save_card(a, scores, train_s, a.out)
    return net, scores, hist


def save_card(a, scores: dict, seconds: float, out: str) -> None:
    """The model card beside the weights: the architecture (enough to decode the parameter
    vector), the training settings and command, and the test PSNR it gave."""
    card = dict(sigma=a.sigma, stages=a.stages, filters=a.filters, size=a.size, terms=a.terms,
                coupling="channelwise", zero_mean=True, reaction=True,
                training=dict(steps=a.steps, crop=a.crop, batch=a.batch, lr=a.lr, seed=a.seed, augment=a.augment,
                              seconds=round(seconds), images=sorted(training_images())),
                command=("PYTHONPATH=python python examples/train_denoiser.py " +
                         " ".join(f"--{k} {getattr(a, k)}" for k in ("sigma", "stages", "filters", "size", "terms",
                                                                    "steps", "crop", "batch", "lr", "seed"))
                         + (" --augment" if a.augment else "")),
                test_psnr={k: round(float(v), 4) for k, v in scores.items()},
                certified="every stage: tau <= 0.99 * 2 / (Lambda + mu), Lambda = lambda_max_any_size(bank, (8, 8))")
    with open(os.path.splitext(out)[0] + ".json", "w") as fh:
        json.dump(card, fh, indent=1)
        fh.write("\n")


if __name__ == "__main__":
    main()

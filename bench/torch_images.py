"""Benchmark of pdeblocks.torch on images: forward+backward of a 5-block 2D diffusion network
as a pdeblocks.torch.Module against the same network written in plain PyTorch (conv2d for K,
conv_transpose2d for K^T, the half-sample mirror boundary as a concatenation of flipped edges
and its adjoint, the learned diffusivities, flux and reaction term as torch ops, autograd),
float64 and float32, 1 and 2 threads (torch.set_num_threads; the Module follows it).

The blocks are those of examples/train_denoiser.py: per block 4 zero-mean 3x3 filters,
channelwise learnable Gaussian-mixture diffusivities (3 terms), ``mu (u - f)`` with ``f`` the
network input, ``u <- u - tau (sum_c K_c^T Phi_c(K_c u) + mu (u - f))``. Each pass computes the
output, the input gradient and every parameter gradient of a weighted sum of the outputs; the
two implementations are checked to agree (output and gradients, float64) before timing.
Target: pdeblocks.torch >= 2x faster than plain torch at float64. float32: plain torch computes
in float32, pdeblocks.torch converts to float64 and back.

Usage:  python bench/torch_images.py [--batch 16] [--size 128] [--repeat 5]
"""
from __future__ import annotations

import argparse
import functools
import os

import numpy as np
import torch
import torch.nn.functional as F

import pdeblocks as pb
import pdeblocks.torch as pbt
from explicit_step import best_of  # bench/ is the script's directory
from rows import Rows  # bench/rows.py (the script's directory is on sys.path)

BLOCKS, FILTERS, KERNEL, TERMS, TAU, MU = 5, 4, 3, 3, 0.05, 0.02


def library_network(seed: int = 0) -> pb.ImageNetwork:
    """The blocks of examples/train_denoiser.py (random zero-mean filters of unit l1 norm)."""
    rng = np.random.default_rng(seed)
    r = KERNEL // 2
    blocks = []
    for _ in range(BLOCKS):
        raw = [w - w.mean() for w in rng.standard_normal((FILTERS, KERNEL, KERNEL))]
        bank = [pb.Stencil2D(w / np.abs(w).sum(), offset=(-r, -r)) for w in raw]
        gs = [pb.LearnableDiffusivity(rng.uniform(0.5, 1.5, TERMS) * 0.9 / (1.5 * TERMS),
                                      np.geomspace(0.02, 0.5, TERMS) * rng.uniform(0.8, 1.25, TERMS))
              for _ in range(FILTERS)]
        blocks.append(pb.DiffusionBlock2D(bank, gs, TAU, MU, coupling="channelwise", zero_mean=True))
    return pb.ImageNetwork(blocks)


def extend(x, top: int, bottom: int, left: int, right: int):
    """The half-sample mirror extension of the images x (..., H, W) by the given numbers of pixels
    (each at most the image's size on that axis): u~[-1] = u[0], u~[H] = u[H - 1], ..."""
    h, w = x.shape[-2:]
    x = torch.cat([x[..., :top, :].flip(-2), x, x[..., h - bottom:, :].flip(-2)], -2)
    return torch.cat([x[..., :left].flip(-1), x, x[..., w - right:].flip(-1)], -1)


def fold(t, top: int, bottom: int, left: int, right: int):
    """The adjoint of :func:`extend`: the extension's entries added back onto their sources."""
    def axis(t, lo, hi, dim):
        n = t.shape[dim] - lo - hi
        core = t.narrow(dim, lo, n)
        parts = [core.narrow(dim, 0, lo) + t.narrow(dim, 0, lo).flip(dim),
                 core.narrow(dim, lo, n - lo - hi),
                 core.narrow(dim, n - hi, hi) + t.narrow(dim, lo + n, hi).flip(dim)]
        return torch.cat(parts, dim)
    return axis(axis(t, top, bottom, -2), left, right, -1)


class PlainDiffusion2D(torch.nn.Module):
    """The same network in plain torch, one parameter per block with the library's packed layout
    (include/pdeblocks_image_layers.h): C k x k filters, per filter J mixture logits then J
    log-contrasts, tau, m (mu = softplus(m))."""

    def __init__(self, flat: np.ndarray, dtype):
        super().__init__()
        per = flat.size // BLOCKS
        self.blocks = torch.nn.ParameterList(
            [torch.nn.Parameter(torch.tensor(flat[b * per:(b + 1) * per], dtype=dtype)) for b in range(BLOCKS)])
        r = KERNEL // 2
        self.pads = (r, KERNEL - 1 - r, r, KERNEL - 1 - r)     # offset (-r, -r): pixels needed per side

    def block(self, u, f, p):
        n = FILTERS * KERNEL * KERNEL
        w = p[:n].view(FILTERS, KERNEL * KERNEL)
        w = (w - w.mean(1, keepdim=True)).view(FILTERS, 1, KERNEL, KERNEL)       # zero mean
        mix = p[n:n + 2 * TERMS * FILTERS].view(FILTERS, 2, TERMS)
        alpha = mix[:, 0].clamp(-25, 25)
        a = torch.softmax(torch.cat([alpha, alpha.new_zeros(FILTERS, 1)], 1), 1)[:, :TERMS]   # (C, J)
        inv = 0.5 * torch.exp(-2 * mix[:, 1])                                   # 1 / (2 lam^2)
        tau, mu = p[-2], F.softplus(p[-1])
        y = F.conv2d(extend(u, *self.pads), w)                                   # K_c u: (B, C, H, W)
        s2 = y * y
        terms = [a[:, j].view(1, -1, 1, 1) * torch.exp(-s2 * inv[:, j].view(1, -1, 1, 1)) for j in range(TERMS)]
        g = functools.reduce(torch.add, terms)                                    # g_c(s^2)
        div = fold(F.conv_transpose2d(g * y, w), *self.pads)                     # sum_c K_c^T Phi_c
        return u - tau * (div + mu * (u - f))

    def forward(self, x):
        u = x
        for p in self.blocks:
            u = self.block(u, x, p)
        return u


def fwd_bwd(model, x, w):
    y = model(x)
    return y, torch.autograd.grad(y, [x, *model.parameters()], w)


def check_agreement(lib_module, plain, x, w):
    y1, g1 = fwd_bwd(lib_module, x, w)
    y2, g2 = fwd_bwd(plain, x, w)
    y1, y2 = y1.detach(), y2.detach()
    scale = float(y1.abs().max())
    np.testing.assert_allclose(y1.numpy(), y2.numpy(), rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(g1[0].numpy(), g2[0].numpy(), rtol=0, atol=1e-10 * float(g1[0].abs().max()))
    for a, b in zip(g1[1:], g2[1:]):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-10 * float(a.abs().max()))
    return max(float((y1 - y2).abs().max()) / scale,
               max(float((a - b).abs().max() / a.abs().max()) for a, b in zip(g1, g2)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rows", help="write the key figures as JSON rows to this file (bench/rows.py)")
    args = parser.parse_args(argv)
    figures = Rows()
    rng = np.random.default_rng(0)
    shape = (args.batch, 1, args.size, args.size)
    smooth = np.cumsum(np.cumsum(rng.normal(size=shape), axis=-1), axis=-2)
    f = 0.5 + 0.4 * smooth / np.abs(smooth).max() + 0.1 * rng.normal(size=shape)   # noisy images, ~[0, 1]
    wn = rng.normal(size=shape)
    flat = library_network().parameters
    before = torch.get_num_threads()
    print(f"torch {torch.__version__}: forward+backward (input and parameter gradients) of {BLOCKS} 2D diffusion "
          f"blocks x {FILTERS} zero-mean {KERNEL}x{KERNEL} filters (channelwise {TERMS}-term diffusivities, "
          f"reaction) on {shape}; best of {args.repeat}; ms per pass; load average before: {os.getloadavg()[0]:.2f}")
    ok = True
    for dtype in (torch.float64, torch.float32):
        x = torch.from_numpy(f).to(dtype).requires_grad_()
        w = torch.from_numpy(wn).to(dtype)
        lib_module = pbt.Module(library_network()).to(dtype)
        plain = PlainDiffusion2D(flat, dtype)
        if dtype == torch.float64:
            err = check_agreement(lib_module, plain, x, w)
            print(f"float64 agreement (output, input and parameter gradients): max relative difference {err:.1e}")
            print(f"{'dtype':<8} {'threads':>7} {'plain torch':>12} {'pdeblocks.torch':>16} {'speed-up':>9}")
        for t in args.threads:
            torch.set_num_threads(t)
            fwd_bwd(plain, x, w), fwd_bwd(lib_module, x, w)    # warm-up
            t_plain = t_lib = float("inf")
            for _ in range(args.repeat):   # alternate, so a change of the machine's load hits both
                t_plain = min(t_plain, best_of(lambda: fwd_bwd(plain, x, w), 1))
                t_lib = min(t_lib, best_of(lambda: fwd_bwd(lib_module, x, w), 1))
            name = str(dtype).replace("torch.", "")
            print(f"{name:<8} {t:>7} {t_plain * 1e3:>12.2f} {t_lib * 1e3:>16.2f} {t_plain / t_lib:>8.2f}x")
            case = f"{name}, {t} thread(s), {shape}"
            figures.add(case, "plain torch fwd+bwd", t_plain * 1e3, "ms")
            figures.add(case, "pdeblocks.torch fwd+bwd", t_lib * 1e3, "ms")
            figures.add(case, "speed-up vs plain torch", t_plain / t_lib, "x")
            if dtype == torch.float64 and t_plain / t_lib < 2:
                ok = False
    torch.set_num_threads(before)
    print("target (>= 2x plain torch at float64):", "met" if ok else "NOT met")
    figures.write(args.rows)


if __name__ == "__main__":
    main()

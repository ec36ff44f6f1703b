"""Benchmark of pdeblocks.torch: forward+backward of a 5-block diffusion network as a
pdeblocks.torch.Module against the same network written in plain PyTorch (conv1d,
conv_transpose1d, the mirror boundary as an index gather / index_add, the Perona-Malik flux as
torch ops, autograd), float64 and float32, 1 and 2 threads (torch.set_num_threads; the Module
follows it).

Each pass computes the output, the input gradient and every parameter gradient (filter
weights, log(lam), tau) of 0.5*||y||^2-type losses. The two implementations are checked to
agree before timing. Target: pdeblocks.torch >= 2x faster than plain torch at float64.
float32: plain torch computes in float32, pdeblocks.torch converts to float64 and back.

Usage:  python bench/torch_layers.py [--batch 64] [--n 4096] [--repeat 5]
"""
from __future__ import annotations

import argparse
import os

import numpy as np
import torch

import pdeblocks as pb
import pdeblocks.torch as pbt
from explicit_step import best_of  # bench/ is the script's directory
from rows import Rows  # bench/rows.py (the script's directory is on sys.path)

BLOCKS, LAM, TAU = 5, 0.1, 0.2
FILTERS = [([-1.0, 1.0], 0), ([-0.5, 0.0, 0.5], -1)]


def library_network() -> pb.Network:
    g = pb.Diffusivity("perona_malik", LAM)
    return pb.Network([pb.DiffusionBlock([pb.Stencil(w, o) for w, o in FILTERS], [g, g], TAU)
                       for _ in range(BLOCKS)])


def extend(x, left: int, right: int):
    """The half-sample mirror extension of the rows of x by ``left``/``right`` samples (<= N)."""
    n = x.shape[-1]
    return torch.cat([x[:, :left].flip(1), x, x[:, n - right:].flip(1)], 1)


def fold(t, left: int, right: int):
    """The adjoint of :func:`extend`: the extension's entries added back onto their sources."""
    n = t.shape[-1] - left - right
    core = t[:, left:left + n]
    return torch.cat([core[:, :left] + t[:, :left].flip(1), core[:, left:n - right],
                      core[:, n - right:] + t[:, left + n:].flip(1)], 1)


class PlainDiffusion(torch.nn.Module):
    """The same network in plain torch: per block, ``x - tau sum_c K_c^T Phi(K_c x)`` with
    ``Phi(s) = exp(-s^2 / (2 lam_c^2)) s``; parameters as the library's (weights, log lam, tau)."""

    def __init__(self, flat: np.ndarray, n: int, dtype):
        super().__init__()
        self.weights, self.log_lam, self.tau = torch.nn.ParameterList(), torch.nn.ParameterList(), \
            torch.nn.ParameterList()
        self.pads = [(-o, len(w) - 1 + o) for w, o in FILTERS]   # samples needed left and right
        sizes = [len(w) for w, _ in FILTERS]
        per_block = sum(sizes) + len(FILTERS) + 1
        for b in range(BLOCKS):
            p = flat[b * per_block:(b + 1) * per_block]
            pos = 0
            for q in sizes:
                self.weights.append(torch.nn.Parameter(torch.tensor(p[pos:pos + q], dtype=dtype)))
                pos += q
            self.log_lam.append(torch.nn.Parameter(torch.tensor(p[pos:pos + len(FILTERS)], dtype=dtype)))
            self.tau.append(torch.nn.Parameter(torch.tensor(p[-1], dtype=dtype)))

    def forward(self, x):
        for b in range(BLOCKS):
            update = 0
            for c, (left, right) in enumerate(self.pads):
                w = self.weights[b * len(FILTERS) + c].view(1, 1, -1)
                y = torch.nn.functional.conv1d(extend(x, left, right)[:, None], w)  # K x
                lam = torch.exp(self.log_lam[b][c])
                flux = torch.exp(-(y * y) / (2 * lam * lam)) * y                    # Phi(K x)
                t = torch.nn.functional.conv_transpose1d(flux, w)[:, 0]              # K^T, on the extension
                update = update + fold(t, left, right)
            x = x - self.tau[b] * update
        return x


def fwd_bwd(model, x, w):
    y = model(x)
    params = [p for p in model.parameters()]
    return y, torch.autograd.grad(y, [x, *params], w)


def best_time(fn, repeat):
    fn()  # warm-up
    return best_of(fn, repeat)


def check_agreement(lib_module, plain, x, w):
    y1, g1 = fwd_bwd(lib_module, x, w)
    y2, g2 = fwd_bwd(plain, x, w)
    np.testing.assert_allclose(y1.detach().numpy(), y2.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(g1[0].numpy(), g2[0].numpy(), rtol=1e-9, atol=1e-11)
    lib_params = torch.cat([g.reshape(-1) for g in g1[1:]]).numpy()
    order = []   # the plain module lists all weights, then all log lams, then all taus
    nw = BLOCKS * len(FILTERS)
    for b in range(BLOCKS):
        order += [g2[1 + b * len(FILTERS) + c].reshape(-1) for c in range(len(FILTERS))]
        order += [g2[1 + nw + b].reshape(-1), g2[1 + nw + BLOCKS + b].reshape(-1)]
    np.testing.assert_allclose(lib_params, torch.cat(order).numpy(), rtol=1e-8, atol=1e-9)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--n", type=int, default=4096)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rows", help="write the key figures as JSON rows to this file (bench/rows.py)")
    args = parser.parse_args(argv)
    figures = Rows()
    rng = np.random.default_rng(0)
    f = np.cumsum(rng.normal(scale=0.05, size=(args.batch, args.n)), axis=1)
    wn = rng.normal(size=f.shape)
    flat = library_network().parameters
    before = torch.get_num_threads()
    print(f"torch {torch.__version__}: forward+backward (input and parameter gradients) of {BLOCKS} diffusion "
          f"blocks x {len(FILTERS)} filters on ({args.batch}, {args.n}); best of {args.repeat}; "
          f"ms per pass; load average before: {os.getloadavg()[0]:.2f}")
    print(f"{'dtype':<8} {'threads':>7} {'plain torch':>12} {'pdeblocks.torch':>16} {'speed-up':>9}")
    ok = True
    for dtype in (torch.float64, torch.float32):
        x = torch.from_numpy(f).to(dtype).requires_grad_()
        w = torch.from_numpy(wn).to(dtype)
        lib_module = pbt.Module(library_network()).to(dtype)
        plain = PlainDiffusion(flat, args.n, dtype)
        if dtype == torch.float64:
            check_agreement(lib_module, plain, x, w)
        for t in args.threads:
            torch.set_num_threads(t)
            t_plain = t_lib = float("inf")
            for _ in range(args.repeat):   # alternate, so a change of the machine's load hits both
                t_plain = min(t_plain, best_time(lambda: fwd_bwd(plain, x, w), 1))
                t_lib = min(t_lib, best_time(lambda: fwd_bwd(lib_module, x, w), 1))
            name = str(dtype).replace("torch.", "")
            print(f"{name:<8} {t:>7} {t_plain * 1e3:>12.2f} {t_lib * 1e3:>16.2f} {t_plain / t_lib:>8.2f}x")
            case = f"{name}, {t} thread(s), ({args.batch}, {args.n})"
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

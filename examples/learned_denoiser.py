"""Learn a provably stable diffusion network that denoises piecewise-constant signals.

The network is a chain of explicit diffusion blocks (paper eq. 4, Theorem 1), each with a
few learned filters K_c and learnable diffusivities g_c (so the activations tau*Phi_c are
learned like weights, Sec. 2.5). After every Adam step the step sizes are projected into
the bound of Theorem 2, so the trained network is certified: ||net(f)||_2 <= ||f||_2 for
every input f.

It is compared on a held-out test set with the best linear diffusion (grid search over
the stopping time) and the best Perona-Malik diffusion (grid search over lambda and the
stopping time); both baselines are tuned on the test set itself, i.e. they get their best
possible settings, which favours them.

Data: N = 256 samples, 4-12 jumps at uniformly random positions, levels uniform in [0, 1],
additive Gaussian noise sigma = 0.1, generated with a fixed seed.

Usage:  python examples/learned_denoiser.py [--quick] [--threads T] [--save PATH]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import pdeblocks as pb

N = 256
SIGMA = 0.1


def make_signals(rng, count, n=N, sigma=SIGMA):
    """Clean piecewise-constant signals and their noisy versions, shape (count, n)."""
    clean = np.empty((count, n))
    for k in range(count):
        jumps = rng.integers(4, 13)
        positions = np.sort(rng.choice(np.arange(1, n), size=jumps, replace=False))
        levels = rng.uniform(0.0, 1.0, size=jumps + 1)
        clean[k] = levels[np.searchsorted(positions, np.arange(n), side="right")]
    return clean, clean + sigma * rng.normal(size=clean.shape)


def psnr(u, clean):
    """PSNR in dB for peak value 1, from the mean squared error over the whole set."""
    return 10 * np.log10(1.0 / np.mean((u - clean) ** 2))


def best_diffusion(noisy, clean, g, tau, steps):
    """Best PSNR over the stopping times k*tau, k = 0..steps, and the best time."""
    _, history = pb.explicit(noisy, pb.Stencil([-1.0, 1.0]), g, tau, steps, record_every=1)
    scores = [psnr(u, clean) for u in history]
    k = int(np.argmax(scores))
    return scores[k], k * tau


def build_network(blocks, filters_per_block, terms):
    """`blocks` diffusion blocks with learned 5-tap filters (initialised as differences at
    distances 1, 2, 3, 4) and learnable diffusivities with `terms` Gaussian terms."""
    init = [([-1.0, 1.0, 0.0, 0.0, 0.0], 0), ([-0.5, 0.0, 0.5, 0.0, 0.0], -1),
            ([-1 / 3, 0.0, 0.0, 1 / 3, 0.0], -1), ([-0.25, 0.0, 0.0, 0.0, 0.25], -2)]
    filters = [pb.Stencil(w, o) for w, o in init[:filters_per_block]]
    contrasts = np.geomspace(0.03, 0.3, terms)
    weights = np.full(terms, 0.9 / terms)
    return pb.Network([pb.DiffusionBlock(filters, [pb.LearnableDiffusivity(weights, contrasts)
                                                   for _ in filters], 0.1)
                       for _ in range(blocks)])


def train(net, noisy, clean, iterations, batch, lr, rng, log_every=0, certified=True):
    """Adam on the mean squared error; with ``certified`` the step sizes are projected into
    Theorem 2's bound after every step (without: a free network, e.g. of residual blocks)."""
    if certified:
        net.project_stable(N, margin=0.99)
    opt = pb.Adam(lr=lr)
    p = net.parameters
    for it in range(iterations):
        idx = rng.choice(len(noisy), size=batch, replace=False)
        y = net.forward(noisy[idx])
        _, grad = net.backward(2.0 * (y - clean[idx]) / y.size)
        p = opt.step(p, grad)
        net.set_parameters(p)
        if certified and net.project_stable(N, margin=0.99):
            p = net.parameters
        if log_every and (it + 1) % log_every == 0:
            print(f"  iteration {it + 1:5d}: training batch MSE {np.mean((y - clean[idx]) ** 2):.3e}", flush=True)
    return net


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short configuration (for the tests)")
    parser.add_argument("--threads", type=int, default=0, help="threads for batch rows (0 = all cores)")
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--save", default=None, help="save the trained network to this file")
    args = parser.parse_args(argv)

    if args.quick:
        cfg = dict(train=64, test=32, blocks=3, filters=2, terms=2, iterations=30, batch=16,
                   lambdas=np.geomspace(0.05, 0.2, 3), pm_steps=60, linear_steps=20)
    else:
        cfg = dict(train=512, test=256, blocks=8, filters=4, terms=3, iterations=800, batch=32,
                   lambdas=np.geomspace(0.04, 0.25, 24), pm_steps=600, linear_steps=200)
    start = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    train_clean, train_noisy = make_signals(rng, cfg["train"])
    test_clean, test_noisy = make_signals(rng, cfg["test"])

    # Baselines, tuned on the test set: explicit steps of tau = 0.25 (half of Theorem 2's bound
    # 1/2 for K = [-1, 1]; smaller steps change the best PSNR by < 0.01 dB), stopping times up to 150.
    lin, lin_t = best_diffusion(test_noisy, test_clean, "linear", 0.25, cfg["linear_steps"])
    pm, pm_lam, pm_t = -np.inf, None, None
    for lam in cfg["lambdas"]:
        score, t = best_diffusion(test_noisy, test_clean, pb.Diffusivity("perona_malik", lam), 0.25, cfg["pm_steps"])
        if score > pm:
            pm, pm_lam, pm_t = score, lam, t
    baseline_time = time.perf_counter() - start

    net = build_network(cfg["blocks"], cfg["filters"], cfg["terms"])
    net.threads = args.threads
    t0 = time.perf_counter()
    train(net, train_noisy, train_clean, cfg["iterations"], cfg["batch"], 0.01, rng,
          log_every=0 if args.quick else 200)
    train_time = time.perf_counter() - t0
    learned = psnr(net.predict(test_noisy), test_clean)
    cert = net.certificate(N)
    norms_ok = bool(np.all(np.linalg.norm(net.predict(test_noisy), axis=1)
                           <= np.linalg.norm(test_noisy, axis=1)))

    print(f"\nTest PSNR, {cfg['test']} signals of length {N}, noise sigma = {SIGMA} "
          f"(baselines tuned on the test set)")
    print(f"{'method':<50} {'PSNR [dB]':>10}")
    print(f"{'noisy input':<50} {psnr(test_noisy, test_clean):10.2f}")
    label = f"best linear diffusion (T = {lin_t:.2f})"
    print(f"{label:<50} {lin:10.2f}")
    label = f"best Perona-Malik (lambda = {pm_lam:.4f}, T = {pm_t:.2f})"
    print(f"{label:<50} {pm:10.2f}")
    label = f"learned network ({cfg['blocks']} diffusion blocks)"
    print(f"{label:<50} {learned:10.2f}")
    print(f"learned network certified (Theorem 2, n = {N}): {'yes' if cert.certified else 'no'}"
          f"{'' if cert.certified else ' (block %d: %s)' % (cert.first_failure, cert.blocks[cert.first_failure].reason)}")
    print(f"||output|| <= ||input|| on every test signal: {'yes' if norms_ok else 'no'}")
    print(f"learned - best Perona-Malik: {learned - pm:+.2f} dB")
    print(f"time: baselines {baseline_time:.1f} s, training {train_time:.1f} s "
          f"({cfg['iterations']} Adam steps, {net.parameter_count} parameters)")
    if args.save:
        net.save(args.save)
    return dict(noisy=psnr(test_noisy, test_clean), linear=lin, perona_malik=pm, learned=learned,
                certified=cert.certified)


if __name__ == "__main__":
    main()

"""Train the certified image denoiser of train_denoiser.py in an ordinary PyTorch loop (issue 17).

The network is the one of ``examples/train_denoiser.py`` (a chain of 2D diffusion-reaction
stages with zero-mean learned filters, channelwise learnable diffusivities and a reaction
term; every stage's tau starts at, and is projected back into, a step-size bound certified
on every image size), wrapped as a ``torch.nn.Module`` by ``pdeblocks.torch.Module``. It is
trained twice from the same start, on the same minibatches:

* by the library's trainer, :func:`pdeblocks.train.fit` (numpy Adam, cosine schedule);
* by PyTorch: ``torch.optim.Adam`` on the module's parameters, the equal cosine schedule
  ``torch.optim.lr_scheduler.CosineAnnealingLR(T_max=steps, eta_min=COSINE_FLOOR * lr)``,
  minibatches from a ``DataLoader`` over :class:`NoisyCrops` (an ``IterableDataset`` of random
  training crops with fresh Gaussian noise), the loss ``0.5 * mse_loss`` (the library's
  ``1/2 mean((net(noisy) - clean)^2)``), ``loss.backward()`` through the library's backward
  pass, and after every optimiser step the same tau projection written into the module's
  parameters under ``torch.no_grad()``.

Then both are evaluated on the held-out test images camera, coins and moon (seeded noise) and
their PSNRs printed side by side. With ``--workers 0`` (default) the DataLoader's minibatches
are exactly those of ``fit`` (one numpy generator seeded alike, drawn in the same order), so the
two runs differ only by rounding (torch's Adam and schedule against numpy's); with
``--workers N`` each worker draws its own stream (seeded with (seed, worker id)).

Run: PYTHONPATH=python python examples/torch_denoiser.py [--stages 16 --steps 1000 --workers 0]
(the options of train_denoiser.py; defaults: 16 stages, 1000 steps, about 30 s on 2 cores for both
runs, mean test PSNR 29.00 dB for each at sigma 25; --stages 24 --filters 8 --size 5 --steps 10000 is train_denoiser.py's run)
"""
from __future__ import annotations

import itertools
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

if str(Path(__file__).resolve().parent) not in sys.path:    # examples/ (train_denoiser), when imported
    sys.path.insert(0, str(Path(__file__).resolve().parent))
import pdeblocks.torch as pbt  # noqa: E402
from pdeblocks.datasets import noisy_pairs, random_crops, test_images, training_images  # noqa: E402
from pdeblocks.metrics import psnr  # noqa: E402
from pdeblocks.train import COSINE_FLOOR, fit  # noqa: E402
from train_denoiser import arguments, certified_network, evaluate  # noqa: E402

CERTIFIED_ON = [(8, 8), (9, 13), (64, 64), (512, 512)]


class NoisyCrops(torch.utils.data.IterableDataset):
    """Endless minibatches ``(noisy, clean)``, float64 tensors of shape ``(batch, 1, crop, crop)``:
    ``batch`` random ``crop x crop`` crops of ``images`` (:func:`pdeblocks.datasets.random_crops`)
    with fresh Gaussian noise of level ``sigma`` on the [0, 1] scale
    (:func:`pdeblocks.datasets.noisy_pairs`), drawn from one ``numpy.random.default_rng(seed)``
    in the order of :func:`pdeblocks.train.fit`: in the main process (``num_workers=0``) the
    stream equals fit's minibatch for minibatch. In DataLoader worker ``k`` the generator is
    seeded with ``(seed, k)``, so workers draw different streams. Use ``batch_size=None`` in the
    DataLoader (the items are minibatches already)."""

    def __init__(self, images, sigma: float, crop: int, batch: int, seed: int):
        super().__init__()
        self.images = [np.ascontiguousarray(a, dtype=np.float64) for a in
                       (images.values() if hasattr(images, "values") else images)]
        self.sigma, self.crop, self.batch, self.seed = float(sigma), int(crop), int(batch), int(seed)

    def __iter__(self):
        worker = torch.utils.data.get_worker_info()
        rng = np.random.default_rng(self.seed if worker is None else [self.seed, worker.id])
        while True:
            noisy, clean = noisy_pairs(random_crops(self.images, self.crop, self.batch, rng), self.sigma, rng)
            yield torch.from_numpy(noisy[:, None]), torch.from_numpy(clean[:, None])


def project_parameters(module: pbt.Module, project) -> None:
    """``project`` (a map of the flat parameter vector) applied to the module's parameters in place."""
    with torch.no_grad():
        params = module.block_parameters()
        flat = torch.cat([p.reshape(-1) for p in params]).numpy()
        new = torch.from_numpy(np.asarray(project(flat), dtype=np.float64))
        start = 0
        for p in params:
            p.copy_(new[start:start + p.numel()].view_as(p))
            start += p.numel()


def train_torch(module: pbt.Module, project, images, *, sigma, crop, batch, steps, lr, seed, workers=0):
    """The PyTorch loop; returns (losses, learning rates) per step."""
    opt = torch.optim.Adam(module.parameters(), lr=lr)          # betas, eps: those of pdeblocks.Adam
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=COSINE_FLOOR * lr)
    loader = torch.utils.data.DataLoader(NoisyCrops(images, sigma, crop, batch, seed), batch_size=None,
                                         num_workers=workers)
    losses, rates = [], []
    for noisy, clean in itertools.islice(loader, steps):
        rates.append(opt.param_groups[0]["lr"])
        opt.zero_grad()
        loss = 0.5 * torch.nn.functional.mse_loss(module(noisy), clean)
        loss.backward()
        opt.step()
        schedule.step()
        project_parameters(module, project)
        losses.append(loss.item())
    return np.array(losses), np.array(rates)


def predictor(module: pbt.Module):
    """An object with ``predict(image)`` running the module under ``torch.no_grad()`` (for evaluate)."""
    def predict(x):
        with torch.no_grad():
            return module(torch.from_numpy(np.ascontiguousarray(x))).numpy()
    return SimpleNamespace(predict=predict)


def main(argv=None):
    p = arguments(__doc__.splitlines()[0])
    p.add_argument("--workers", type=int, default=0, help="DataLoader workers (0: fit's exact minibatches)")
    p.set_defaults(stages=16, filters=4, size=3, steps=1000)
    a = p.parse_args(argv)
    sigma = a.sigma / 255
    images = training_images()
    options = dict(sigma=sigma, crop=a.crop, batch=a.batch, steps=a.steps, lr=a.lr, seed=a.seed)

    net, project = certified_network(a.stages, a.filters, a.size, a.terms, a.seed)
    t0 = time.perf_counter()
    hist = fit(net, images, project=project, progress=False, **options)
    fit_s = time.perf_counter() - t0

    module = pbt.Module(certified_network(a.stages, a.filters, a.size, a.terms, a.seed)[0])
    t0 = time.perf_counter()
    losses, rates = train_torch(module, project, images, workers=a.workers, **options)
    torch_s = time.perf_counter() - t0
    module.sync()

    library, torched = evaluate(net, sigma), evaluate(predictor(module), sigma)
    noisy = {name: psnr(clean, noisy_pairs(clean, sigma, np.random.default_rng(i))[0])   # evaluate's noise
             for i, (name, clean) in enumerate(sorted(test_images().items()))}
    p_lib, p_torch = net.parameters, torch.cat([q.detach().reshape(-1) for q in module.parameters()]).numpy()
    certified = all(bool(module.certificate(s)) and bool(net.certificate(s)) for s in CERTIFIED_ON)
    print(f"sigma {a.sigma:g}: {a.stages} stages x {a.filters} filters {a.size}x{a.size}, {net.parameter_count} "
          f"parameters, {a.steps} steps of {a.batch} crops {a.crop}x{a.crop}, lr {a.lr:g} (cosine), seed {a.seed}")
    print(f"training: pdeblocks.train.fit {fit_s:.1f} s (last loss {hist.losses[-1]:.4g}); "
          f"torch.optim.Adam + DataLoader({a.workers} workers) {torch_s:.1f} s (last loss {losses[-1]:.4g})")
    print(f"{'test PSNR (dB)':<16}{'noisy':>8}{'fit':>8}{'torch':>8}{'torch-fit':>11}")
    for name in library:
        print(f"{name:<16}{noisy[name]:8.2f}{library[name]:8.2f}{torched[name]:8.2f}{torched[name] - library[name]:11.4f}")
    mean = {k: np.mean(list(d.values())) for k, d in (("noisy", noisy), ("fit", library), ("torch", torched))}
    print(f"{'mean':<16}{mean['noisy']:8.2f}{mean['fit']:8.2f}{mean['torch']:8.2f}{mean['torch'] - mean['fit']:11.4f}")
    print(f"parameters: max |torch - fit| = {np.max(np.abs(p_torch - p_lib)):.3g} (max |p| = {np.max(np.abs(p_lib)):.3g}); "
          f"schedules: max relative difference {np.max(np.abs(rates / hist.learning_rates - 1)):.2g}; "
          f"certified on 8x8 ... 512x512: {certified}")
    if a.out:
        module.network.save(a.out)
    return SimpleNamespace(noisy=noisy, fit=library, torch=torched, fit_history=hist, torch_losses=losses,
                           torch_rates=rates, fit_parameters=p_lib, torch_parameters=p_torch, certified=certified,
                           module=module, network=net)


if __name__ == "__main__":
    main()

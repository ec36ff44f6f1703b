"""examples/train_denoiser.py: its step-size projection keeps every stage within a Theorem 2
bound valid on every image size (checked against the library's certified lambda_max on several
sizes, and through ImageNetwork.certificate), and a short run lowers the training loss."""
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("skimage")

import pdeblocks as pb
from example_loader import load_example

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "train_denoiser.py"


@pytest.fixture(scope="module")
def example():
    return load_example(EXAMPLE, "train_denoiser")


def test_projected_tau_is_below_the_certified_bound_on_every_size(example):
    stages, filters, size, terms = 2, 3, 3, 2
    net = example.make_network(stages, filters, size, terms, seed=3)
    slices = example.stage_slices(net, filters, size, terms)
    p = net.parameters
    rng = np.random.default_rng(0)
    p += 0.3 * rng.standard_normal(p.size)         # arbitrary filters
    for _, t, _ in slices:
        p[t] = 1e6                                  # far above any bound
    q = example.projector(slices, filters, size)(p)
    net.set_parameters(q)
    r = size // 2
    for w, t, m in slices:
        ws = q[w].reshape(filters, size, size)
        bank = [pb.Stencil2D(k - k.mean(), offset=(-r, -r)) for k in ws]
        mu = np.logaddexp(0, q[m])
        for shape in [(8, 8), (9, 13), (31, 8), (64, 64), (200, 300)]:
            lam = pb.filter_bank_norm_squared(bank, shape)
            assert 0 <= q[t] <= 2 / (lam + mu), (shape, q[t], 2 / (lam + mu))
    for shape in [(8, 8), (9, 13), (64, 64)]:
        assert net.certificate(shape), shape


def test_a_short_run_denoises_the_test_images(example):
    net, scores, hist = example.main(["--steps", "40", "--stages", "2", "--filters", "3", "--size", "3",
                                "--crop", "32", "--batch", "4", "--lr", "2e-2"])
    assert set(scores) == {"camera", "coins", "moon"}
    assert all(np.isfinite(v) for v in scores.values())
    assert len(hist.losses) == 40 and np.all(np.isfinite(hist.losses))
    from pdeblocks.datasets import noisy_pairs, test_images
    from pdeblocks.metrics import psnr
    for i, (name, clean) in enumerate(sorted(test_images().items())):   # the example's noise
        noisy, _ = noisy_pairs(clean, 25 / 255, np.random.default_rng(i))
        assert scores[name] > psnr(clean, noisy) + 0.3, (name, scores[name], psnr(clean, noisy))

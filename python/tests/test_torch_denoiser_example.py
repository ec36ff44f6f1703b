"""examples/torch_denoiser.py: the PyTorch loop (torch.optim.Adam, CosineAnnealingLR, a DataLoader
of noisy crops, the tau projection under no_grad) trains the train_denoiser network to the test
PSNR of pdeblocks.train.fit within 0.2 dB, both denoise, and its pieces match the library's:
the DataLoader's minibatches are fit's, the schedule is fit's, the projected parameters stay
certified."""
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("skimage")
torch = pytest.importorskip("torch", reason="needs torch (python/requirements-dev.txt, or pip install \"pdeblocks[torch]\")")

from pdeblocks.datasets import training_images  # noqa: E402
from pdeblocks.train import fit  # noqa: E402
from example_loader import load_example

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "torch_denoiser.py"
TINY = ["--stages", "2", "--filters", "3", "--size", "3", "--steps", "40", "--crop", "32", "--batch", "4",
        "--lr", "2e-2"]


@pytest.fixture(scope="module")
def example():
    return load_example(EXAMPLE, "torch_denoiser")


@pytest.fixture(scope="module")
def run(example):
    return example.main(TINY)


def test_torch_and_library_trainers_reach_the_same_test_psnr_and_both_denoise(run):
    assert set(run.fit) == set(run.torch) == set(run.noisy) == {"camera", "coins", "moon"}
    for name in run.fit:
        assert abs(run.torch[name] - run.fit[name]) <= 0.2, (name, run.torch[name], run.fit[name])
        assert run.fit[name] > run.noisy[name] + 0.3, (name, run.fit[name], run.noisy[name])
        assert run.torch[name] > run.noisy[name] + 0.3, (name, run.torch[name], run.noisy[name])


def test_the_torch_losses_are_the_library_runs_losses_up_to_rounding(run):
    assert len(run.torch_losses) == len(run.fit_history.losses) == 40
    np.testing.assert_allclose(run.torch_losses, run.fit_history.losses, rtol=1e-6)


def test_the_torch_cosine_schedule_equals_the_library_schedule(run):
    np.testing.assert_allclose(run.torch_rates, run.fit_history.learning_rates, rtol=1e-12, atol=0)


def test_the_projected_torch_parameters_are_fixed_points_of_the_projection_and_certified(example, run):
    from train_denoiser import certified_network     # on sys.path through the example
    _, project = certified_network(2, 3, 3, 3, 0)
    p = run.torch_parameters
    assert np.array_equal(project(p), p)
    assert run.certified
    for shape in [(8, 8), (13, 9), (100, 100)]:
        assert run.module.certificate(shape), shape


class Recorder:
    """A model for pdeblocks.train.fit that records the minibatches it is given."""

    def __init__(self):
        self.parameters, self.batches = np.zeros(1), []

    def set_parameters(self, p):
        self.parameters = p

    def loss_and_gradient(self, noisy, clean):
        self.batches.append((noisy.copy(), clean.copy()))
        return 0.0, np.zeros(1)


def test_the_dataloader_without_workers_yields_the_minibatches_of_fit(example):
    images, sigma = training_images(), 25 / 255
    recorder = Recorder()
    fit(recorder, images, sigma=sigma, crop=16, batch=3, steps=5, seed=7)
    data = example.NoisyCrops(images, sigma, crop=16, batch=3, seed=7)
    loader = torch.utils.data.DataLoader(data, batch_size=None, num_workers=0)
    for (noisy, clean), (want_noisy, want_clean) in zip(loader, recorder.batches):
        assert noisy.shape == clean.shape == (3, 1, 16, 16) and noisy.dtype == torch.float64
        assert np.array_equal(noisy.numpy()[:, 0], want_noisy)
        assert np.array_equal(clean.numpy()[:, 0], want_clean)

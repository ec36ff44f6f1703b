"""pdeblocks.torch.Module around an ImageNetwork under torch.set_num_threads and DataLoader
workers (fork): every result is bitwise the single-process, single-thread one."""
import multiprocessing

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="needs torch (python/requirements-dev.txt, or pip install \"pdeblocks[torch]\")")

import pdeblocks as pb  # noqa: E402
import pdeblocks.torch as pbt  # noqa: E402
from pdeblocks import DiffusionBlock2D, ImageNetwork, LearnableDiffusivity, Stencil2D  # noqa: E402

H, W = 12, 11
needs_fork = pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")


def blocks():
    """A denoiser-type block (examples/train_denoiser.py) and an isotropic Perona-Malik block."""
    rng = np.random.default_rng(5)
    bank = [Stencil2D(w - w.mean(), offset=(-1, -1)) for w in 0.3 * rng.standard_normal((3, 3, 3))]
    gs = [LearnableDiffusivity([0.3, 0.2], [0.05, 0.4]) for _ in bank]
    return [DiffusionBlock2D(bank, gs, 0.1, 0.05, coupling="channelwise", zero_mean=True),
            DiffusionBlock2D(list(pb.gradient_2d()), "perona_malik", 0.1, mu=0.3)]


def images(shape, seed=0):
    rng = np.random.default_rng(seed)
    return np.cumsum(np.cumsum(rng.normal(scale=0.1, size=shape), axis=-1), axis=-2) / 3


def pass_of(module, f, w):
    """(output, input gradient, parameter gradients) of one forward/backward pair."""
    x = torch.from_numpy(f).requires_grad_()
    params = module.block_parameters()
    y = module(x)
    grads = torch.autograd.grad(y, [x, *params], torch.from_numpy(w))
    return y.detach().numpy(), grads[0].numpy(), torch.cat(grads[1:]).numpy()


@pytest.fixture
def torch_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_the_image_module_follows_torch_set_num_threads_and_results_do_not_depend_on_it(torch_threads):
    f, w = images((6, 1, H, W)), images((6, 1, H, W), seed=1)
    module = pbt.Module(ImageNetwork(blocks()))
    runs = {}
    for t in (1, 2, 3):
        torch.set_num_threads(t)
        runs[t] = pass_of(module, f, w)
        assert module.network.threads == t
        with torch.no_grad():
            runs[t, "no_grad"] = (module(torch.from_numpy(f)).numpy(),)
    fixed = pbt.Module(ImageNetwork(blocks()), threads=2)
    torch.set_num_threads(1)
    runs["fixed"] = pass_of(fixed, f, w)
    assert fixed.network.threads == 2
    for key, run in runs.items():
        for a, b in zip(run, runs[1]):
            assert np.array_equal(a, b), key


class Passes(torch.utils.data.Dataset):
    """Item k: a training pass of the (forked) module on batch k, computed in the worker, with
    the worker's torch thread count."""

    def __init__(self, module, data):
        self.module, self.data = module, data

    def __len__(self):
        return len(self.data)

    def __getitem__(self, k):
        y, gx, gp = pass_of(self.module, *self.data[k])
        with torch.no_grad():
            inferred = self.module(torch.from_numpy(self.data[k][0]))
        return (torch.from_numpy(y), torch.from_numpy(gx), torch.from_numpy(gp), inferred,
                torch.tensor([torch.get_num_threads(), self.module.network.threads]))


@needs_fork
def test_dataloader_workers_forked_from_a_training_process_compute_the_parents_passes(torch_threads):
    torch.set_num_threads(2)
    module = pbt.Module(ImageNetwork(blocks()))
    opt = torch.optim.Adam(module.parameters(), lr=1e-2)
    f, w = images((3, 1, H, W), seed=2), images((3, 1, H, W), seed=3)
    pass_of(module, f, w)                  # the parent has trained: a tape, an optimiser step ...
    y = module(torch.from_numpy(f).requires_grad_())
    (0.5 * y.square().mean()).backward()
    opt.step()
    data = [(images((2, 1, H, W), seed=10 + k), images((2, 1, H, W), seed=50 + k)) for k in range(6)]
    loader = torch.utils.data.DataLoader(Passes(module, data), batch_size=None, num_workers=2,
                                         multiprocessing_context="fork")
    got = [item for _ in range(2) for item in loader]              # workers started twice
    torch.set_num_threads(1)
    want = [pass_of(module, *d) for d in data]                     # the parent, one thread
    for (y, gx, gp, inferred, threads), (y0, gx0, gp0) in zip(got, want * 2):
        assert threads.tolist() == [1, 1]                          # DataLoader workers run 1 torch thread
        assert np.array_equal(y.numpy(), y0) and np.array_equal(inferred.numpy(), y0)
        assert np.array_equal(gx.numpy(), gx0) and np.array_equal(gp.numpy(), gp0)
    for a, b in zip(pass_of(module, f, w), pass_of(module, f, w)):  # ... and trains on afterwards
        assert np.array_equal(a, b)


class NoisyImages(torch.utils.data.Dataset):
    """Item k: a (1, H, W) smooth image and its noisy version, seeded by k."""

    def __len__(self):
        return 16

    def __getitem__(self, k):
        clean = images((1, H, W), seed=100 + k)
        noisy = clean + 0.05 * np.random.default_rng(200 + k).standard_normal(clean.shape)
        return torch.from_numpy(noisy), torch.from_numpy(clean)


def train(workers, threads):
    """Parameters and losses after two epochs of Adam on NoisyImages in batches of 4."""
    torch.set_num_threads(threads)
    module = pbt.Module(ImageNetwork(blocks()))
    opt = torch.optim.Adam(module.parameters(), lr=1e-2)
    loader = torch.utils.data.DataLoader(NoisyImages(), batch_size=4, num_workers=workers,
                                         multiprocessing_context="fork" if workers else None)
    losses = []
    for _ in range(2):
        for noisy, clean in loader:
            opt.zero_grad()
            loss = 0.5 * torch.nn.functional.mse_loss(module(noisy), clean)
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return torch.cat([p.detach().reshape(-1) for p in module.parameters()]).numpy(), losses


@needs_fork
def test_training_from_dataloader_workers_on_two_threads_equals_the_single_process_single_thread_run(torch_threads):
    p_ref, losses_ref = train(workers=0, threads=1)
    p, losses = train(workers=2, threads=2)
    assert len(losses) == 8 and losses_ref[-1] < losses_ref[0]
    assert losses == losses_ref
    assert np.array_equal(p, p_ref)
    assert not np.array_equal(p, ImageNetwork(blocks()).parameters)       # it did train

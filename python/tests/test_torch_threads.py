"""pdeblocks.torch under threads and processes: Python threads sharing one module, backward on
another thread than the forward, torch.set_num_threads, DataLoader workers (fork)."""
import multiprocessing
import threading

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="needs torch (python/requirements-dev.txt, or pip install \"pdeblocks[torch]\")")

import pdeblocks as pb  # noqa: E402
import pdeblocks.torch as pbt  # noqa: E402
from pdeblocks import DiffusionBlock, Diffusivity, FSIBlock, LearnableDiffusivity, Network, Stencil  # noqa: E402

FWD = Stencil([-1.0, 1.0])
ODD = Stencil([0.3, -0.8, 0.2, 0.1], -2)
PM = Diffusivity("perona_malik", 0.6)


def blocks():
    return [DiffusionBlock([FWD, ODD], [PM, LearnableDiffusivity([0.4, 0.3], [0.3, 1.2])], 0.1),
            FSIBlock(DiffusionBlock([FWD], [Diffusivity("charbonnier", 0.9)], 0.05), 3),
            DiffusionBlock([ODD], [PM], 0.1)]


def signals(shape, seed=0):
    return np.cumsum(np.random.default_rng(seed).normal(scale=0.3, size=shape), axis=-1)


def pass_of(module, f, w):
    """(output, input gradient, parameter gradients) of one forward/backward pair."""
    x = torch.from_numpy(f).requires_grad_()
    params = module.block_parameters()
    y = module(x)
    grads = torch.autograd.grad(y, [x, *params], torch.from_numpy(w))
    return y.detach().numpy(), grads[0].numpy(), torch.cat(grads[1:]).numpy()


def test_threads_sharing_a_module_each_get_the_gradients_of_their_own_pass():
    module = pbt.Module(Network(blocks()))
    data = [(signals((4, 48), seed=k), signals((4, 48), seed=100 + k)) for k in range(8)]
    expected = [pass_of(module, f, w) for f, w in data]
    results = [None] * len(data)
    barrier = threading.Barrier(4)

    def worker(k0):
        barrier.wait()
        for _ in range(5):
            for k in range(k0, len(data), 4):
                results[k] = pass_of(module, *data[k])
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got, want in zip(results, expected):
        for a, b in zip(got, want):
            assert np.array_equal(a, b)


def test_a_backward_on_another_thread_than_its_forward_is_correct():
    f, w = signals((3, 40)), signals((3, 40), seed=1)
    module = pbt.Module(Network(blocks()))
    _, gin_ref, gp_ref = pass_of(module, f, w)
    x = torch.from_numpy(f).requires_grad_()
    y = module(x)
    t = threading.Thread(target=lambda: y.backward(torch.from_numpy(w)))
    t.start()
    t.join()
    assert np.array_equal(x.grad.numpy(), gin_ref)
    assert np.array_equal(torch.cat([p.grad for p in module.block_parameters()]).numpy(), gp_ref)


def test_the_module_follows_torch_set_num_threads_and_results_do_not_depend_on_it():
    f, w = signals((16, 64)), signals((16, 64), seed=2)
    module = pbt.Module(Network(blocks()))
    before = torch.get_num_threads()
    try:
        runs = {}
        for t in (1, 2, 3):
            torch.set_num_threads(t)
            runs[t] = pass_of(module, f, w)
            assert module.network.threads == t
        fixed = pbt.Module(Network(blocks()), threads=2)
        torch.set_num_threads(1)
        runs["fixed"] = pass_of(fixed, f, w)
        assert fixed.network.threads == 2
    finally:
        torch.set_num_threads(before)
    for run in runs.values():
        for a, b in zip(run, runs[1]):
            assert np.array_equal(a, b)


class Smoothed(torch.utils.data.Dataset):
    """Items smoothed in the worker: a shared module under no_grad and pdeblocks.torch.explicit."""

    def __init__(self, module, data):
        self.module, self.data = module, data

    def __len__(self):
        return len(self.data)

    def __getitem__(self, k):
        x = torch.from_numpy(self.data[k])
        with torch.no_grad():
            return self.module(x), pbt.explicit(x, FWD, PM, 0.2, 3)


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
def test_dataloader_workers_forked_from_a_training_process_compute_what_the_parent_does():
    module = pbt.Module(Network(blocks()))
    opt = torch.optim.SGD(module.parameters(), lr=1e-2)
    f, w = signals((4, 48)), signals((4, 48), seed=3)
    pass_of(module, f, w)               # the parent has trained (a tape and gradients exist) ...
    opt.step()
    data = [signals(48, seed=10 + k) for k in range(12)]
    loader = torch.utils.data.DataLoader(Smoothed(module, data), batch_size=3, num_workers=2,
                                         multiprocessing_context="fork")
    got = [batch for _ in range(2) for batch in loader]          # workers started twice
    with torch.no_grad():
        want = [(module(torch.from_numpy(np.stack(data[k:k + 3]))),
                 torch.from_numpy(pb.explicit(np.stack(data[k:k + 3]), FWD, PM, 0.2, 3))) for k in range(0, 12, 3)]
    for (a, b), (c, d) in zip(got, want * 2):
        assert torch.equal(a, c) and torch.equal(b, d)
    copy = pbt.Module(Network(blocks()))
    copy.load_state_dict(module.state_dict())
    for a, b in zip(pass_of(module, f, w), pass_of(copy, f, w)):   # ... and trains on afterwards
        assert np.array_equal(a, b)

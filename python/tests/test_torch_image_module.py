"""pdeblocks.torch.Module around an ImageNetwork (issue 17, 2D): gradcheck in the input and the
parameters, the ImageNetwork's passes bit for bit, float32, the inference path, training behind
a Conv2d, state_dict round trips, interleaved passes on the one tape of the handle, and bad input."""
import gc
import threading

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="needs torch (python/requirements-dev.txt, or pip install \"pdeblocks[torch]\")")

import pdeblocks as pb  # noqa: E402
import pdeblocks.torch as pbt  # noqa: E402
from pdeblocks import DiffusionBlock2D, ImageNetwork, PDEBlocksError, ResidualBlock2D, Stencil2D  # noqa: E402

H, W = 6, 7


def two_blocks():
    kx, ky = pb.gradient_2d()
    k3 = Stencil2D([[0.3, -0.5, 0.2], [0.1, 0.6, -0.4], [-0.2, 0.25, 0.15]], offset=(-1, -1))
    return [DiffusionBlock2D([kx, ky], "perona_malik", 0.1, mu=0.3),
            ResidualBlock2D([k3], [kx], biases=[0.1], activation="tanh")]


def images(shape, seed=0):
    rng = np.random.default_rng(seed)
    return np.cumsum(np.cumsum(rng.normal(scale=0.3, size=shape), axis=-1), axis=-2) / 3


def through_module(module):
    return lambda x, *params: pbt.module._NetworkPass.apply(x, module, *params)


@pytest.fixture(autouse=True)
def _free_handles():
    """Handles caught in exception frames are freed here, not in a later module's leak count."""
    yield
    gc.collect()


def test_gradcheck_passes_in_the_input_and_every_parameter():
    module = pbt.Module(ImageNetwork(two_blocks()))
    x = torch.from_numpy(images((2, 1, H, W), seed=1)).requires_grad_()
    params = module.block_parameters()
    assert all(p.requires_grad for p in params)
    assert torch.autograd.gradcheck(through_module(module), (x, *params), eps=1e-6, atol=1e-8)


@pytest.mark.parametrize("shape", [(H, W), (3, H, W), (3, 1, H, W)])
def test_passes_equal_the_image_network_passes_bitwise(shape):
    f, w = images(shape), images(shape, seed=7)
    ref = ImageNetwork(two_blocks())
    y_ref = ref.forward(f.reshape(-1, H, W))
    gin_ref, gp_ref = ref.backward(w.reshape(-1, H, W))
    module = pbt.Module(ImageNetwork(two_blocks()))
    x = torch.from_numpy(f.copy()).requires_grad_()
    y = module(x)
    assert y.shape == x.shape and y.dtype == torch.float64
    assert np.array_equal(y.detach().numpy().reshape(-1, H, W), y_ref)
    y.backward(torch.from_numpy(w))
    assert x.grad.shape == x.shape
    assert np.array_equal(x.grad.numpy().reshape(-1, H, W), gin_ref)
    grads = torch.cat([p.grad for p in module.block_parameters()]).numpy()
    assert np.array_equal(grads, gp_ref)


def test_parameters_are_named_per_block_and_hold_each_blocks_slice():
    net = ImageNetwork(two_blocks())
    module = pbt.Module(net)
    names = [name for name, _ in module.named_parameters()]
    assert names == ["block0_diffusion2d", "block1_residual2d"]
    counts = [b.parameter_count for b in two_blocks()]
    assert [p.numel() for p in module.block_parameters()] == counts
    assert np.array_equal(torch.cat(module.block_parameters()).detach().numpy(), net.parameters)


def test_an_fsi_block_is_named_and_passes_gradcheck():
    kx, ky = pb.gradient_2d()
    step = DiffusionBlock2D([kx, ky], "perona_malik", 0.05, mu=0.3)
    module = pbt.Module(ImageNetwork([pb.FSIBlock2D(step, 3), two_blocks()[1]]))
    assert [name for name, _ in module.named_parameters()] == ["block0_fsi2d", "block1_residual2d"]
    x = torch.from_numpy(images((2, 1, H, W), seed=3)).requires_grad_()
    assert torch.autograd.gradcheck(through_module(module), (x, *module.block_parameters()), eps=1e-6, atol=1e-8)


def test_float32_is_computed_in_float64_and_returned_in_float32():
    f, w = images((2, 1, H, W), seed=3), images((2, 1, H, W), seed=4)
    f32, w32 = f.astype(np.float32), w.astype(np.float32)
    ref = ImageNetwork(two_blocks())
    y_ref = ref.forward(f32.astype(np.float64).reshape(-1, H, W))
    gin_ref, gp_ref = ref.backward(w32.astype(np.float64).reshape(-1, H, W))
    module = pbt.Module(ImageNetwork(two_blocks()))
    x = torch.from_numpy(f32.copy()).requires_grad_()
    y = module(x)
    assert y.dtype == torch.float32 and y.shape == x.shape
    assert np.array_equal(y.detach().numpy(), y_ref.astype(np.float32).reshape(x.shape))
    y.backward(torch.from_numpy(w32))
    assert x.grad.dtype == torch.float32
    assert np.array_equal(x.grad.numpy(), gin_ref.astype(np.float32).reshape(x.shape))
    grads = torch.cat([p.grad for p in module.block_parameters()]).numpy()
    assert np.array_equal(grads, gp_ref)       # the parameters stay float64


def test_no_grad_is_predict_and_records_no_tape():
    f = images((2, 1, H, W), seed=5)
    net = ImageNetwork(two_blocks())
    module = pbt.Module(net)
    with torch.no_grad():
        y = module(torch.from_numpy(f))
    assert not y.requires_grad
    assert np.array_equal(y.numpy().reshape(-1, H, W), ImageNetwork(two_blocks()).predict(f.reshape(-1, H, W)))
    with pytest.raises(PDEBlocksError, match="forward pass first"):
        net.backward(np.ones((2, H, W)))      # predict recorded nothing


def test_conv2d_before_and_mse_after_train_with_adam():
    torch.manual_seed(0)
    rng = np.random.default_rng(11)
    clean = np.zeros((4, 1, 12, 12))
    clean[:, :, 3:9, 4:10] = 1.0
    noisy = clean + rng.normal(scale=0.2, size=clean.shape)
    conv = torch.nn.Conv2d(1, 1, 3, padding=1, dtype=torch.float64)
    model = torch.nn.Sequential(conv, pbt.Module(ImageNetwork(two_blocks())))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    x, t = torch.from_numpy(noisy), torch.from_numpy(clean)
    losses = []
    for _ in range(12):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), t)
        loss.backward()
        assert conv.weight.grad is not None and conv.weight.grad.abs().sum() > 0
        assert all(p.grad.abs().sum() > 0 for p in model[1].block_parameters())
        opt.step()
        losses.append(loss.item())
    assert all(b < a for a, b in zip(losses, losses[1:])), losses
    assert losses[-1] < 0.8 * losses[0], losses


def test_state_dict_round_trips_through_a_file(tmp_path):
    trained = pbt.Module(ImageNetwork(two_blocks()))
    with torch.no_grad():
        for p in trained.block_parameters():
            p.add_(0.01 * torch.arange(p.numel(), dtype=torch.float64))
    torch.save(trained.state_dict(), tmp_path / "m.pt")
    fresh = pbt.Module(ImageNetwork(two_blocks()))
    x = torch.from_numpy(images((2, H, W), seed=2))
    with torch.no_grad():
        assert not torch.equal(fresh(x), trained(x))
        fresh.load_state_dict(torch.load(tmp_path / "m.pt"))
        assert torch.equal(fresh(x), trained(x))
    assert np.array_equal(fresh.network.parameters, trained.network.parameters)
    assert set(fresh.state_dict()) == {"block0_diffusion2d", "block1_residual2d"}


def test_a_loaded_image_network_names_its_blocks_like_the_built_one(tmp_path):
    built = ImageNetwork(two_blocks())
    built.save(tmp_path / "net.pdb")
    loaded = ImageNetwork.load(tmp_path / "net.pdb")
    assert loaded.block_slices() == built.block_slices()      # from pdb_image_network_block_info
    module = pbt.Module(loaded)
    assert [n for n, _ in module.named_parameters()] == ["block0_diffusion2d", "block1_residual2d"]
    for (_, part), p in zip(built.block_slices(), module.block_parameters()):
        assert np.array_equal(p.detach().numpy(), built.parameters[part])
    x = torch.from_numpy(images((2, H, W), seed=6)).requires_grad_()
    assert torch.autograd.gradcheck(through_module(module), (x, *module.block_parameters()), eps=1e-6, atol=1e-8)


def test_interleaved_forwards_then_backwards_give_each_pass_its_gradients():
    """The handle keeps one tape: the first pass's backward must repeat its forward."""
    (f1, w1), (f2, w2) = [(images((2, H, W), seed=s), images((2, H, W), seed=s + 1)) for s in (20, 30)]
    refs = []
    for f, w in ((f1, w1), (f2, w2)):
        ref = ImageNetwork(two_blocks())
        ref.forward(f)
        refs.append(ref.backward(w))
    module = pbt.Module(ImageNetwork(two_blocks()))
    params = module.block_parameters()
    for order in ((0, 1), (1, 0)):
        xs = [torch.from_numpy(f.copy()).requires_grad_() for f in (f1, f2)]
        ys = [module(x) for x in xs]
        for k in order:
            gx, *gp = torch.autograd.grad(ys[k], [xs[k], *params], torch.from_numpy((w1, w2)[k]))
            assert np.array_equal(gx.numpy(), refs[k][0]), (order, k)
            assert np.array_equal(torch.cat(gp).numpy(), refs[k][1]), (order, k)


def test_passes_from_two_threads_get_their_own_gradients():
    """Both threads run their forward pass, then both their backward pass (a barrier between):
    the handle's one tape is the later forward's, so the other backward must repeat its own."""
    module = pbt.Module(ImageNetwork(two_blocks()), threads=1)
    params = module.block_parameters()
    data = [(images((2, H, W), seed=40 + s), images((2, H, W), seed=50 + s)) for s in range(2)]
    expected = []
    for f, w in data:
        ref = ImageNetwork(two_blocks())
        ref.forward(f)
        expected.append(ref.backward(w))
    barrier, failures = threading.Barrier(2), []

    def work(k):
        f, w = data[k]
        for _ in range(5):
            x = torch.from_numpy(f.copy()).requires_grad_()
            y = module(x)
            barrier.wait()
            gx, *gp = torch.autograd.grad(y, [x, *params], torch.from_numpy(w))
            if not (np.array_equal(gx.numpy(), expected[k][0]) and np.array_equal(torch.cat(gp).numpy(), expected[k][1])):
                failures.append(k)
            barrier.wait()

    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_certificate_follows_the_torch_parameters():
    module = pbt.Module(ImageNetwork(two_blocks()))
    ref = ImageNetwork(two_blocks()).certificate((H, W))
    for shape in ((H, W), (2, 1, H, W), torch.Size([3, H, W])):
        cert = module.certificate(shape)
        assert cert.shape == (H, W)
        np.testing.assert_equal([vars(b) for b in cert.blocks], [vars(b) for b in ref.blocks])  # NaN == NaN
    assert cert.blocks[0].certified and not cert.blocks[1].certified
    bound = cert.blocks[0].tau_bound
    with torch.no_grad():
        tau_index = module.block0_diffusion2d.numel() - 2     # layout: weights, log lam, tau, m (mu = softplus m)
        scale = 1.5 * bound / cert.blocks[0].tau
        module.block0_diffusion2d[tau_index] *= scale
    after = module.certificate((H, W)).blocks[0]
    assert not after.certified and after.tau == pytest.approx(1.5 * bound)
    with pytest.raises(PDEBlocksError, match="image network"):
        module.project_stable((H, W))
    with pytest.raises(PDEBlocksError, match=r"\(H, W\)"):
        module.certificate(5)


@pytest.mark.parametrize("shape, match", [((W,), "shape"), ((2, 1, 1, H, W), "shape"), ((2, 3, H, W), "one channel"),
                                          ((0, H, W), "at least")])
def test_bad_image_shapes_are_refused_and_change_nothing(shape, match):
    net = ImageNetwork(two_blocks())
    module = pbt.Module(net)
    before = [p.detach().clone() for p in module.block_parameters()]
    x = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
    with pytest.raises(PDEBlocksError, match=match):
        module(x)
    with torch.no_grad(), pytest.raises(PDEBlocksError, match=match):
        module(x)
    assert all(torch.equal(a, b) for a, b in zip(before, module.block_parameters()))
    assert np.array_equal(net.parameters, torch.cat(before).numpy())


def test_tensors_off_the_cpu_and_non_float_tensors_are_refused():
    module = pbt.Module(ImageNetwork(two_blocks()))
    with pytest.raises(PDEBlocksError, match="CPU only"):
        module(torch.empty(2, 1, H, W, device="meta"))
    with pytest.raises(PDEBlocksError, match="floating-point"):
        module(torch.zeros(2, H, W, dtype=torch.int64))
    with pytest.raises(PDEBlocksError, match="ImageNetwork"):
        pbt.Module(two_blocks())

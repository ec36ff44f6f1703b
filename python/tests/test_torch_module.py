"""pdeblocks.torch.Module: gradcheck for every block kind, the Network's passes bitwise,
parameters per block that drive the network, state_dict round trips, the inference path,
certificates, float32, and training next to ordinary torch layers."""
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="needs torch (python/requirements-dev.txt, or pip install \"pdeblocks[torch]\")")

import pdeblocks.torch as pbt  # noqa: E402
from pdeblocks import (BoundedTau, DiffusionBlock, Diffusivity, FluxActivation, FSIBlock, ImplicitBlock,  # noqa: E402
                       LearnableDiffusivity, Network, PDEBlocksError, ResidualBlock, Stencil, TransposedStencil)

FWD = Stencil([-1.0, 1.0])
CEN2 = Stencil([1.0, -2.0, 1.0], -1)
ODD = Stencil([0.3, -0.8, 0.2, 0.1], -2)
MIX = LearnableDiffusivity([0.4, 0.3], [0.3, 1.2])

CONFIGS = {
    "diffusion": lambda: [DiffusionBlock([FWD, ODD], [Diffusivity("perona_malik", 0.7), MIX], 0.15)],
    "diffusion-bounded-tau": lambda: [DiffusionBlock([ODD], [Diffusivity("charbonnier", 0.8)], BoundedTau(0.7))],
    "fsi": lambda: [FSIBlock(DiffusionBlock([FWD], [Diffusivity("weickert", 0.9)], 0.05), 3)],
    "implicit": lambda: [ImplicitBlock(DiffusionBlock([CEN2], [MIX], 0.05), 3)],
    "residual": lambda: [ResidualBlock([FWD, ODD], [Stencil([0.5, -0.2, 0.3], -1), TransposedStencil(Stencil([0.7, -0.4]))],
                                       [0.1, -0.2], 0.05, sigma1="tanh",
                                       sigma2=FluxActivation(Diffusivity("perona_malik", 0.9), 0.4))],
}
CHAIN = lambda: [b for make in CONFIGS.values() for b in make()]  # noqa: E731


def signals(shape, seed=0):
    return np.cumsum(np.random.default_rng(seed).normal(scale=0.3, size=shape), axis=-1)


def through_module(module):
    return lambda x, *params: pbt.module._NetworkPass.apply(x, module, *params)


@pytest.mark.parametrize("kind", [*CONFIGS, "chain"])
def test_gradcheck_passes_for_every_block_kind(kind):
    module = pbt.Module(Network(CHAIN() if kind == "chain" else CONFIGS[kind]()))
    x = torch.from_numpy(signals((2, 9), seed=1)).requires_grad_()
    assert torch.autograd.gradcheck(through_module(module), (x, *module.block_parameters()), eps=1e-6, atol=1e-8)


@pytest.mark.parametrize("shape", [(24,), (3, 24), (2, 3, 24)])
def test_passes_equal_the_network_passes_bitwise(shape):
    f, w = signals(shape), signals(shape, seed=7)
    ref = Network(CHAIN())
    y_ref = ref.forward(f.reshape(-1, shape[-1]))
    gin_ref, gp_ref = ref.backward(w.reshape(-1, shape[-1]))
    module = pbt.Module(Network(CHAIN()))
    x = torch.from_numpy(f.copy()).requires_grad_()
    y = module(x)
    assert y.shape == x.shape
    assert np.array_equal(y.detach().numpy().reshape(-1, shape[-1]), y_ref)
    y.backward(torch.from_numpy(w))
    assert np.array_equal(x.grad.numpy().reshape(-1, shape[-1]), gin_ref)
    grads = torch.cat([p.grad for p in module.block_parameters()]).numpy()
    assert np.array_equal(grads, gp_ref)


def test_parameters_are_named_per_block_and_hold_each_blocks_slice():
    net = Network(CHAIN())
    module = pbt.Module(net)
    names = [name for name, _ in module.named_parameters()]
    assert names == ["block0_diffusion", "block1_diffusion", "block2_fsi", "block3_implicit", "block4_residual"]
    flat = net.parameters
    for p, (_, part) in zip(module.block_parameters(), net.block_slices()):
        assert isinstance(p, torch.nn.Parameter) and p.dtype == torch.float64
        assert np.array_equal(p.detach().numpy(), flat[part])


def test_an_optimiser_step_on_the_torch_parameters_drives_the_network():
    module = pbt.Module(Network(CHAIN()))
    opt = torch.optim.SGD(module.parameters(), lr=1e-2)
    x = torch.from_numpy(signals((4, 24)))
    module(x).square().sum().backward()
    opt.step()
    new = torch.cat([p.detach() for p in module.block_parameters()]).numpy()
    ref = Network(CHAIN())
    ref.set_parameters(new)
    assert np.array_equal(module(x).detach().numpy(), ref.forward(x.numpy()))
    assert np.array_equal(module.network.parameters, new)


def test_state_dict_round_trips_through_a_file(tmp_path):
    trained = pbt.Module(Network(CHAIN()))
    opt = torch.optim.Adam(trained.parameters(), lr=1e-2)
    x = torch.from_numpy(signals((4, 24)))
    for _ in range(3):
        opt.zero_grad()
        trained(x).square().mean().backward()
        opt.step()
    torch.save(trained.state_dict(), tmp_path / "module.pt")
    fresh = pbt.Module(Network(CHAIN()))
    assert not torch.equal(fresh(x), trained(x))
    fresh.load_state_dict(torch.load(tmp_path / "module.pt"))
    assert torch.equal(fresh(x), trained(x))
    assert np.array_equal(fresh.network.parameters, trained.network.parameters)


def test_no_grad_uses_the_inference_path_without_a_tape():
    f = signals((4, 64))
    net = Network(CHAIN())
    expected = net.predict(f)
    module = pbt.Module(net)
    net.tape_limit = 64     # bytes: any recorded forward pass of this size is refused
    with torch.no_grad():
        y = module(torch.from_numpy(f).requires_grad_())
    assert np.array_equal(y.numpy(), expected)
    frozen = module.requires_grad_(False)(torch.from_numpy(f))   # nothing needs a gradient: inference too
    assert np.array_equal(frozen.numpy(), expected)
    module.requires_grad_(True)
    with pytest.raises(PDEBlocksError, match="bytes"):
        module(torch.from_numpy(f))


def test_a_module_used_twice_in_one_graph_gets_the_gradient_of_the_composition():
    f, w = signals((3, 20)), signals((3, 20), seed=9)
    composed = Network(CHAIN() + CHAIN())
    y_ref = composed.forward(f)
    gin_ref, gp_ref = composed.backward(w)
    module = pbt.Module(Network(CHAIN()))
    x = torch.from_numpy(f.copy()).requires_grad_()
    y = module(module(x))
    assert np.array_equal(y.detach().numpy(), y_ref)
    y.backward(torch.from_numpy(w))
    np.testing.assert_allclose(x.grad.numpy(), gin_ref, rtol=1e-13, atol=1e-15)
    half = gp_ref.size // 2
    grads = torch.cat([p.grad for p in module.block_parameters()]).numpy()
    np.testing.assert_allclose(grads, gp_ref[:half] + gp_ref[half:], rtol=1e-12, atol=1e-14)


def test_certificate_and_projection_follow_the_torch_parameters():
    module = pbt.Module(Network([DiffusionBlock([FWD], [Diffusivity("perona_malik", 0.5)], 0.2)] * 2))
    assert module.certificate((8, 64)).certified
    with torch.no_grad():
        module.block1_diffusion[-1] = 0.9      # tau above 2 / ||K||^2 ~ 0.5
    cert = module.certificate(torch.Size([8, 64]))
    assert not cert.certified and cert.first_failure == 1
    assert module.project_stable(64, margin=0.9) == 1
    assert module.certificate(64).certified
    assert module.block1_diffusion[-1].item() == pytest.approx(0.9 * cert.blocks[1].tau_bound)


def test_float32_is_computed_in_float64_from_the_rounded_parameters():
    module = pbt.Module(Network(CHAIN())).float()
    f = signals((3, 24)).astype(np.float32)
    x = torch.from_numpy(f).requires_grad_()
    y = module(x)
    assert y.dtype == torch.float32
    ref = Network(CHAIN())
    ref.set_parameters(torch.cat([p.detach().double() for p in module.block_parameters()]).numpy())
    assert np.array_equal(y.detach().numpy(), ref.forward(f.astype(np.float64)).astype(np.float32))
    y.sum().backward()
    gin, gp = ref.backward(np.ones(f.shape))
    assert x.grad.dtype == torch.float32 and np.array_equal(x.grad.numpy(), gin.astype(np.float32))
    assert all(p.grad.dtype == torch.float32 for p in module.block_parameters())
    assert np.array_equal(torch.cat([p.grad for p in module.block_parameters()]).numpy(), gp.astype(np.float32))


def test_parameters_and_inputs_off_the_cpu_are_refused():
    module = pbt.Module(Network(CHAIN()))
    with pytest.raises(PDEBlocksError, match="CPU only"):
        module(torch.empty(2, 8, device="meta"))
    with pytest.raises(PDEBlocksError, match="pdeblocks.Network"):
        pbt.Module(CHAIN())


def test_conv1d_before_and_a_loss_after_train_together():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    n, batch = 64, 16
    clean = np.repeat(rng.uniform(-1, 1, size=(batch, 4)), n // 4, axis=1)
    noisy = torch.from_numpy(clean + rng.normal(scale=0.15, size=clean.shape)).unsqueeze(1)
    target = torch.from_numpy(clean).unsqueeze(1)
    conv = torch.nn.Conv1d(1, 1, 3, padding=1, padding_mode="replicate", dtype=torch.float64)
    diffusion = pbt.Module(Network([DiffusionBlock([FWD], [Diffusivity("perona_malik", 0.3)], 0.1)] * 4))
    model = torch.nn.Sequential(conv, diffusion)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(60):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(noisy), target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert conv.weight.grad.abs().sum() > 0 and diffusion.block0_diffusion.grad.abs().sum() > 0
    assert losses[-1] < 0.5 * losses[0]
    assert diffusion.certificate(n).certified

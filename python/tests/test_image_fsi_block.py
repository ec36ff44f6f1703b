"""FSIBlock2D (python/pdeblocks/image_network.py): one FSI cycle (paper eq. 7) of a 2D diffusion
block inside an ImageNetwork, against a numpy transcription through DiffusionBlock2D.forward,
its gradients against central differences, its certificate, files and bad input."""
import numpy as np
import pytest

import pdeblocks as pb
from pdeblocks import DiffusionBlock2D, FSIBlock2D, ImageNetwork, PDEBlocksError, Stencil2D

H, W, B = 5, 7, 2


def steps():
    k3 = Stencil2D([[0.3, -0.5, 0.2], [0.1, 0.6, -0.4], [-0.2, 0.25, 0.15]], offset=(-1, -1))
    kx, ky = pb.gradient_2d()
    return [DiffusionBlock2D([k3, kx, ky], [pb.LearnableDiffusivity([0.3, 0.5], [0.4, 1.3]), "charbonnier",
                                            "perona_malik"], 0.06, mu=0.4, coupling="channelwise", zero_mean=True),
            DiffusionBlock2D([kx, ky], "perona_malik", 0.05)]


def alpha(l):
    return (4 * l + 2) / (2 * l + 3)


@pytest.mark.parametrize("L", [1, 2, 5])
@pytest.mark.parametrize("k", [0, 1])
def test_forward_is_equation_7_with_the_steps_of_the_diffusion_block(L, k):
    step = steps()[k]
    x = np.random.default_rng(1).standard_normal((B, H, W))
    out = ImageNetwork([FSIBlock2D(step, L)]).predict(x)
    for b in range(B):
        prev = cur = x[b]
        for l in range(L):
            s = step.forward(cur, x[b] if step.has_reaction else None)
            prev, cur = cur, alpha(l) * s + (1 - alpha(l)) * prev
        np.testing.assert_allclose(out[b], cur, rtol=0, atol=1e-13 * np.abs(cur).max())


@pytest.mark.parametrize("k", [0, 1])
def test_backward_matches_central_differences_for_every_parameter_and_the_input(k):
    step = steps()[k]
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((B, H, W)), rng.standard_normal((B, H, W))
    net = ImageNetwork([step, FSIBlock2D(step, 3), step], threads=1)
    net.forward(x)
    gx, gp = net.backward(w)
    theta, h = net.parameters, 1e-6

    def loss(p=theta, xx=x):
        net.set_parameters(p)
        return float(np.sum(net.predict(xx) * w))

    kind, part = net.block_slices()[1]
    assert kind == "fsi2d"
    fd = []
    for i in np.arange(theta.size)[part]:
        e = np.zeros(theta.size)
        e[i] = h
        fd.append((loss(theta + e) - loss(theta - e)) / (2 * h))
    fd = np.array(fd)
    net.set_parameters(theta)
    assert np.linalg.norm(fd - gp[part]) <= 1e-6 * np.linalg.norm(gp[part])
    fdx = np.empty(x.size)
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = h
        fdx[i] = (loss(xx=x + e.reshape(x.shape)) - loss(xx=x - e.reshape(x.shape))) / (2 * h)
    assert np.linalg.norm(fdx - gx.reshape(-1)) <= 1e-6 * np.linalg.norm(gx)


def test_certificate_length_one_is_a_step_of_two_thirds_tau_and_longer_nonlinear_cycles_are_not_certified():
    for step in steps():
        bound = step.tau_bound((H, W))
        c1 = ImageNetwork([FSIBlock2D(step, 1)]).certificate((H, W)).blocks[0]
        assert c1.tau_bound == pytest.approx(1.5 * bound, rel=1e-14) and c1.certified == (c1.tau <= c1.tau_bound)
        c3 = ImageNetwork([FSIBlock2D(step, 3)]).certificate((H, W)).blocks[0]
        assert not c3.certified and np.isnan(c3.tau_bound) and "Theorem 2" in c3.reason
    kx, ky = pb.gradient_2d()
    linear = DiffusionBlock2D([kx, ky], "linear", 1.0)
    bound = linear.tau_bound((H, W))
    ok = DiffusionBlock2D([kx, ky], "linear", bound)
    assert ImageNetwork([FSIBlock2D(ok, 6)]).certificate((H, W)).certified
    # the certified linear cycle does not increase the norm (no data term: no reaction)
    x = np.random.default_rng(3).standard_normal((20, H, W))
    y = ImageNetwork([FSIBlock2D(ok, 6)]).predict(x)
    assert np.all(np.linalg.norm(y.reshape(20, -1), axis=1) <= np.linalg.norm(x.reshape(20, -1), axis=1) * (1 + 1e-12))
    over = DiffusionBlock2D([kx, ky], "linear", 1.01 * bound)
    assert not ImageNetwork([FSIBlock2D(over, 6)]).certificate((H, W)).certified


def test_save_load_round_trip_keeps_the_fsi_block(tmp_path):
    net = ImageNetwork([FSIBlock2D(steps()[0], 4), steps()[1]])
    net.save(tmp_path / "fsi.pdbnet")
    loaded = ImageNetwork.load(tmp_path / "fsi.pdbnet")
    x = np.random.default_rng(4).standard_normal((B, H, W))
    assert np.array_equal(loaded.predict(x), net.predict(x))
    assert [k for k, _ in loaded.block_slices()] == ["fsi2d", "diffusion2d"]


@pytest.mark.parametrize("L", [0, -1, 65, 2.5, "3"])
def test_bad_cycle_lengths_and_steps_raise(L):
    with pytest.raises(PDEBlocksError):
        FSIBlock2D(steps()[0], L)


def test_a_step_that_is_not_a_diffusion_block_raises():
    kx, ky = pb.gradient_2d()
    with pytest.raises(PDEBlocksError, match="DiffusionBlock2D"):
        FSIBlock2D(pb.ResidualBlock2D(kx, ky), 2)

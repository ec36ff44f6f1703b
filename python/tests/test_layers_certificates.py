"""Stability certificates (Theorem 2) of blocks and networks."""
import numpy as np
import pytest

import pdeblocks as pb
from pdeblocks import (BoundedTau, DiffusionBlock, Diffusivity, FluxActivation, FSIBlock, ImplicitBlock,
                       LearnableDiffusivity, Network, ResidualBlock, Stencil, TransposedStencil)

from test_layers import dense

N = 48


def random_certified_network(rng):
    """A random network of every certifiable kind, with step sizes inside their bounds."""
    blocks = []
    for k in range(6):
        C = rng.integers(1, 4)
        filters = [Stencil(rng.normal(size=rng.integers(2, 5)), int(rng.integers(-2, 1))) for _ in range(C)]
        gs = [LearnableDiffusivity(rng.uniform(0.1, 0.3, size=2), rng.uniform(0.05, 1.0, size=2)) if rng.random() < 0.5
              else Diffusivity(pb.DIFFUSIVITIES[rng.integers(0, 5)], rng.uniform(0.1, 2.0)) for _ in range(C)]
        if k == 4:
            blocks.append(DiffusionBlock(filters, gs, BoundedTau(rng.uniform(0.1, 0.99))))
        elif k == 5:
            blocks.append(FSIBlock(DiffusionBlock(filters, "linear", 1.0), int(rng.integers(1, 6))))
        else:
            blocks.append(DiffusionBlock(filters, gs, 1.0))
    blocks.append(ImplicitBlock(DiffusionBlock([Stencil([-1.0, 1.0])], "linear", 0.2), 3))
    blocks.append(ResidualBlock.diffusion([Stencil([1.0, -2.0, 1.0], -1), Stencil([-1.0, 1.0])],
                                          Diffusivity("perona_malik", 0.3), 0.05))
    net = Network(blocks)
    net.project_stable(N, margin=1.0)      # every free tau to its certified bound: the hardest case
    return net


def test_random_certified_networks_never_increase_the_norm_over_1000_inputs():
    rng = np.random.default_rng(11)
    for trial in range(4):
        net = random_certified_network(rng)
        cert = net.certificate(N)
        assert cert.certified, [b.reason for b in cert.blocks]
        x = rng.normal(size=(250, N)) * rng.uniform(0.01, 10, size=(250, 1))
        x[:50] = np.cumsum(x[:50], axis=1)          # smooth and rough signals
        y = net.forward(x)
        assert np.all(np.linalg.norm(y, axis=1) <= np.linalg.norm(x, axis=1) * (1 + 1e-12))


def test_tau_bound_of_one_filter_is_theorem_two():
    K, g = Stencil([-1.0, 1.0]), Diffusivity("weickert", 0.5)
    net = Network([DiffusionBlock(K, g, 0.1)])
    c = net.certificate(N).blocks[0]
    assert c.tau_bound == pytest.approx(pb.stable_tau(K, g, N), rel=1e-12)
    assert c.tau_bound_lipschitz == pytest.approx(pb.stable_tau(K, g, N, bound="lipschitz"), rel=1e-12)
    assert c.tau_bound_lipschitz < c.tau_bound


def test_tau_bound_of_several_filters_is_two_over_the_largest_eigenvalue():
    filters = [Stencil([-1.0, 1.0]), Stencil([0.5, -0.2, 0.7], -1), Stencil([0.3, 0.0, 0.0, -0.3], -2)]
    gs = [LearnableDiffusivity([0.3, 0.2], [0.1, 1.0]), Diffusivity("charbonnier", 1.0), Diffusivity("linear")]
    sup = [0.5, 1.0, 1.0]
    A = sum(s * dense(K.weights, K.offset, N).T @ dense(K.weights, K.offset, N) for s, K in zip(sup, filters))
    exact = 2 / np.linalg.eigvalsh(A).max()
    c = Network([DiffusionBlock(filters, gs, 0.1)]).certificate(N).blocks[0]
    assert exact * (1 - 1e-7) <= c.tau_bound <= exact


def test_tau_above_the_bound_is_uncertified_and_a_block_can_grow_the_norm():
    K, g = Stencil([-1.0, 1.0]), Diffusivity("linear")
    bound = pb.stable_tau(K, g, N)
    net = Network([DiffusionBlock(K, g, 1.1 * bound)])
    cert = net.certificate(N)
    assert not cert.certified and cert.first_failure == 0
    assert "exceeds" in cert.blocks[0].reason
    x = (-1.0) ** np.arange(N)                          # the highest frequency
    assert np.linalg.norm(net.forward(x)) > np.linalg.norm(x)


def test_negative_tau_is_uncertified():
    cert = Network([DiffusionBlock(Stencil([-1.0, 1.0]), "linear", -0.1)]).certificate(N)
    assert not cert.certified and "negative" in cert.blocks[0].reason


def test_generic_residual_block_with_w2_not_minus_w1_transpose_is_uncertified_naming_the_condition():
    K = Stencil([-1.0, 1.0])
    block = ResidualBlock([K], [TransposedStencil(Stencil([-1.0, 0.9]))], [0.0], 0.0,
                          FluxActivation("perona_malik", 0.1), "identity")
    c = Network([block]).certificate(N).blocks[0]
    assert not c.certified
    assert "W2[0] ≠ −W1[0]ᵀ" in c.reason


def test_residual_block_lists_every_failing_condition():
    K = Stencil([-1.0, 1.0])
    block = ResidualBlock([K], [K], [0.5], 0.1, "relu", "tanh")
    reason = Network([block]).certificate(N).blocks[0].reason
    for part in ["σ2 = tanh is not the identity", "b1[0] = 0.5", "b2 = 0.1", "σ1 = relu is not a flux", "W2[0] ≠ −W1[0]ᵀ"]:
        assert part in reason


def test_mirrored_convolution_w2_is_recognised_when_it_equals_minus_w1_transpose():
    """The centred second difference is symmetric as a mirrored matrix: W2 = -W1 as a
    convolution is then exactly -W1^T."""
    K = Stencil([1.0, -2.0, 1.0], -1)
    block = ResidualBlock([K], [Stencil([-1.0, 2.0, -1.0], -1)], [0.0], 0.0, FluxActivation("charbonnier", 0.05))
    c = Network([block]).certificate(N).blocks[0]
    assert c.certified, c.reason


def test_residual_diffusion_structure_equals_the_diffusion_block_and_is_certified():
    filters = [Stencil([-1.0, 1.0]), Stencil([0.2, -0.5, 0.3], -1)]
    g = Diffusivity("perona_malik", 0.4)
    res = Network([ResidualBlock.diffusion(filters, g, 0.2)])
    dif = Network([DiffusionBlock(filters, g, 0.2)])
    x = np.random.default_rng(3).normal(size=(3, N))
    assert np.max(np.abs(res.forward(x) - dif.forward(x))) <= 1e-14
    rc, dc = res.certificate(N).blocks[0], dif.certificate(N).blocks[0]
    assert rc.certified and dc.certified and rc.tau_bound == pytest.approx(dc.tau_bound, rel=1e-12)


def test_bounded_tau_is_certified_for_any_parameters():
    rng = np.random.default_rng(5)
    net = Network([DiffusionBlock([Stencil([-1.0, 1.0, 0.5], -1), Stencil([0.1, 0.2])],
                                  [LearnableDiffusivity([0.5], [0.2]), Diffusivity("weickert", 0.3)],
                                  BoundedTau(0.5))])
    for _ in range(50):
        p = rng.normal(scale=3.0, size=net.parameter_count)
        net.set_parameters(p)
        cert = net.certificate(N)
        assert cert.certified, cert.blocks[0].reason
        assert cert.blocks[0].tau <= cert.blocks[0].tau_bound


def test_learnable_diffusivity_stays_in_bounds_for_any_parameters():
    rng = np.random.default_rng(6)
    net = Network([DiffusionBlock(Stencil([-1.0, 1.0]), LearnableDiffusivity([0.2, 0.3, 0.1], [0.1, 0.5, 2.0]), 0.1)])
    s = np.linspace(0, 5, 201)
    for _ in range(50):
        p = net.parameters
        p[2:8] = rng.normal(scale=4.0, size=6)
        net.set_parameters(p)
        alpha, rho = p[2:5], p[5:8]
        a = np.exp(alpha) / (1 + np.exp(alpha).sum())
        g = sum(a[j] * np.exp(-s ** 2 / (2 * np.exp(2 * rho[j]))) for j in range(3))
        assert a.sum() < 1 and np.all(g >= 0) and np.all(np.diff(g) <= 0)
        assert net.certificate(N).blocks[0].tau_bound >= 2 / (a.sum() * 4) - 1e-12


def test_project_stable_restores_the_certificate():
    net = Network([DiffusionBlock(Stencil([-1.0, 1.0]), "perona_malik", 5.0),
                   DiffusionBlock(Stencil([-1.0, 1.0]), "perona_malik", -1.0),
                   DiffusionBlock(Stencil([-1.0, 1.0]), "perona_malik", 0.1)])
    assert not net.certificate(N).certified
    assert net.project_stable(N, margin=0.9) == 2
    cert = net.certificate(N)
    assert cert.certified
    assert cert.blocks[0].tau == pytest.approx(0.9 * cert.blocks[0].tau_bound)
    assert cert.blocks[1].tau == 0 and cert.blocks[2].tau == 0.1


def test_nonlinear_fsi_and_implicit_blocks_are_uncertified_with_reasons():
    step = DiffusionBlock(Stencil([-1.0, 1.0]), "perona_malik", 0.01)
    cert = Network([FSIBlock(step, 3), ImplicitBlock(step, 2)]).certificate(N)
    assert not cert.blocks[0].certified and "extrapolation" in cert.blocks[0].reason
    assert not cert.blocks[1].certified and "fixed-point" in cert.blocks[1].reason
    one = Network([FSIBlock(step, 1), ImplicitBlock(step, 1)]).certificate(N)
    assert one.certified


def test_linear_fsi_cycle_is_certified_up_to_the_bound_and_stable_there():
    K = Stencil([1.0, -2.0, 1.0], -1)
    bound = pb.stable_tau(K, "linear", N)
    net = Network([FSIBlock(DiffusionBlock(K, "linear", bound), 6)])
    assert net.certificate(N).certified
    A = dense(K.weights, K.offset, N)
    _, V = np.linalg.eigh(A.T @ A)
    y = net.forward(V.T)                                 # every eigenvector
    assert np.all(np.linalg.norm(y, axis=1) <= 1 + 1e-12)


def test_linear_implicit_sweeps_are_certified_up_to_half_the_bound():
    K = Stencil([-1.0, 1.0])
    bound = pb.stable_tau(K, "linear", N)
    ok = Network([ImplicitBlock(DiffusionBlock(K, "linear", 0.5 * bound), 4)])
    bad = Network([ImplicitBlock(DiffusionBlock(K, "linear", 0.6 * bound), 4)])
    assert ok.certificate(N).certified and not bad.certificate(N).certified
    x = (-1.0) ** np.arange(N)
    assert np.linalg.norm(bad.forward(x)) > np.linalg.norm(x)      # the bound is not vacuous


def test_w2_structure_detection_agrees_with_dense_matrices():
    """The detector of W2 = -W1^T against a dense comparison, on random and on exact cases."""
    rng = np.random.default_rng(12)
    n = 9
    cases = []
    for _ in range(30):
        K = Stencil(rng.integers(-2, 3, size=rng.integers(1, 4)).astype(float), int(rng.integers(-2, 2)))
        mode = rng.random() < 0.5
        if rng.random() < 0.5:                                # built to match
            S = Stencil(-K.weights, K.offset)
            cases.append((K, TransposedStencil(S) if mode else S))
        else:
            S = Stencil(rng.integers(-2, 3, size=rng.integers(1, 4)).astype(float), int(rng.integers(-2, 2)))
            cases.append((K, TransposedStencil(S) if mode else S))
    cases.append((Stencil([1.0, -2.0, 1.0], -1), Stencil([-1.0, 2.0, -1.0], -1)))   # symmetric: conv works
    cases.append((Stencil([-1.0, 1.0]), Stencil([1.0, -1.0])))                      # -K as conv: not -K^T
    seen = set()
    for K, W2 in cases:
        if not np.any(K.weights):
            continue
        S = W2.stencil if isinstance(W2, TransposedStencil) else W2
        M2 = dense(S.weights, S.offset, n)
        M2 = M2.T if isinstance(W2, TransposedStencil) else M2
        expected = np.array_equal(M2, -dense(K.weights, K.offset, n).T)
        block = ResidualBlock([K], [W2], [0.0], 0.0, FluxActivation("linear", 1e-3), "identity")
        reason = Network([block]).certificate(n).blocks[0].reason
        assert ("W2[0] ≠ −W1[0]ᵀ" not in reason) == expected, (K, W2)
        seen.add(expected)
    assert seen == {True, False}

"""Layers: forward passes against dense numpy transcriptions of eqs. 2, 4, 7, 9; gradient
checks (central differences); adjoint checks (complex-step JVPs of the references);
batching, threads, no mutation; Adam."""
import numpy as np
import pytest

import pdeblocks as pb
from pdeblocks import (BoundedTau, DiffusionBlock, Diffusivity, FluxActivation, FSIBlock, ImplicitBlock,
                       LearnableDiffusivity, Network, ResidualBlock, Stencil, TransposedStencil)

WEICKERT_C = 3.31488


# ---------------------------------------------------------------------------------------
# Independent dense references (complex-capable, so complex steps give exact JVPs)
# ---------------------------------------------------------------------------------------
def mirror(j, n):
    k = j % (2 * n)
    return k if k < n else 2 * n - 1 - k


def dense(w, offset, n):
    """The n x n matrix of a stencil with half-sample mirrored boundaries."""
    w = np.asarray(w)
    M = np.zeros((n, n), dtype=w.dtype)
    for i in range(n):
        for j in range(w.size):
            M[i, mirror(i + offset + j, n)] += w[j]
    return M


def g_builtin(name, s2, loglam):
    x2 = s2 / np.exp(2 * loglam)
    if name == "linear":
        return np.ones_like(s2)
    if name == "perona_malik":
        return np.exp(-0.5 * x2)
    if name == "perona_malik_rational":
        return 1 / (1 + x2)
    if name == "charbonnier":
        return 1 / np.sqrt(1 + x2)
    if name == "weickert":
        safe = np.where(x2 == 0, 1, x2)
        return np.where(x2 == 0, 1, 1 - np.exp(-WEICKERT_C / safe ** 4))
    raise ValueError(name)


def g_mixture(s2, alpha, rho):
    e = np.exp(alpha)
    a = e / (1 + e.sum())
    return sum(a[j] * np.exp(-s2 / (2 * np.exp(2 * rho[j]))) for j in range(len(alpha)))


def take(theta, pos, k):
    return theta[pos:pos + k], pos + k


def diffusivity_flux(g, theta, pos):
    """(Phi, new position) for a diffusivity description and the flat parameters."""
    if isinstance(g, LearnableDiffusivity):
        J = g.weights.size
        alpha, pos = take(theta, pos, J)
        rho, pos = take(theta, pos, J)
        return (lambda s: g_mixture(s * s, alpha, rho) * s), pos
    if g.name == "linear":
        return (lambda s: s), pos
    (r,), pos = take(theta, pos, 1)
    return (lambda s: g_builtin(g.name, s * s, r) * s), pos


def cabs(w):
    return w * np.sign(np.real(w))


def ref_step(block, theta, pos, n):
    """R(x) = -tau sum_c K_c^T Phi_c(K_c x) of a DiffusionBlock, parsed from theta."""
    Ks, ws = [], []
    for K in block.filters:
        w, pos = take(theta, pos, K.weights.size)
        ws.append(w)
        Ks.append(dense(w, K.offset, n))
    fluxes = []
    for g in block.diffusivities:
        f, pos = diffusivity_flux(g, theta, pos)
        fluxes.append(f)
    (t,), pos = take(theta, pos, 1)
    if block._mode == 1:
        S = sum(cabs(w).sum() ** 2 for w in ws)
        tau = 1 / (1 + np.exp(-t)) / S
    else:
        tau = t
    R = lambda x: -tau * sum(K.T @ f(K @ x) for K, f in zip(Ks, fluxes))
    return R, pos


def activation(a, theta, pos):
    if a == "identity":
        return (lambda s: s), pos
    if a == "relu":
        return (lambda s: np.where(np.real(s) > 0, s, 0)), pos
    if a == "tanh":
        return np.tanh, pos
    f, pos = diffusivity_flux(pb.diffusivities.as_diffusivity(a.g), theta, pos)
    return (lambda s: a.tau * f(s)), pos


def ref_block(block, theta, pos, x):
    n = x.shape[-1]
    if isinstance(block, DiffusionBlock):
        R, pos = ref_step(block, theta, pos, n)
        return x + R(x), pos
    if isinstance(block, FSIBlock):
        R, pos = ref_step(block.block, theta, pos, n)
        prev = cur = x
        for l in range(block.cycle_length):
            a = (4 * l + 2) / (2 * l + 3)
            prev, cur = cur, a * (cur + R(cur)) + (1 - a) * prev
        return cur, pos
    if isinstance(block, ImplicitBlock):
        R, pos = ref_step(block.block, theta, pos, n)
        u = x
        for _ in range(block.iterations):
            u = x + R(u)
        return u, pos
    # residual block, eq. 2
    C = len(block.W1)
    W1, W2 = [], []
    for K in block.W1:
        w, pos = take(theta, pos, K.weights.size)
        W1.append(dense(w, K.offset, n))
    for K in block.W2:
        S = K.stencil if isinstance(K, TransposedStencil) else K
        w, pos = take(theta, pos, S.weights.size)
        M = dense(w, S.offset, n)
        W2.append(M.T if isinstance(K, TransposedStencil) else M)
    b1, pos = take(theta, pos, C)
    (b2,), pos = take(theta, pos, 1)
    s1, pos = activation(block.sigma1, theta, pos)
    s2, pos = activation(block.sigma2, theta, pos)
    r = x + sum(W2[c] @ s1(W1[c] @ x + b1[c]) for c in range(C)) + b2
    return s2(r), pos


def ref_network(blocks, theta, x):
    pos = 0
    for b in blocks:
        x, pos = ref_block(b, theta, pos, x)
    assert pos == theta.size, "the flat parameter layout differs from the documented one"
    return x


# ---------------------------------------------------------------------------------------
# Configurations: every block kind, activation, diffusivity kind and parameter kind
# ---------------------------------------------------------------------------------------
FWD = Stencil([-1.0, 1.0])
CEN2 = Stencil([1.0, -2.0, 1.0], -1)
ODD = Stencil([0.3, -0.8, 0.2, 0.1], -2)
MIX = LearnableDiffusivity([0.4, 0.3], [0.3, 1.2])


def configs():
    out = {}
    for name in pb.DIFFUSIVITIES:
        out[f"diffusion-{name}"] = [DiffusionBlock([FWD, ODD], [Diffusivity(name, 0.7), Diffusivity(name, 1.3)], 0.15)]
    out["diffusion-learnable"] = [DiffusionBlock([FWD, CEN2], [MIX, LearnableDiffusivity([0.6], [0.5])], 0.1)]
    out["diffusion-bounded-tau"] = [DiffusionBlock([ODD, FWD], [MIX, Diffusivity("perona_malik", 0.8)], BoundedTau(0.7))]
    out["fsi"] = [FSIBlock(DiffusionBlock([FWD, ODD], [MIX, Diffusivity("charbonnier", 0.9)], 0.05), 4)]
    out["fsi-bounded"] = [FSIBlock(DiffusionBlock([CEN2], [Diffusivity("perona_malik", 0.6)], BoundedTau(0.4)), 3)]
    out["implicit"] = [ImplicitBlock(DiffusionBlock([FWD, ODD], [Diffusivity("weickert", 0.8), MIX], 0.05), 3)]
    out["implicit-bounded"] = [ImplicitBlock(DiffusionBlock([CEN2], [MIX], BoundedTau(0.3)), 2)]
    acts = ["identity", "relu", "tanh"] + [FluxActivation(Diffusivity(name, 0.9), 0.4) for name in pb.DIFFUSIVITIES]
    for k, a in enumerate(acts):
        label = a if isinstance(a, str) else f"flux-{a.g.name}"
        out[f"residual-{label}"] = [ResidualBlock(
            [FWD, ODD], [Stencil([0.5, -0.2, 0.3], -1), TransposedStencil(Stencil([0.7, -0.4]))],
            [0.1, -0.2], 0.05, sigma1=a, sigma2=acts[(k + 3) % len(acts)])]
    out["chain"] = (out["diffusion-perona_malik"] + out["residual-tanh"] + out["fsi"] + out["implicit"]
                    + out["diffusion-learnable"])
    return out


CONFIGS = configs()


def kind_groups(blocks):
    """Index groups of the flat parameter vector by parameter kind."""
    groups = {}
    pos = 0

    def add(kind, k):
        nonlocal pos
        groups.setdefault(kind, []).extend(range(pos, pos + k))
        pos += k

    def diffusivity(g):
        if isinstance(g, LearnableDiffusivity):
            add("mixture-logits", g.weights.size)
            add("mixture-log-contrasts", g.weights.size)
        elif g.name != "linear":
            add(f"log-lambda-{g.name}", 1)

    for b in blocks:
        if isinstance(b, (FSIBlock, ImplicitBlock)):
            b = b.block
        if isinstance(b, DiffusionBlock):
            for K in b.filters:
                add("filter-weights", K.weights.size)
            for g in b.diffusivities:
                diffusivity(g)
            add("tau" if b._mode == 0 else "tau-theta", 1)
        else:
            for K in b.W1:
                add("W1", K.weights.size)
            for K in b.W2:
                add("W2", (K.stencil if isinstance(K, TransposedStencil) else K).weights.size)
            add("b1", len(b.W1))
            add("b2", 1)
            for s in (b.sigma1, b.sigma2):
                if isinstance(s, FluxActivation) and pb.diffusivities.as_diffusivity(s.g).name != "linear":
                    add("activation-log-lambda", 1)
    return groups


N = 12


def sample(seed, batch=3):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(batch, N)), rng.normal(size=(batch, N))


# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", pb.DIFFUSIVITIES)
@pytest.mark.parametrize("K", [FWD, CEN2, ODD], ids=["forward", "centred2", "odd"])
def test_diffusion_block_forward_equals_one_explicit_step(name, K):
    g = Diffusivity(name, 0.6)
    x = np.random.default_rng(1).normal(size=(4, 40))
    tau = 0.9 * pb.stable_tau(K, g, 40)
    net = Network([DiffusionBlock(K, g, tau)])
    assert np.max(np.abs(net.forward(x) - pb.explicit(x, K, g, tau, 1))) <= 1e-14


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_forward_matches_dense_transcription(name):
    blocks = CONFIGS[name]
    net = Network(blocks)
    x, _ = sample(2)
    ref = np.stack([ref_network(blocks, net.parameters, row) for row in x])
    assert np.max(np.abs(net.forward(x) - ref)) <= 1e-13 * max(1.0, np.max(np.abs(ref)))


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_backward_matches_central_differences_for_every_parameter_kind(name):
    blocks = CONFIGS[name]
    net = Network(blocks)
    x, w = sample(3)
    theta = net.parameters
    net.forward(x)
    gx, gp = net.backward(w)

    def loss(p, xx):
        net.set_parameters(p)
        return float(np.sum(w * net.predict(xx)))

    h = 1e-6
    fd = np.array([(loss(theta + h * e, x) - loss(theta - h * e, x)) / (2 * h) for e in np.eye(theta.size)])
    groups = kind_groups(blocks)
    assert sorted(i for g in groups.values() for i in g) == list(range(theta.size))
    for kind, idx in groups.items():
        err = np.linalg.norm(fd[idx] - gp[idx]) / max(np.linalg.norm(gp[idx]), 1e-300)
        assert err <= 1e-6, f"{kind}: relative error {err:.2e}"
    net.set_parameters(theta)
    fdx = np.zeros_like(x)
    for b in range(x.shape[0]):
        for i in range(N):
            e = np.zeros_like(x)
            e[b, i] = h
            fdx[b, i] = (loss(theta, x + e) - loss(theta, x - e)) / (2 * h)
    assert np.linalg.norm(fdx - gx) / np.linalg.norm(gx) <= 1e-6


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_adjoint_identity_against_complex_step_jvp(name):
    """<J v, w> = <v, J^T w> to 1e-10, J v exact by complex steps through the reference."""
    blocks = CONFIGS[name]
    net = Network(blocks)
    theta = net.parameters
    rng = np.random.default_rng(4)
    x, w = sample(5, batch=1)
    x, w = x[0], w[0]
    net.forward(x)
    gx, gp = net.backward(w)
    h = 1e-30
    v = rng.normal(size=N)
    jv = np.imag(ref_network(blocks, theta.astype(complex), x + 1j * h * v)) / h
    assert abs(jv @ w - v @ gx) <= 1e-10 * abs(v @ gx)
    for kind, idx in kind_groups(blocks).items():
        d = np.zeros(theta.size)
        d[idx] = rng.normal(size=len(idx))
        jd = np.imag(ref_network(blocks, theta + 1j * h * d, x.astype(complex))) / h
        assert abs(jd @ w - d @ gp) <= 1e-10 * max(abs(d @ gp), 1e-300), kind


@pytest.mark.parametrize("name", ["chain", "residual-relu", "fsi", "implicit"])
def test_batch_results_equal_per_signal_results(name):
    net = Network(CONFIGS[name])
    x, w = sample(6, batch=5)
    y = net.forward(x)
    gx, gp = net.backward(w)
    gsum = np.zeros_like(gp)
    for b in range(x.shape[0]):
        yb = net.forward(x[b])
        gxb, gpb = net.backward(w[b])
        assert np.array_equal(yb, y[b]) and np.array_equal(gxb, gx[b])
        gsum += gpb
    assert np.allclose(gsum, gp, rtol=1e-12, atol=1e-14)


def test_results_are_bit_identical_for_any_thread_count():
    x = np.random.default_rng(7).normal(size=(70, 50))
    w = np.random.default_rng(8).normal(size=(70, 50))
    results = []
    for threads in (1, 2, 3):
        net = Network(CONFIGS["chain"], threads=threads)
        y = net.forward(x)
        results.append((y, *net.backward(w)))
    for r in results[1:]:
        for a, b in zip(results[0], r):
            assert np.array_equal(a, b)


def test_inputs_are_not_modified():
    net = Network(CONFIGS["chain"])
    x, w = sample(9)
    x0, w0, p0 = x.copy(), w.copy(), net.parameters
    x.flags.writeable = False
    w.flags.writeable = False
    net.forward(x)
    net.predict(x)
    net.backward(w)
    p = net.parameters
    p.flags.writeable = False
    net.set_parameters(p)
    assert np.array_equal(x, x0) and np.array_equal(w, w0) and np.array_equal(p, p0)


def test_predict_equals_forward():
    net = Network(CONFIGS["chain"])
    x, _ = sample(10, batch=4)
    assert np.array_equal(net.predict(x), net.forward(x))


def test_one_dimensional_signal_gives_one_dimensional_results():
    net = Network(CONFIGS["fsi"])
    x, w = sample(11, batch=1)
    y = net.forward(x[0])
    gx, gp = net.backward(w[0])
    assert y.shape == (N,) and gx.shape == (N,) and gp.shape == (net.parameter_count,)


def test_fsi_cycle_reaches_its_super_step_in_the_linear_case():
    """Linear FSI cycle of length L = FED cycle: diffusion time L(L+1)/3 tau (slope at 0)."""
    K, tau, L, n = FWD, 0.4, 5, 64
    net = Network([FSIBlock(DiffusionBlock(K, "linear", tau), L)])
    A = dense(K.weights, K.offset, n)
    A = A.T @ A
    evals, V = np.linalg.eigh(A)
    x = V[:, 1]                                          # a smooth eigenvector
    y = net.forward(x)
    p = x @ y                                            # the cycle polynomial at tau*lambda
    lam = evals[1]
    assert abs(p - 1 + L * (L + 1) / 3 * tau * lam) <= 1e-2 * L * (L + 1) / 3 * tau * lam


def test_adam_minimises_a_quadratic_without_modifying_inputs():
    target = np.array([1.0, -2.0, 3.0])
    opt = pb.Adam(lr=0.1)
    p = np.zeros(3)
    for _ in range(500):
        g = p - target
        g0, p0 = g.copy(), p.copy()
        q = opt.step(p, g)
        assert np.array_equal(g, g0) and np.array_equal(p, p0)
        p = q
    assert np.max(np.abs(p - target)) < 1e-3


def test_module_examples_run():
    import doctest
    import pdeblocks.layers
    import pdeblocks.optim
    for module in (pdeblocks.layers, pdeblocks.optim):
        result = doctest.testmod(module)
        assert result.failed == 0 and (module is pdeblocks.optim or result.attempted > 0)


# ---------------------------------------------------------------------------------------
# The layers and the schemes are two readings of the same numerics: an FSI block is one
# FSI cycle (eq. 7), an implicit block is one implicit step with L fixed-point sweeps (eq. 9).
@pytest.mark.parametrize("name", pb.DIFFUSIVITIES)
@pytest.mark.parametrize("L", [1, 3, 8])
def test_fsi_and_implicit_blocks_equal_the_schemes(name, L):
    g = Diffusivity(name, 0.6)
    x = np.random.default_rng(7).normal(size=(3, 40))
    tau = 0.9 * pb.stable_tau(FWD, g, 40)
    fsi_net = Network([FSIBlock(DiffusionBlock(FWD, g, tau), L)])
    np.testing.assert_allclose(fsi_net.forward(x), pb.fsi(x, FWD, g, tau, L, 1), rtol=0, atol=1e-13)
    tau_c = 0.5 * pb.contraction_tau(FWD, g, 40)
    imp_net = Network([ImplicitBlock(DiffusionBlock(FWD, g, tau_c), L)])
    np.testing.assert_allclose(imp_net.forward(x), pb.implicit(x, FWD, g, tau_c, 1, L), rtol=0, atol=1e-13)

"""DiffusionBlock2D (python/pdeblocks/image_blocks.py) against a dense numpy transcription of

    u_out = u - tau * ( sum_c K_c^T Phi_c(K u) + mu (u - f) ),

its backward pass against central differences, and its refusal of bad input."""
import numpy as np
import pytest

from pdeblocks import Diffusivity, PDEBlocksError, Stencil2D
from pdeblocks.blocks import LearnableDiffusivity
from pdeblocks.image_blocks import DiffusionBlock2D
from reference_diffusivities import REFERENCE

KINDS = sorted(REFERENCE) + ["learnable"]
SHAPES = [(4, 7), (1, 5), (2, 1), (2, 3), (5, 2)]


def mirror(i, n):
    i %= 2 * n
    return i if i < n else 2 * n - 1 - i


def dense(stencil, h, w):
    """The (h*w) x (h*w) matrix of a 2D stencil with half-sample mirror boundaries."""
    wts, (oy, ox) = stencil.weights, stencil.offset
    m = np.zeros((h * w, h * w))
    for i in range(h):
        for j in range(w):
            for a in range(wts.shape[0]):
                for b in range(wts.shape[1]):
                    m[i * w + j, mirror(i + oy + a, h) * w + mirror(j + ox + b, w)] += wts[a, b]
    return m


def g_of(spec):
    """g(s^2) in numpy for a diffusivity argument."""
    if isinstance(spec, LearnableDiffusivity):
        return lambda s2: sum(a * np.exp(-s2 / (2 * l * l)) for a, l in zip(spec.weights, spec.contrasts))
    return lambda s2: REFERENCE[spec.name].g(s2, spec.lam)


def reference(filters, gs, coupling, tau, mu, u, f, zero_mean):
    b, h, w = u.shape
    if zero_mean:
        filters = [Stencil2D(k.weights - k.weights.mean(), k.offset) for k in filters]
    mats = [dense(k, h, w) for k in filters]
    out = np.empty_like(u)
    for r in range(b):
        x = u[r].ravel()
        z = [m @ x for m in mats]
        if coupling == "isotropic":
            s = sum(zc * zc for zc in z)
            phi = [g_of(gs[0])(s) * zc for zc in z]
        else:
            phi = [g_of(g)(zc * zc) * zc for g, zc in zip(gs, z)]
        res = sum(m.T @ p for m, p in zip(mats, phi)) + (mu * (x - f[r].ravel()) if mu else 0)
        out[r] = (x - tau * res).reshape(h, w)
    return out


def diffusivity(kind, k=0):
    if kind == "learnable":
        return LearnableDiffusivity([0.3, 0.45], [0.4 + 0.1 * k, 1.2])
    return Diffusivity(kind, 0.6 + 0.1 * k)


def filters():
    return [Stencil2D([[0.3, -0.5, 0.2], [0.1, 0.6, -0.4], [-0.2, 0.25, 0.15]], (-1, -1)),
            Stencil2D([[-1.0, 1.0]]), Stencil2D([[-0.8], [0.9]])]


def make(kind, coupling, mu, zero_mean, bounded=False, tau=0.12):
    gs = [diffusivity(kind)] if coupling == "isotropic" else [diffusivity(kind, k) for k in range(3)]
    return DiffusionBlock2D(filters(), gs if len(gs) > 1 else gs[0], tau, mu, coupling=coupling,
                            zero_mean=zero_mean, bounded=bounded), gs


CASES = [(kind, coupling, mu, zm) for kind in KINDS for coupling in ("isotropic", "channelwise")
         for mu, zm in ((None, False), (0.7, True))]


@pytest.mark.parametrize("kind,coupling,mu,zero_mean", CASES)
def test_forward_equals_the_dense_transcription_of_the_formula(kind, coupling, mu, zero_mean):
    rng = np.random.default_rng(1)
    block, gs = make(kind, coupling, mu, zero_mean)
    for h, w in SHAPES:
        u, f = rng.normal(size=(2, h, w)), rng.normal(size=(2, h, w))
        got = block.forward(u, f)
        want = reference(filters(), gs, coupling, 0.12, mu or 0.0, u, f, zero_mean)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)
    one = rng.normal(size=(3, 4))  # a single (H, W) image keeps its shape
    np.testing.assert_allclose(block.forward(one, one + 1), block.forward(one[None], one[None] + 1)[0], rtol=0, atol=0)


def groups(block):
    n_w = sum(k.weights.size for k in block.filters)
    n = block.parameter_count
    out = {"weights": list(range(n_w)), "tau": [n - 1 - block.has_reaction]}
    if block.has_reaction:
        out["mu"] = [n - 1]
    rest = [i for i in range(n) if i >= n_w and i not in out["tau"] + out.get("mu", [])]
    if rest:
        out["diffusivity"] = rest
    return out


SHAPE_CASES = [(kind, coupling, mu, zm, (3, 11) if kind != "learnable" else (4, 3))  # width >= 8: eight lanes too
               for kind, coupling, mu, zm in CASES] + [
    ("perona_malik", "isotropic", 0.7, True, (1, 5)), ("charbonnier", "channelwise", 0.7, False, (2, 1)),
    ("learnable", "isotropic", None, False, (1, 1)), ("weickert", "channelwise", None, True, (2, 2))]


@pytest.mark.parametrize("kind,coupling,mu,zero_mean,shape", SHAPE_CASES)
def test_backward_matches_central_differences(kind, coupling, mu, zero_mean, shape):
    rng = np.random.default_rng(2)
    block, _ = make(kind, coupling, mu, zero_mean)
    h, w = shape
    u, f, v = (rng.normal(size=(2, h, w)) for _ in range(3))
    block.forward(u, f)
    gu, gf, gp = block.backward(v)
    theta, e = block.parameters, 1e-6

    def loss(p=theta, uu=u, ff=f):
        block.parameters = p
        return float(np.sum(v * block.forward(uu, ff)))

    fd = np.array([(loss(theta + e * d) - loss(theta - e * d)) / (2 * e) for d in np.eye(theta.size)])
    block.parameters = theta
    for name, idx in groups(block).items():
        err = np.linalg.norm(fd[idx] - gp[idx]) / max(np.linalg.norm(gp[idx]), 1e-12)
        assert err <= 1e-6, (name, err)
    for name, x, g in (("u", u, gu), ("f", f, gf)):
        fdx = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            d = np.zeros_like(x)
            d[i] = e
            fdx[i] = (loss(uu=u + d) if name == "u" else loss(ff=f + d)) / (2 * e) - (
                loss(uu=u - d) if name == "u" else loss(ff=f - d)) / (2 * e)
        if name == "f" and mu is None:
            assert np.all(g == 0) and np.all(fdx == 0)
        else:
            assert np.linalg.norm(fdx - g) <= 1e-6 * np.linalg.norm(g), name


def test_zero_mean_filters_keep_constant_images_without_reaction():
    block, _ = make("perona_malik", "isotropic", None, True)
    u = np.full((2, 3, 5), 1.25)
    np.testing.assert_allclose(block.forward(u), u, rtol=0, atol=1e-14)


def test_reaction_weight_is_softplus_of_its_parameter():
    block, _ = make("charbonnier", "channelwise", 0.7, False)
    assert np.log1p(np.exp(block.parameters[-1])) == pytest.approx(0.7, rel=1e-14)
    # the reaction term alone: with zero filters, u_out = u - tau mu (u - f)
    zero = DiffusionBlock2D(Stencil2D([[0.0]]), "linear", 0.1, 0.7)
    u, f = np.ones((2, 2)), np.zeros((2, 2))
    np.testing.assert_allclose(zero.forward(u, f), u - 0.1 * 0.7 * u, rtol=1e-14)


def test_bounded_tau_refuses_a_step_above_the_certified_bound():
    block, _ = make("perona_malik", "isotropic", 0.5, False, bounded=True)
    bound = block.tau_bound((4, 5))
    u = np.ones((4, 5))
    p = block.parameters
    p[-2] = bound
    block.parameters = p
    block.forward(u, u)  # at the bound: accepted
    p[-2] = bound * 1.001
    block.parameters = p
    with pytest.raises(PDEBlocksError, match="certified bound"):
        block.forward(u, u)
    with pytest.raises(PDEBlocksError, match="certified bound"):
        block.backward(u, u, u)
    p[-2] = -0.01
    block.parameters = p
    with pytest.raises(PDEBlocksError):
        block.forward(u, u)
    # the bound is 2/(sup g lambda_max + mu) with the dense lambda_max below its certified value
    lam = np.linalg.eigvalsh(sum(dense(k, 4, 5).T @ dense(k, 4, 5) for k in filters())).max()
    assert bound <= 2 / (lam + 0.5) * (1 + 1e-12)
    assert bound >= 0.5 * 2 / (lam + 0.5)


def test_bad_input_is_refused_and_changes_nothing():
    block, _ = make("weickert", "isotropic", 0.3, False)
    u = np.zeros((3, 4))
    before = block.parameters
    with pytest.raises(PDEBlocksError):
        block.forward(u, np.zeros((4, 3)))          # f's shape differs
    with pytest.raises(PDEBlocksError):
        block.forward(u)                            # f missing with a reaction term
    with pytest.raises(PDEBlocksError):
        block.forward(np.zeros(5), np.zeros(5))     # not an image
    bad = u.copy()
    bad[1, 2] = np.nan
    with pytest.raises(PDEBlocksError):
        block.forward(bad, u)
    with pytest.raises(PDEBlocksError):
        block.forward(u, bad)
    block.forward(u, u)
    with pytest.raises(PDEBlocksError):
        block.backward(np.zeros((2, 2)))            # grad_out's shape differs
    with pytest.raises(PDEBlocksError):
        block.parameters = before[:-1]
    p = before.copy()
    p[0] = np.inf
    block.parameters = p
    with pytest.raises(PDEBlocksError):
        block.forward(u, u)
    block.parameters = before
    np.testing.assert_array_equal(block.parameters, before)
    with pytest.raises(PDEBlocksError):
        DiffusionBlock2D(filters(), [Diffusivity("linear", 1)] * 2, 0.1, coupling="channelwise")
    with pytest.raises(PDEBlocksError):
        DiffusionBlock2D(filters(), "linear", 0.1, coupling="diagonal")
    with pytest.raises(PDEBlocksError):
        DiffusionBlock2D(filters(), "linear", 0.1, mu=0.0)
    with pytest.raises(PDEBlocksError):
        DiffusionBlock2D([], "linear", 0.1)
    with pytest.raises(PDEBlocksError):
        DiffusionBlock2D(filters(), "linear", 0.1).backward(u)  # no forward pass yet


def test_a_result_that_overflows_is_an_error_and_writes_nothing():
    block = DiffusionBlock2D(filters(), ["linear"] * 3, 0.2, 0.5, coupling="channelwise")
    u = np.where(np.arange(12).reshape(3, 4) % 2 == 0, 1.5e308, -1.5e308)
    with pytest.raises(PDEBlocksError, match="overflow") as e:
        block.forward(u, np.zeros_like(u))
    assert e.value.status == -3   # PDB_ERR_NONFINITE
    with pytest.raises(PDEBlocksError, match="overflow"):
        block.backward(u, u, np.zeros_like(u))

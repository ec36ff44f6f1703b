"""RBFDiffusivity (python/pdeblocks/rbf_diffusivity.py) in DiffusionBlock2D and ImageNetwork:
g and the block against a dense numpy transcription of

    g = sigmoid(b + sum_j c_j exp(-(|s|/lam - x_j)^2 / (2 gamma^2))),  x_j = 3j/(J-1), gamma = 3/(J-1),

gradients against central differences, the network file (round trip, documented bytes, files
without RBF), bad input, and the torch Module."""
import gc
import struct

import numpy as np
import pytest

import pdeblocks as pb
from pdeblocks import DiffusionBlock2D, ImageNetwork, PDEBlocksError, RBFDiffusivity, Stencil2D
from pdeblocks import _abi
from pdeblocks._lib import call, lib, ptr
from image_reference import matrix

H, W = 4, 5


@pytest.fixture(autouse=True)
def _free_handles():
    yield
    gc.collect()


def g_dense(c, b, lam, s2):
    """The formula term by term (independent of the class)."""
    J = len(c)
    x = np.sqrt(np.asarray(s2, dtype=float)) / lam
    h = np.full_like(x, b)
    for j in range(J):
        h += c[j] * np.exp(-(x - 3 * j / (J - 1)) ** 2 / (2 * (3 / (J - 1)) ** 2))
    return 1 / (1 + np.exp(-h))


def rbf(k=0):
    return RBFDiffusivity([1.5, -2.0 + 0.3 * k, 1.2, 0.4, -0.7], bias=-0.5 + 0.1 * k, scale=0.8 + 0.1 * k)


def bank():
    return [Stencil2D([[0.3, -0.5, 0.2], [0.1, 0.6, -0.4], [-0.2, 0.25, 0.15]], (-1, -1)),
            Stencil2D([[-1.0, 1.0]]), Stencil2D([[-0.8], [0.9]])]


def make(coupling, mu=0.4, zero_mean=False, tau=0.12):
    gs = rbf() if coupling == "isotropic" else [rbf(k) for k in range(3)]
    return DiffusionBlock2D(bank(), gs, tau, mu, coupling=coupling, zero_mean=zero_mean)


def dense_block(filters, gs, coupling, tau, mu, u, f):
    """``u - tau (sum_c K_c^T Phi_c(K u) + mu (u - f))`` with dense matrices and g_dense."""
    mats = [matrix(k.weights, k.offset, H, W) for k in filters]
    out = np.empty_like(u)
    for r in range(u.shape[0]):
        x = u[r].ravel()
        z = [m @ x for m in mats]
        if coupling == "isotropic":
            s = sum(zc * zc for zc in z)
            phi = [g_dense(gs[0].coefficients, gs[0].bias, gs[0].scale, s) * zc for zc in z]
        else:
            phi = [g_dense(g.coefficients, g.bias, g.scale, zc * zc) * zc for g, zc in zip(gs, z)]
        res = sum(m.T @ q for m, q in zip(mats, phi)) + mu * (x - f[r].ravel())
        out[r] = (x - tau * res).reshape(H, W)
    return out


def test_g_and_the_library_flux_match_the_formula():
    g = rbf()
    s = np.linspace(-4, 4, 161)
    np.testing.assert_allclose(g.g(s * s), g_dense(g.coefficients, g.bias, g.scale, s * s), rtol=0, atol=1e-15)
    # the library's g: a channelwise block with K = identity and tau = 1 returns u - Phi(u)
    probe = DiffusionBlock2D(Stencil2D([[1.0]]), g, 1.0, coupling="channelwise")
    u = s.reshape(1, 1, -1)
    phi = (u - probe.forward(u)).ravel()
    np.testing.assert_allclose(phi, g_dense(g.coefficients, g.bias, g.scale, s * s) * s, rtol=0, atol=1e-14)
    # not monotone in |s|:
    assert np.any(np.diff(g.g(s[80:] ** 2)) < 0) and np.any(np.diff(g.g(s[80:] ** 2)) > 0)
    assert 0 < g.g(0.0) < 1 and g(4.0) == g.g(4.0)


@pytest.mark.parametrize("coupling", ["isotropic", "channelwise"])
@pytest.mark.parametrize("mu,zero_mean", [(None, False), (0.4, True)])
def test_block_forward_matches_the_dense_formula(coupling, mu, zero_mean):
    rng = np.random.default_rng(3)
    u, f = rng.standard_normal((2, H, W)), rng.standard_normal((2, H, W))
    block = make(coupling, mu, zero_mean)
    filters = [Stencil2D(k.weights - k.weights.mean(), k.offset) for k in bank()] if zero_mean else bank()
    gs = [rbf()] if coupling == "isotropic" else [rbf(k) for k in range(3)]
    want = dense_block(filters, gs, coupling, 0.12, mu or 0.0, u, f)
    np.testing.assert_allclose(block.forward(u, f), want, rtol=0, atol=1e-13)


def central(fun, x, eps=1e-6):
    out = np.empty(x.size)
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = eps
        out[i] = (fun(x + e.reshape(x.shape)) - fun(x - e.reshape(x.shape))) / (2 * eps)
    return out


def rel(a, b):
    a, b = np.ravel(a), np.ravel(b)
    return np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300)


@pytest.mark.parametrize("coupling", ["isotropic", "channelwise"])
def test_block_backward_matches_central_differences(coupling):
    rng = np.random.default_rng(5)
    u, f, v = (rng.standard_normal((2, H, W)) for _ in range(3))
    block = make(coupling, 0.4, True)
    p0 = block.parameters
    gu, gf, gp = block.backward(v, u, f)

    def loss_p(p):
        block.parameters = p
        return float(np.sum(block.forward(u, f) * v))

    fd = central(loss_p, p0)
    block.parameters = p0
    J = 5
    nw = sum(k.weights.size for k in bank())
    groups = {"weights": slice(0, nw), "diffusivity": slice(nw, nw + (J + 2) * (1 if coupling == "isotropic" else 3)),
              "tau, m": slice(-2, None)}
    for name, sl in groups.items():
        assert rel(gp[sl], fd[sl]) <= 1e-6, name
    assert rel(gu, central(lambda x: float(np.sum(block.forward(x, f) * v)), u)) <= 1e-6
    assert rel(gf, central(lambda x: float(np.sum(block.forward(u, x) * v)), f)) <= 1e-6


def network():
    kx, ky = pb.gradient_2d()
    return ImageNetwork([DiffusionBlock2D(bank(), rbf(), 0.1, mu=0.3, zero_mean=True),
                         DiffusionBlock2D([kx, ky], [rbf(1), pb.LearnableDiffusivity([0.3, 0.5], [0.4, 1.3])], 0.1,
                                          coupling="channelwise"),
                         DiffusionBlock2D([kx, ky], RBFDiffusivity.perona_malik_like(6, 0.5), 0.1)])


def test_image_network_gradient_matches_central_differences():
    rng = np.random.default_rng(9)
    x, w = rng.standard_normal((2, H, W)), rng.standard_normal((2, H, W))
    net = network()
    p0 = net.parameters
    net.forward(x)
    gin, gp = net.backward(w)

    def loss_p(p):
        net.set_parameters(p)
        return float(np.sum(net.predict(x) * w))

    assert rel(gp, central(loss_p, p0)) <= 1e-6
    net.set_parameters(p0)
    assert rel(gin, central(lambda y: float(np.sum(net.predict(y) * w)), x)) <= 1e-6


def test_inference_and_threads_are_bitwise_the_training_pass():
    x, w = np.random.default_rng(8).standard_normal((2, 5, H, W))
    one, many = network(), network()
    one.threads, many.threads = 1, 3
    y = one.forward(x)
    assert np.array_equal(one.predict(x), y) and np.array_equal(many.predict(x), y)
    assert np.array_equal(many.forward(x), y)
    for a, b in zip(one.backward(w), many.backward(w)):
        assert np.array_equal(a, b)


def test_save_load_round_trip_is_bitwise(tmp_path):
    x = np.random.default_rng(2).standard_normal((3, H, W))
    net = network()
    net.save(tmp_path / "rbf.pdbnet")
    loaded = ImageNetwork.load(tmp_path / "rbf.pdbnet")
    assert np.array_equal(loaded.parameters.view(np.uint64), net.parameters.view(np.uint64))
    assert np.array_equal(loaded.predict(x), net.predict(x))
    loaded.save(tmp_path / "again.pdbnet")
    assert (tmp_path / "again.pdbnet").read_bytes() == (tmp_path / "rbf.pdbnet").read_bytes()


def fnv1a(data):
    h = 0xcbf29ce484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def documented_file(blocks):
    """An image-network file written from the documented format (NetworkFile, version 2):
    ``(coupling, flags, [(rows, cols, oy, ox, weights)], [diffusivity records], tau, m)``."""
    body = struct.pack("<II", 1, len(blocks))
    for coupling, flags, filters, gs, tau, m in blocks:
        body += struct.pack("<IIII", 0, coupling, flags, len(filters))
        for rows, cols, oy, ox, wts in filters:
            body += struct.pack(f"<IIqq{rows * cols}d", rows, cols, oy, ox, *wts)
        for g in gs:
            body += g
        body += struct.pack("<d", tau) + (struct.pack("<d", m) if m is not None else b"")
    head = b"PDBNETv\0" + struct.pack("<IIQ", 2, 0, len(body)) + body
    return head + struct.pack("<Q", fnv1a(head))


def test_files_follow_the_documented_bytes_and_old_files_without_rbf_still_load(tmp_path):
    kx, ky = pb.gradient_2d()
    x = np.random.default_rng(4).standard_normal((2, H, W))
    stencils = [(k.shape[0], k.shape[1], k.offset[0], k.offset[1], k.weights.ravel()) for k in (kx, ky)]
    perona = struct.pack("<Id", 1, np.log(0.7))
    mixture = struct.pack("<II2d2d", 100, 2, *np.log(np.array([0.3, 0.5]) / 0.2), *np.log([0.4, 1.3]))
    old = tmp_path / "old.pdbnet"      # what a library without RBF wrote: built-in and mixture codes only
    old.write_bytes(documented_file([(1, 0, stencils, [perona, mixture], 0.1, None)]))
    want = ImageNetwork([DiffusionBlock2D([kx, ky], [pb.Diffusivity("perona_malik", 0.7),
                                                     pb.LearnableDiffusivity([0.3, 0.5], [0.4, 1.3])], 0.1,
                                          coupling="channelwise")])
    loaded = ImageNetwork.load(old)
    np.testing.assert_allclose(loaded.parameters, want.parameters, rtol=1e-15, atol=0)
    want.set_parameters(loaded.parameters)
    want.save(tmp_path / "resaved.pdbnet")
    assert (tmp_path / "resaved.pdbnet").read_bytes() == old.read_bytes()
    assert np.array_equal(loaded.predict(x), want.predict(x))
    # RBF: code 101, u32 J, J coefficients, bias, log(lam)
    g = rbf()
    record = struct.pack("<II5ddd", 101, 5, *g.coefficients, g.bias, np.log(g.scale))
    new = tmp_path / "rbf.pdbnet"
    new.write_bytes(documented_file([(0, 2, stencils, [record], 0.1, 0.25)]))
    net = ImageNetwork([DiffusionBlock2D([kx, ky], g, 0.1, mu=np.log1p(np.exp(0.25)))])
    net.set_parameters(np.concatenate([net.parameters[:-1], [0.25]]))
    net.save(tmp_path / "written.pdbnet")
    assert (tmp_path / "written.pdbnet").read_bytes() == new.read_bytes()
    assert np.array_equal(ImageNetwork.load(new).predict(x), net.predict(x))


def test_perona_malik_like_starts_close_to_the_rational_perona_malik():
    for J, tol in [(4, 0.08), (8, 0.03), (16, 0.015)]:
        g = RBFDiffusivity.perona_malik_like(J, 0.2)
        s = np.linspace(0, 0.6, 301)
        assert np.max(np.abs(g.g(s * s) - 1 / (1 + (s / 0.2) ** 2))) <= tol
        assert abs(g.g(1e6) - 1 / (1 + np.exp(4))) <= 1e-15
        assert g.bias == -4.0 and g.scale == 0.2 and g.terms == J


@pytest.mark.parametrize("make_bad", [
    lambda: RBFDiffusivity([1.0]),
    lambda: RBFDiffusivity(np.zeros(65)),
    lambda: RBFDiffusivity([1.0, np.nan]),
    lambda: RBFDiffusivity([1.0, 2.0], bias=np.inf),
    lambda: RBFDiffusivity([1.0, 2.0], scale=0.0),
    lambda: RBFDiffusivity.perona_malik_like(65),
])
def test_bad_rbf_diffusivities_raise(make_bad):
    with pytest.raises(PDEBlocksError):
        make_bad()


@pytest.mark.parametrize("terms,value", [(1, 0.5), (65, 0.5), (5, np.nan), (5, np.inf)])
def test_bad_rbf_blocks_raise_through_the_abi_and_change_nothing(terms, value):
    net = network()
    x = np.random.default_rng(1).standard_normal((H, W))
    before, out, count = net.parameters, net.predict(x), len(net)
    kx, ky = pb.gradient_2d()
    shapes = np.array([[k.shape[0], k.shape[1], k.offset[0], k.offset[1]] for k in (kx, ky)], dtype=np.int64).ravel()
    kinds = np.array([_abi.PDB_IMAGE_DIFFUSIVITY_RBF], dtype=np.int32)
    tj = np.array([terms], dtype=np.int64)
    params = np.concatenate([kx.weights.ravel(), ky.weights.ravel(), np.full(terms, value), [-1.0, 0.0, 0.1]])
    with pytest.raises(PDEBlocksError):
        call(lib.pdb_image_network_add_diffusion, net._h, 2, ptr(shapes), _abi.PDB_COUPLING_ISOTROPIC, ptr(kinds),
             ptr(tj), 0, ptr(params), params.size)
    bad = before.copy()
    bad[sum(k.weights.size for k in bank())] = np.nan       # the first RBF coefficient
    with pytest.raises(PDEBlocksError):
        net.set_parameters(bad)
    assert len(net) == count and np.array_equal(net.parameters, before)
    assert np.array_equal(net.predict(x), out)


def test_torch_module_wraps_rbf_blocks_and_gradcheck_passes():
    torch = pytest.importorskip("torch")
    import pdeblocks.torch as pbt
    module = pbt.Module(network())
    x = torch.from_numpy(np.random.default_rng(6).standard_normal((2, 1, H, W)) * 0.5).requires_grad_()
    params = module.block_parameters()
    assert torch.autograd.gradcheck(lambda y, *p: pbt.module._NetworkPass.apply(y, module, *p), (x, *params),
                                    eps=1e-6, atol=1e-8)

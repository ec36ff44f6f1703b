"""pdeblocks.torch schemes: the numpy API's results bitwise, gradients checked by finite
differences (torch.autograd.gradcheck) and against a dense transcription, tensor handling."""
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="needs torch (python/requirements-dev.txt, or pip install \"pdeblocks[torch]\")")

import pdeblocks as pb  # noqa: E402
import pdeblocks.torch as pbt  # noqa: E402
from pdeblocks import PDEBlocksError, UnstableError  # noqa: E402
from conftest import dense_stencil  # noqa: E402
from reference_diffusivities import REFERENCE  # noqa: E402

FWD = pb.Stencil([-1.0, 1.0])
ODD = pb.Stencil([0.3, -0.8, 0.2, 0.1], -2)
PM = pb.Diffusivity("perona_malik", 0.7)

# (name, torch function, numpy function, positional arguments after K, g; keywords)
SCHEMES = [
    ("explicit", pbt.explicit, pb.explicit, (0.2, 4), {}),
    ("fsi", pbt.fsi, pb.fsi, (0.2, 3, 2), {"update": "step"}),
    ("fed", pbt.fed, pb.fed, (0.2, 3, 2), {"update": "step"}),
    ("fed-plain", pbt.fed, pb.fed, (0.2, 4, 1), {"update": "step", "reorder": False}),
    ("implicit", pbt.implicit, pb.implicit, (0.1, 2, 3), {}),
]
IDS = [s[0] for s in SCHEMES]


def signals(shape, seed=0):
    return np.cumsum(np.random.default_rng(seed).normal(scale=0.4, size=shape), axis=-1)


@pytest.mark.parametrize("name, tfn, nfn, args, kw", SCHEMES, ids=IDS)
@pytest.mark.parametrize("shape", [(17,), (3, 17), (2, 3, 17)])
def test_results_equal_the_numpy_api_bitwise(name, tfn, nfn, args, kw, shape):
    f = signals(shape)
    for K, g in ((FWD, PM), (ODD, pb.Diffusivity("charbonnier", 1.3))):
        expected = nfn(f.reshape(-1, shape[-1]), K, g, *args, **kw).reshape(shape)
        x = torch.from_numpy(f.copy()).requires_grad_()
        y = tfn(x, K, g, *args, **kw)
        assert y.shape == x.shape and y.dtype == torch.float64
        assert np.array_equal(y.detach().numpy(), expected)
        with torch.no_grad():
            assert np.array_equal(tfn(x, K, g, *args, **kw).numpy(), expected)


@pytest.mark.parametrize("name, tfn, nfn, args, kw", SCHEMES, ids=IDS)
@pytest.mark.parametrize("g", ["perona_malik", "charbonnier", "linear", "weickert"])
def test_gradcheck_passes_for_every_scheme(name, tfn, nfn, args, kw, g):
    x = torch.from_numpy(signals((2, 9), seed=1)).requires_grad_()
    g = pb.Diffusivity(g, 0.8)
    assert torch.autograd.gradcheck(lambda t: tfn(t, ODD, g, *args, **kw), (x,), eps=1e-6, atol=1e-8)


def test_explicit_gradient_equals_a_dense_transcription_of_the_chain_rule():
    n, tau, steps, lam = 12, 0.15, 5, 0.6
    f, w = signals(n, seed=2), np.random.default_rng(3).normal(size=n)
    Kd = dense_stencil(ODD.weights, ODD.offset, n)
    ref = REFERENCE["perona_malik"]
    jacobians, u = [], f.copy()
    for _ in range(steps):       # u <- u - tau K^T Phi(K u);  J = I - tau K^T diag(Phi'(K u)) K
        y = Kd @ u
        jacobians.append(np.eye(n) - tau * Kd.T @ np.diag(ref.flux_derivative(y, lam)) @ Kd)
        u = u - tau * Kd.T @ ref.flux(y, lam)
    v = w.copy()
    for J in reversed(jacobians):
        v = J.T @ v
    x = torch.from_numpy(f.copy()).requires_grad_()
    y = pbt.explicit(x, ODD, pb.Diffusivity("perona_malik", lam), tau, steps)
    np.testing.assert_allclose(y.detach().numpy(), u, rtol=1e-12, atol=1e-13)
    y.backward(torch.from_numpy(w))
    np.testing.assert_allclose(x.grad.numpy(), v, rtol=1e-12, atol=1e-13)


def test_float64_contiguous_input_and_the_result_share_memory_with_numpy(monkeypatch):
    seen = {}
    original = pb.schemes.explicit

    def spy(rows, *args, **kw):
        seen["in"] = rows
        seen["out"] = original(rows, *args, **kw)
        return seen["out"]
    monkeypatch.setattr(pb.schemes, "explicit", spy)
    x = torch.from_numpy(signals((4, 32)))
    y = pbt.explicit(x, FWD, PM, 0.2, 3)
    assert np.shares_memory(seen["in"], x.numpy())
    assert np.shares_memory(seen["out"], y.numpy())


def test_float32_is_computed_in_float64_and_returned_in_float32():
    f = signals((3, 20), seed=4).astype(np.float32)
    x = torch.from_numpy(f).requires_grad_()
    y = pbt.explicit(x, FWD, PM, 0.2, 3)
    assert y.dtype == torch.float32
    expected = pb.explicit(f.astype(np.float64), FWD, PM, 0.2, 3).astype(np.float32)
    assert np.array_equal(y.detach().numpy(), expected)
    w = torch.ones_like(x)
    y.backward(w)
    x64 = torch.from_numpy(f.astype(np.float64)).requires_grad_()
    pbt.explicit(x64, FWD, PM, 0.2, 3).backward(w.double())
    assert x.grad.dtype == torch.float32
    assert np.array_equal(x.grad.numpy(), x64.grad.numpy().astype(np.float32))


def test_a_non_contiguous_input_gives_the_result_of_its_contiguous_copy():
    base = torch.from_numpy(signals((20, 3)))
    x = base.t()
    assert not x.is_contiguous()
    assert np.array_equal(pbt.explicit(x, FWD, PM, 0.2, 3).numpy(), pb.explicit(np.ascontiguousarray(x.numpy()),
                                                                                 FWD, PM, 0.2, 3))


def test_tensors_off_the_cpu_and_non_float_tensors_are_refused_by_name():
    with pytest.raises(PDEBlocksError, match="device meta.*CPU only"):
        pbt.explicit(torch.empty(3, 8, device="meta"), FWD, PM, 0.2, 1)
    with pytest.raises(PDEBlocksError, match="floating-point"):
        pbt.explicit(torch.arange(8), FWD, PM, 0.2, 1)
    with pytest.raises(PDEBlocksError, match="torch.Tensor"):
        pbt.explicit(np.zeros(8), FWD, PM, 0.2, 1)
    with pytest.raises(PDEBlocksError, match="1D"):
        pbt.explicit(torch.zeros(8, dtype=torch.float64), pb.gradient_2d()[0], PM, 0.2, 1)


def test_validation_and_errors_are_those_of_the_numpy_api():
    x = torch.from_numpy(signals((2, 16))).requires_grad_()
    with pytest.raises(UnstableError):
        pbt.explicit(x, FWD, PM, 0.9, 2)
    with pytest.raises(UnstableError):
        pbt.implicit(x, FWD, PM, 0.4, 1, 2)
    y = pbt.explicit(x, FWD, PM, 0.9, 2, check_stability=False)
    assert np.array_equal(y.detach().numpy(), pb.explicit(x.detach().numpy(), FWD, PM, 0.9, 2, check_stability=False))


def test_variants_without_a_library_backward_are_refused_only_when_a_gradient_is_needed():
    f = signals((2, 16))
    x = torch.from_numpy(f.copy()).requires_grad_()
    for call, pattern in ((lambda t: pbt.fed(t, FWD, PM, 0.2, 3, 1), "update='step'"),
                          (lambda t: pbt.fsi(t, FWD, PM, 0.2, 3, 1, update="cycle"), "update='step'"),
                          (lambda t: pbt.implicit(t, FWD, PM, 0.1, 1, 5, tol=1e-3), "tol=0")):
        with pytest.raises(PDEBlocksError, match=pattern):
            call(x)
        with torch.no_grad():
            y = call(x)
        assert np.array_equal(y.numpy(), call(torch.from_numpy(f.copy())).numpy())
    assert np.array_equal(pbt.fed(x.detach(), FWD, PM, 0.2, 3, 1).numpy(), pb.fed(f, FWD, PM, 0.2, 3, 1))


def test_zero_steps_are_the_identity_with_the_identity_gradient():
    x = torch.from_numpy(signals((2, 10))).requires_grad_()
    y = pbt.explicit(x, FWD, PM, 0.2, 0)
    assert torch.equal(y, x)
    w = torch.from_numpy(signals((2, 10), seed=5))
    y.backward(w)
    assert torch.equal(x.grad, w)


def test_import_without_torch_names_the_extra():
    code = "import sys; sys.modules['torch'] = None\nimport pdeblocks.torch"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode != 0
    assert "ImportError" in res.stderr and 'pip install "pdeblocks[torch]"' in res.stderr

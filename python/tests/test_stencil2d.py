"""2D stencils and filter banks against a dense numpy transcription of the definition
(half-sample mirror per axis), the adjoint identity, and bad input."""
import numpy as np
import pytest

import pdeblocks as pdb
from pdeblocks import PDEBlocksError, Stencil2D
from pdeblocks.stencil2d import adjoint_bank, apply_bank, bank_matrix

RNG = np.random.default_rng(14)


def mirror(j, n):
    k = j % (2 * n)
    return k if k < n else 2 * n - 1 - k


def dense(K, h, w):
    """(H*W) x (H*W) matrix of (K u)[i, j] = sum_ab w[a, b] u~[i+oy+a, j+ox+b]."""
    wts, (oy, ox) = K.weights, K.offset
    m = np.zeros((h * w, h * w))
    for i in range(h):
        for j in range(w):
            for a in range(wts.shape[0]):
                for b in range(wts.shape[1]):
                    m[i * w + j, mirror(i + oy + a, h) * w + mirror(j + ox + b, w)] += wts[a, b]
    return m


def random_stencil(max_side=7, large_offsets=False):
    r, c = RNG.integers(1, max_side + 1, size=2)
    if large_offsets:
        oy, ox = RNG.integers(-30, 30, size=2)
    else:
        oy, ox = -RNG.integers(0, r + 1), -RNG.integers(0, c + 1)
    return Stencil2D(RNG.standard_normal((r, c)), offset=(int(oy), int(ox)))


SHAPES = [(1, 1), (1, 5), (6, 1), (2, 2), (2, 9), (7, 3), (5, 12), (11, 20)]


@pytest.mark.parametrize("shape", SHAPES)
def test_apply_and_adjoint_equal_dense_transcription(shape):
    h, w = shape
    for large in (False, True):
        for _ in range(6):
            K = random_stencil(large_offsets=large)
            m = dense(K, h, w)
            u = RNG.standard_normal((h, w))
            np.testing.assert_allclose(K.apply(u).ravel(), m @ u.ravel(), rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(K.adjoint(u).ravel(), m.T @ u.ravel(), rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(K(u), K.apply(u))
            np.testing.assert_array_equal(K.matrix((h, w)), m)


def test_batches_apply_each_image_and_keep_shape():
    K = Stencil2D(RNG.standard_normal((3, 3)), offset=(-1, -1))
    u = RNG.standard_normal((4, 9, 13))
    out = K.apply(u)
    assert out.shape == (4, 9, 13)
    for b in range(4):
        np.testing.assert_allclose(out[b], K.apply(u[b]), rtol=1e-14, atol=1e-14)
        np.testing.assert_allclose(K.adjoint(u)[b], K.adjoint(u[b]), rtol=1e-14, atol=1e-14)


def test_bank_stacks_channels_and_adjoint_sums_them():
    bank = [random_stencil(4) for _ in range(3)]
    h, w = 6, 10
    u = RNG.standard_normal((2, h, w))
    y = apply_bank(bank, u)
    assert y.shape == (2, 3, h, w)
    for c, K in enumerate(bank):
        np.testing.assert_allclose(y[:, c], K.apply(u), rtol=1e-14, atol=1e-14)
    v = RNG.standard_normal((2, 3, h, w))
    back = adjoint_bank(bank, v)
    np.testing.assert_allclose(back, sum(K.adjoint(v[:, c]) for c, K in enumerate(bank)), rtol=1e-12, atol=1e-12)
    # adjoint identity <K u, v> = <u, K^T v>
    assert np.isclose(np.vdot(y, v), np.vdot(u, back), rtol=1e-12)
    # dense stacked matrix
    m = bank_matrix(bank, (h, w))
    np.testing.assert_allclose(m, np.vstack([dense(K, h, w) for K in bank]))
    np.testing.assert_allclose(apply_bank(bank, u[0]).ravel(), m @ u[0].ravel(), rtol=1e-12, atol=1e-12)


def test_gradient_2d_is_forward_differences_zero_at_the_far_edges():
    u = RNG.standard_normal((5, 7))
    kx, ky = pdb.gradient_2d(0.5)
    gx, gy = kx(u), ky(u)
    np.testing.assert_allclose(gx[:, :-1], (u[:, 1:] - u[:, :-1]) / 0.5)
    np.testing.assert_allclose(gy[:-1], (u[1:] - u[:-1]) / 0.5)
    assert np.all(gx[:, -1] == 0) and np.all(gy[-1] == 0)


def test_bad_input_raises_clear_errors():
    K = Stencil2D([[1.0, -1.0]])
    with pytest.raises(PDEBlocksError, match="dimensions"):
        K.apply(np.zeros(5))
    with pytest.raises(PDEBlocksError, match="dimensions"):
        K.apply(np.zeros((1, 2, 3, 4)))
    with pytest.raises(PDEBlocksError, match="not finite|NaN|non-finite|nonfinite"):
        K.apply(np.array([[1.0, np.nan]]))
    with pytest.raises(PDEBlocksError, match="positive"):
        K.apply(np.zeros((0, 4)))
    with pytest.raises(PDEBlocksError, match="channels"):
        adjoint_bank(pdb.gradient_2d(), np.zeros((3, 4, 4)))
    with pytest.raises(PDEBlocksError):
        apply_bank([], np.zeros((2, 2)))
    with pytest.raises(PDEBlocksError, match="2\\^24"):
        K.matrix((100, 100))
    with pytest.raises(PDEBlocksError, match="pair"):
        K.matrix(5)


def test_c_entry_point_refuses_overlap_and_writes_nothing():
    from pdeblocks import _abi
    from pdeblocks._lib import lib, ptr
    from pdeblocks.stencil2d import as_bank
    bank = as_bank(pdb.gradient_2d())
    buf = np.arange(2 * 3 * 4, dtype=float)
    before = buf.copy()
    # out (2 channels x 3 x 4) starting inside u (3 x 4): refused, buffer untouched
    status = lib.pdb_stencil2d_apply(*bank.c, ptr(buf), 1, 3, 4, ptr(buf))
    assert status == _abi.PDB_ERR_INVALID
    assert "overlaps" in lib.pdb_last_error().decode()
    np.testing.assert_array_equal(buf, before)

"""Certified lambda_max(sum_c K_c^T K_c) of 2D filter banks against numpy.linalg.eigvalsh of
the dense stacked matrix, the closed form for gradient_2d, and Theorem 2's inequality."""
import numpy as np
import pytest

import pdeblocks as pdb
from pdeblocks import PDEBlocksError, Stencil2D
from pdeblocks.stencil2d import adjoint_bank, apply_bank, bank_matrix

RNG = np.random.default_rng(41)
SHAPES = [(1, 1), (1, 6), (5, 1), (2, 2), (2, 7), (6, 4), (9, 11)]


def exact_lambda(bank, shape):
    m = bank_matrix(bank, shape)
    return np.linalg.eigvalsh(m.T @ m).max()


def check(bank, shape, exact):
    bound = pdb.filter_bank_norm_squared(bank, shape)
    truth = exact_lambda(bank, shape)
    assert bound >= truth * (1 - 1e-12) - 1e-12, (bank, shape, bound, truth)   # eigvalsh's own rounding
    if exact:
        assert bound <= truth * (1 + 1e-6) + 1e-12, (bank, shape, bound, truth)
    return bound, truth


def axis_filter(along_x, q=None, offset_across=0):
    q = q or int(RNG.integers(1, 5))
    w = RNG.standard_normal(q)
    o = -int(RNG.integers(0, q))
    if along_x:
        return Stencil2D(w.reshape(1, -1), offset=(offset_across, o))
    return Stencil2D(w.reshape(-1, 1), offset=(o, offset_across))


@pytest.mark.parametrize("shape", SHAPES)
def test_gradient_bound_is_the_closed_form_and_eigvalsh(shape):
    h, w = shape
    for step in (1.0, 0.3):
        closed = sum(0.0 if n == 1 else 4 * np.cos(np.pi / (2 * n)) ** 2 for n in (h, w)) / step ** 2
        bound, truth = check(pdb.gradient_2d(step), shape, exact=True)
        assert truth == pytest.approx(closed, rel=1e-12, abs=1e-12)
        assert closed * (1 - 1e-15) <= bound <= closed * (1 + 1e-6) + 1e-300


@pytest.mark.parametrize("shape", SHAPES)
def test_banks_of_axis_filters_are_exact(shape):
    for _ in range(5):
        bank = [axis_filter(bool(RNG.integers(0, 2))) for _ in range(int(RNG.integers(1, 5)))]
        check(bank, shape, exact=True)


@pytest.mark.parametrize("shape", SHAPES)
def test_axis_filters_with_offsets_across_are_never_below(shape):
    for _ in range(5):
        xs = [axis_filter(True, offset_across=int(RNG.integers(-2, 3))) for _ in range(2)]
        check(xs, shape, exact=True)   # one axis only: block diagonal, still exact
        check(xs + [axis_filter(False, offset_across=int(RNG.integers(-2, 3)))], shape, exact=False)


@pytest.mark.parametrize("shape", SHAPES)
def test_single_separable_filter_is_exact(shape):
    for _ in range(4):
        p, q = RNG.standard_normal(int(RNG.integers(2, 5))), RNG.standard_normal(int(RNG.integers(2, 5)))
        K = Stencil2D(np.outer(p, q), offset=(-int(RNG.integers(0, 3)), -int(RNG.integers(0, 3))))
        check([K], shape, exact=True)
    sobel = Stencil2D(np.outer([1, 2, 1], [-1, 0, 1]), offset=(-1, -1))
    check(sobel, shape, exact=True)


@pytest.mark.parametrize("shape", SHAPES)
def test_random_general_banks_are_never_below(shape):
    for _ in range(8):
        bank = []
        for _ in range(int(RNG.integers(1, 4))):
            r, c = RNG.integers(1, 5, size=2)
            bank.append(Stencil2D(RNG.standard_normal((r, c)),
                                  offset=(int(RNG.integers(-5, 3)), int(RNG.integers(-5, 3)))))
        bound, truth = check(bank, shape, exact=False)
        assert bound <= 64 * truth + 1e-9 or truth < 1e-12  # a bound, but not a wild one


def test_laplacian_bound_is_close():
    lap = Stencil2D([[0, 1, 0], [1, -4, 1], [0, 1, 0]], offset=(-1, -1))
    bound, truth = check(lap, (12, 9), exact=False)
    assert bound <= 1.1 * truth


def test_theorem_2_linear_step_at_the_bound_does_not_increase_the_norm():
    banks = [pdb.gradient_2d(), [Stencil2D([[1, -2, 1]], offset=(0, -1)), Stencil2D([[1], [-1]])],
             Stencil2D(np.outer([1, 2, 1], [-1, 0, 1]), offset=(-1, -1)),
             [Stencil2D(RNG.standard_normal((3, 2)), offset=(-1, 0)), Stencil2D(RNG.standard_normal((2, 3)))]]
    for bank in banks:
        for shape in [(7, 9), (2, 5), (1, 6)]:
            tau = pdb.stable_tau(bank, "linear", shape)
            assert tau == pytest.approx(2 / pdb.filter_bank_norm_squared(bank, shape), rel=1e-15)
            u = RNG.standard_normal(shape)
            # the worst case too: the top eigenvector of K^T K
            m = bank_matrix(bank, shape)
            vals, vecs = np.linalg.eigh(m.T @ m)
            for start in (u, vecs[:, -1].reshape(shape)):
                x = start.copy()
                for _ in range(30):
                    nxt = x - tau * adjoint_bank(bank, apply_bank(bank, x))
                    assert np.linalg.norm(nxt) <= np.linalg.norm(x) * (1 + 1e-12)
                    x = nxt


def test_stable_tau_2d_uses_sup_g_and_errors():
    g = pdb.gradient_2d()
    lam = pdb.filter_bank_norm_squared(g, (8, 8))
    for name in pdb.DIFFUSIVITIES:
        d = pdb.Diffusivity(name, 2.0)
        assert pdb.stable_tau(g, d, (8, 8)) <= 2 / (d.sup_g * lam)
    assert pdb.stable_tau(Stencil2D([[0.0, 0.0]]), "linear", (3, 3)) == np.inf
    with pytest.raises(PDEBlocksError, match="pair"):
        pdb.filter_bank_norm_squared(g, 8)
    with pytest.raises(PDEBlocksError):
        pdb.filter_bank_norm_squared(g, (0, 8))
    with pytest.raises(PDEBlocksError):
        pdb.stable_tau(g, "linear", (8, 8), bound="lipschitz")


def test_the_bound_of_a_general_bank_is_the_same_on_every_call():
    """The certified bound is a deterministic function of the bank and the shape: repeated
    calls (fresh internal sets each time) give the same double, bit for bit."""
    rng = np.random.default_rng(7)
    bank = [Stencil2D(rng.standard_normal((3, 3)), offset=(-1, -1)) for _ in range(4)]
    values = {pdb.filter_bank_norm_squared(bank, (23, 19)) for _ in range(60)}
    assert len(values) == 1, values

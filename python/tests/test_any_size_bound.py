"""lambda_max_any_size: a certified bound of lambda_max(sum K_c^T K_c) on every image size
>= min_shape, checked against dense eigenvalues, a direct Gershgorin transcription on larger
images, the library's size-specific bound, and Theorem 2 at the resulting step size."""
import numpy as np
import pytest

import pdeblocks as pdb
from pdeblocks import PDEBlocksError, Stencil2D
from pdeblocks.any_size_bound import lambda_max_any_size, stable_tau_any_size
from pdeblocks.stencil2d import bank_matrix


def random_bank(rng, shapes):
    """Zero-mean random filters of the given (rows, cols, oy, ox)."""
    bank = []
    for rows, cols, oy, ox in shapes:
        w = rng.standard_normal((rows, cols))
        bank.append(Stencil2D(w - w.mean(), offset=(oy, ox)))
    return bank


BANKS = {
    "3x3 centred": [(3, 3, -1, -1)] * 4,
    "5x5 centred": [(5, 5, -2, -2)] * 3,
    "2x2 forward": [(2, 2, 0, 0)] * 2,
    "mixed": [(1, 3, 0, -1), (3, 1, -2, 0), (3, 3, -1, -1), (2, 4, 0, -3)],
}


def exact(bank, shape):
    m = bank_matrix(bank, shape)
    return np.linalg.eigvalsh(m.T @ m).max()


def gershgorin(bank, shape):
    m = bank_matrix(bank, shape)
    return np.abs(m.T @ m).sum(axis=1).max()


@pytest.mark.parametrize("name", sorted(BANKS))
def test_the_bound_is_never_below_the_largest_eigenvalue_on_any_size(name):
    rng = np.random.default_rng(len(name))
    for _ in range(3):
        bank = random_bank(rng, BANKS[name])
        bound = lambda_max_any_size(bank)
        for shape in [(8, 8), (8, 9), (9, 8), (11, 13), (16, 16), (8, 31), (24, 10)]:
            assert exact(bank, shape) <= bound


@pytest.mark.parametrize("name", sorted(BANKS))
def test_the_bound_is_the_gershgorin_bound_of_every_large_image(name):
    # every size >= 4R+1 has the same Gram row patterns, so its Gershgorin bound is the
    # maximum over the finitely many small sizes (when those are all >= 4R+1: here R <= 3)
    rng = np.random.default_rng(7 + len(name))
    bank = random_bank(rng, BANKS[name])
    bound = lambda_max_any_size(bank, (13, 13))   # 13 >= 4R + 1 for R <= 3
    for shape in [(13, 13), (23, 29), (30, 14)]:
        assert gershgorin(bank, shape) == pytest.approx(bound, rel=1e-12)
    assert gershgorin(bank, (23, 29)) <= bound


def test_small_minimum_sizes_are_covered_too():
    rng = np.random.default_rng(3)
    bank = random_bank(rng, BANKS["3x3 centred"])
    bound = lambda_max_any_size(bank, (1, 1))
    for h in range(1, 9):
        for w in (1, 2, 5, 9):
            assert exact(bank, (h, w)) <= bound
    assert bound >= lambda_max_any_size(bank, (8, 8))


def test_the_library_size_specific_bound_never_exceeds_it():
    rng = np.random.default_rng(5)
    for name in sorted(BANKS):
        bank = random_bank(rng, BANKS[name])
        bound = lambda_max_any_size(bank)
        for shape in [(8, 8), (64, 64), (100, 37), (513, 257)]:
            assert pdb.filter_bank_norm_squared(bank, shape) <= bound * (1 + 1e-9)


def test_it_is_far_tighter_than_the_l1_bound_and_close_to_the_truth():
    rng = np.random.default_rng(11)
    bank = random_bank(rng, BANKS["3x3 centred"])
    bound = lambda_max_any_size(bank)
    assert bound < 0.5 * 2 * sum(np.abs(k.weights).sum() ** 2 for k in bank)
    assert bound < 2.5 * exact(bank, (16, 16))


def test_the_gradient_bound_is_gershgorins_eight():
    # gradient_2d: Gram = the 5-point Laplacian, Gershgorin row sum 4 + 4 = 8 in the interior
    assert lambda_max_any_size(pdb.gradient_2d()) == pytest.approx(8.0, rel=1e-12)


@pytest.mark.parametrize("mu", [0.0, 0.3])
def test_a_step_at_stable_tau_any_size_is_nonexpansive_on_every_size(mu):
    rng = np.random.default_rng(13)
    bank = random_bank(rng, BANKS["mixed"])
    tau = stable_tau_any_size(bank, 1.0, (8, 8), mu=mu)
    assert tau == pytest.approx(2 / (lambda_max_any_size(bank) + mu), rel=1e-15)
    assert tau <= 2 / (lambda_max_any_size(bank) + mu)
    for shape in [(8, 8), (9, 12), (15, 8)]:
        m = bank_matrix(bank, shape)
        step = np.eye(m.shape[1]) * (1 - tau * mu) - tau * (m.T @ m)   # linear g = 1 with reaction
        assert np.linalg.norm(step, 2) <= 1 + 1e-12


def test_stable_tau_any_size_takes_a_diffusivity():
    bank = pdb.gradient_2d()
    assert stable_tau_any_size(bank, "perona_malik") == pytest.approx(0.25, rel=1e-12)
    assert stable_tau_any_size(bank, 0.0) == np.inf


@pytest.mark.parametrize("bad", [(0, 8), (8, -1), (8,), "8x8", (8.5, 8)])
def test_bad_minimum_shapes_are_refused(bad):
    with pytest.raises(PDEBlocksError):
        lambda_max_any_size(pdb.gradient_2d(), bad)


def test_bad_banks_and_arguments_are_refused():
    with pytest.raises(PDEBlocksError):
        lambda_max_any_size([])
    with pytest.raises(PDEBlocksError):
        lambda_max_any_size(Stencil2D(np.ones((1, 2)), offset=(0, 5)))      # reach 6 > 4
    with pytest.raises(PDEBlocksError):
        lambda_max_any_size(pdb.gradient_2d(), (65, 8))
    with pytest.raises(PDEBlocksError):
        stable_tau_any_size(pdb.gradient_2d(), -1.0)
    with pytest.raises(PDEBlocksError):
        stable_tau_any_size(pdb.gradient_2d(), 1.0, mu=float("nan"))

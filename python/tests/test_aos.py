"""AOS (pdb.semi_implicit(..., solver="aos")): against dense solves of each
(I - 2 tau A_l), max-min principle and mean at huge steps, bad input."""
import numpy as np
import pytest

import pdeblocks as pdb
from pdeblocks._lib import lib
from pdeblocks.eed import aos, eed_stable_tau
from image_eed_reference import aos_step

KINDS = list(pdb.DIFFUSIVITIES)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", [(1, 1), (1, 4), (3, 1), (2, 2), (2, 3), (4, 5), (6, 2)])
def test_aos_matches_dense_solves(kind, shape):
    rng = np.random.default_rng(abs(hash((kind, shape))) % 2**32)
    for tau, h in [(0.3, 1.0), (40.0, 0.5)]:
        u = rng.standard_normal(shape)
        got = pdb.semi_implicit(u, pdb.gradient_2d(h), pdb.Diffusivity(kind, 0.4), tau, 2, solver="aos")
        want = aos_step(aos_step(u, h, kind, 0.4, tau), h, kind, 0.4, tau)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_max_min_principle_and_mean_at_huge_steps(kind):
    rng = np.random.default_rng(4)
    f = rng.uniform(-1, 3, (2, 21, 17))
    tau = 1e4 * eed_stable_tau((21, 17), 0.3, kind)
    u = pdb.semi_implicit(f, pdb.gradient_2d(), pdb.Diffusivity(kind, 0.3), tau, 3, solver="aos")
    for b in range(2):
        assert f[b].min() - 1e-12 <= u[b].min() and u[b].max() <= f[b].max() + 1e-12
        assert abs(u[b].mean() - f[b].mean()) < 1e-11  # rounding of the tridiagonal solves at tau = 1e4 x bound


def test_aos_needs_the_gradient_bank():
    u = np.zeros((4, 4))
    with pytest.raises(pdb.PDEBlocksError, match="gradient_2d"):
        aos(u, [pdb.Stencil2D([[1.0, -1.0]]), pdb.Stencil2D([[-1.0], [1.0]])], "perona_malik", 1.0, 1)
    with pytest.raises(pdb.PDEBlocksError, match="gradient_2d"):
        pdb.semi_implicit(u, pdb.gradient_2d()[:1], "perona_malik", 1.0, 1, solver="aos")
    with pytest.raises(pdb.PDEBlocksError):
        pdb.semi_implicit(np.zeros(4), pdb.gradient_2d(), "perona_malik", 1.0, 1, solver="aos")


@pytest.mark.parametrize("case", ["nan", "zero_width", "tau", "steps"])
def test_bad_input_leaves_the_output_untouched(case):
    f = np.random.default_rng(2).standard_normal((2, 3, 4))
    out = np.full_like(f, 42.0)
    batch, height, width, tau, steps = 2, 3, 4, 1.0, 1
    if case == "nan":
        f[0, 1, 1] = np.nan
    elif case == "zero_width":
        width = 0
    elif case == "tau":
        tau = -1.0
    elif case == "steps":
        steps = -1
    status = lib.pdb_aos(f.ctypes.data, batch, height, width, 1.0, 1, 0.5, tau, steps, out.ctypes.data)
    assert status != 0 and lib.pdb_last_error()
    assert np.all(out == 42.0)

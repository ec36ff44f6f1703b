"""2D multigrid results do not depend on the library's thread count (``pdb.set_num_threads``).

Large levels run their red-black sweeps (5-point fields), residual-restrictions,
prolongations and residual norms in row bands on several threads; every value is the same
arithmetic as on one thread, so cycles, solves and preconditioned CG must agree bitwise.
The images are large enough (> 4 x 65536 unknowns) for the finest level to be split.
"""
from __future__ import annotations

import numpy as np
import pytest

import pdeblocks as pdb


@pytest.fixture
def restore_threads():
    yield
    pdb.set_num_threads(0)


def _systems(shape):
    rng = np.random.default_rng(31)
    weights = np.where(rng.random(shape) < 0.2, 1e-4, 1.0)
    return {"poisson": pdb.poisson_2d(shape),
            "diffusion": pdb.diffusion_system(pdb.gradient_2d(), weights, 300.0)}


def _run(A, b, x0):
    out = []
    for options in ({}, {"cycle": "W"}, {"pre": 1, "post": 3}):
        mg = pdb.Multigrid(A, **options)
        out.append(mg.cycle(x0, b))
        x, info = mg.solve(b, tol=1e-9, maxiter=4)
        out += [x, info["residuals"]]
    x, info = pdb.cg(A, b, preconditioner=pdb.Multigrid(A), tol=1e-9, maxiter=5)
    return out + [x, info["residuals"]]


@pytest.mark.parametrize("shape", [(520, 401), (611, 330)])
def test_cycles_solves_and_cg_are_bitwise_the_same_on_any_thread_count(shape, restore_threads):
    rng = np.random.default_rng(5)
    b, x0 = rng.standard_normal(shape), rng.standard_normal(shape)
    for name, A in _systems(shape).items():
        pdb.set_num_threads(1)
        one = _run(A, b, x0)
        assert np.linalg.norm(one[2][-1]) < np.linalg.norm(one[2][0])   # the solves do converge
        for threads in (2, 3, 4):
            pdb.set_num_threads(threads)
            for a, c in zip(one, _run(A, b, x0)):
                np.testing.assert_array_equal(a, c, err_msg=f"{name}, {threads} threads")

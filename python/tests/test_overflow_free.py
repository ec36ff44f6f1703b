"""Finite inputs give finite outputs where a finite answer exists (issue 12, item 9).

Flux derivatives are their limits for huge s, banded solves are scaled, and a result
beyond double precision is an error naming the cause -- never a silent NaN or inf.
References: closed-form limits, dense numpy solves of the unit-scaled system.
"""
import numpy as np
import pytest

import pdeblocks as pb
from pdeblocks import PDEBlocksError

KINDS = ["linear", "perona_malik", "perona_malik_rational", "charbonnier", "weickert"]
HUGE = np.array([1e154, 1.35e154, -1e200, 1e308, -1e308])


@pytest.mark.parametrize("kind", KINDS)
def test_flux_derivative_is_finite_and_its_limit_for_huge_arguments(kind):
    g = pb.Diffusivity(kind, 2.0)
    d = g.flux_derivative(HUGE)
    assert np.all(np.isfinite(d))
    # the limit of Phi'(s) as |s| -> infinity: 1 for linear, 0 for the others
    np.testing.assert_array_equal(np.abs(d), 1.0 if kind == "linear" else 0.0)
    # and continuous with the formula just below the overflow of s^2
    below = g.flux_derivative(np.array([1e150]))
    assert abs(below[0] - (1.0 if kind == "linear" else 0.0)) < 1e-100


def test_charbonnier_flux_tends_to_lambda_for_huge_arguments():
    lam = 2.0
    g = pb.Diffusivity("charbonnier", lam)
    np.testing.assert_allclose(g.flux(HUGE), lam * np.sign(HUGE), rtol=1e-15)
    # the explicit scheme uses the vector path: Phi = +-lam at |Ku| = 2e200, so one step
    # changes u by tau*(Kt Phi)_i, |change| <= 2 tau lam -- invisible at 1e200
    f = np.array([1e200, -1e200] * 8)
    u = pb.explicit(f, pb.DifferenceOperator([0, 1]), g, 0.2, 1)
    np.testing.assert_array_equal(u, f)


def test_banded_solve_of_huge_right_hand_side_is_the_scaled_solution():
    A = pb.poisson_1d(63)
    reference = np.linalg.solve(A.todense(), np.ones(63))
    x = A.solve(np.full(63, 1e307))
    np.testing.assert_allclose(x / 1e307, reference, rtol=1e-12)
    X = A.solve(np.vstack([np.ones(63), np.full(63, 1e307), np.full(63, 1e-310)]))
    np.testing.assert_allclose(X[1] / 1e307, reference, rtol=1e-12)
    np.testing.assert_allclose(X[2] / 1e-310, reference, rtol=1e-3)   # subnormal b: 1e-310 is rounded


def test_banded_solution_beyond_double_precision_is_an_error():
    A = pb.poisson_1d(63, h=1.0)   # |A^-1 1| up to ~500
    for b in [np.full(63, 1e307), np.vstack([np.ones(63), np.full(63, 1e307)])]:
        with pytest.raises(PDEBlocksError, match="overflows double precision"):
            A.solve(b)

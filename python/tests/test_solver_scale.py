"""Solvers at the edges of double precision (issue 12, items 7 and 8).

Multigrid and CG on right-hand sides whose norms overflow or underflow when squared must
solve the system (the solution scales with b exactly), claim convergence only when the true
residual meets the tolerance, and name a CG breakdown. References are dense numpy solves of
the same system scaled to unit size.
"""
import numpy as np
import pytest

import pdeblocks as pb
from pdeblocks import PDEBlocksError


def scaled_true_relative_residual(A, x, b):
    """||b - A x|| / ||b|| computed on x/s, b/s with s = max|b| (no overflow in numpy)."""
    s = np.max(np.abs(b))
    Ad = A.todense()
    return np.linalg.norm(b / s - Ad @ (x / s)) / np.linalg.norm(b / s)


@pytest.mark.parametrize("value", [1e154, 1e300, 1e307, 1e-170, 1e-300])
@pytest.mark.parametrize("solver", ["multigrid", "cg"])
def test_huge_or_tiny_right_hand_side_is_solved_not_reported_converged_at_zero(value, solver):
    n = 63
    A = pb.poisson_1d(n)
    b = np.full(n, value)
    if solver == "multigrid":
        x, info = pb.Multigrid(A).solve(b, tol=1e-10)
    else:
        x, info = pb.cg(A, b, tol=1e-10)
    reference = np.linalg.solve(A.todense(), np.ones(n))  # the solution for b = 1
    assert info["converged"], info["message"]
    assert info["message"].startswith("converged")
    assert np.all(np.isfinite(x))
    np.testing.assert_allclose(x / value, reference, rtol=1e-8)
    assert scaled_true_relative_residual(A, x, b) <= 1e-10
    assert info["relative_residuals"][-1] <= 1e-10


def test_cg_solution_beyond_double_precision_is_an_error_not_a_converged_report():
    n = 31
    A = pb.BandedMatrix([0], [1e-10 * np.ones(n)])   # x = 1e10 b
    with pytest.raises(PDEBlocksError, match="overflows double precision"):
        pb.cg(A, np.full(n, 1e300))


def test_multigrid_solution_overflow_is_an_error():
    n = 63
    A = pb.poisson_1d(n, h=1.0)     # max |A^-1 1| = n^2/8-ish: large solutions
    # b = c·1 with c chosen so that max |A^-1 b| is 4e308: beyond double precision
    scale = 1e308 / np.max(np.abs(np.linalg.solve(A.todense(), np.ones(n)))) * 4
    with pytest.raises(PDEBlocksError, match="overflows double precision"):
        pb.Multigrid(A).solve(np.full(n, scale))


def test_cg_converged_flag_agrees_with_the_true_residual():
    # tol 1e-14 is below this system's rounding floor: the recursively updated residual
    # reaches it, the true one does not -- the report must not claim convergence.
    n = 4095
    A = pb.poisson_1d(n)
    b = np.random.default_rng(0).standard_normal(n)
    for tol, max_iter in [(1e-14, 20000), (1e-8, None)]:
        x, info = pb.cg(A, b, tol=tol, maxiter=max_iter)
        true = np.linalg.norm(b - A.to_scipy() @ x) / np.linalg.norm(b)
        assert info["converged"] == (true <= tol), (tol, true, info["message"])
        assert info["relative_residuals"][-1] == pytest.approx(true, rel=1e-6)


def test_cg_tolerance_below_rounding_floor_is_reported_not_converged():
    n = 4095
    A = pb.poisson_1d(n)
    b = np.random.default_rng(0).standard_normal(n)
    x, info = pb.cg(A, b, tol=1e-14, maxiter=20000)
    true = np.linalg.norm(b - A.to_scipy() @ x) / np.linalg.norm(b)
    assert true > 1e-14
    assert not info["converged"]
    assert info["message"].startswith("not converged")


@pytest.mark.parametrize("diagonal", [np.r_[1.0, -1.0].repeat(5), -np.ones(10)])
def test_cg_on_indefinite_or_negative_definite_matrix_reports_breakdown(diagonal):
    A = pb.BandedMatrix([-1, 0, 1], [0.1 * np.ones(9), diagonal, 0.1 * np.ones(9)])
    x, info = pb.cg(A, np.random.default_rng(1).standard_normal(10), tol=1e-12, maxiter=50)
    assert not info["converged"]
    assert info["message"].startswith("breakdown")
    assert "not positive definite" in info["message"]

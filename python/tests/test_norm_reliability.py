"""The certified operator norm on long signals, with tiny and huge weights (issue 12, items 1 and 6).

References are independent of the library: inertia tests of mu I - K^T K by LAPACK's banded
Cholesky (positive definite iff mu > lambda_max; the Gram matrix assembled with scipy.sparse
from the mirror definition), closed forms, and exact rational arithmetic. Calls that used to hang run in a
subprocess with a generous timeout (no timing assertions).
"""
import json
import math
import re
import os
import subprocess
import sys
import textwrap
from fractions import Fraction

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.linalg import cholesky_banded

import pdeblocks as pdb

PYTHON_DIR = os.path.join(os.path.dirname(__file__), "..")


def gram_band(w, offset, n):
    """K^T K of the mirrored stencil in LAPACK lower-band storage, K built from the definition."""
    q = len(w)
    i = np.repeat(np.arange(n), q)
    j = np.tile(np.arange(q), n)
    e = (i + offset + j) % (2 * n)
    cols = np.where(e < n, e, 2 * n - 1 - e)
    K = sp.csr_matrix((np.tile(np.asarray(w, float), n), (i, cols)), shape=(n, n))
    A = (K.T @ K).tocsr()
    b = min(q - 1, n - 1)
    band = np.zeros((b + 1, n))
    for d in range(b + 1):
        band[d, : n - d] = A.diagonal(-d)
    return band


def positive_definite(band, mu):
    """Whether mu I - A is positive definite (LAPACK banded Cholesky, dpbtrf)."""
    m = -band
    m[0] += mu
    try:
        cholesky_banded(m, lower=True)
        return True
    except np.linalg.LinAlgError:
        return False


def assert_certified_and_tight(got, w, offset, n, rel=1.1e-8):
    """lambda_max(A) <= got (up to 1e-12) and got <= lambda_max(A) (1 + rel), by two inertia tests."""
    band = gram_band(w, offset, n)
    assert positive_definite(band, got * (1 + 1e-12)), ("below lambda_max", len(w), offset, n, got)
    assert not positive_definite(band, got * (1 - rel)), ("not tight", len(w), offset, n, got)


def run_isolated(code, timeout=20):
    """Runs `code` in a fresh interpreter (the library as the tests use it); returns its JSON output."""
    env = dict(os.environ)
    env["PYTHONPATH"] = PYTHON_DIR + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                         timeout=timeout, env=env)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_long_signal_norm_is_never_below_lambda_max_and_within_1e8():
    # n just above the size where the library switches to the n-independent path
    # (n (b+1)^2 > 2^23, b = q - 1), for 2 ... 64 taps and random offsets.
    rng = np.random.default_rng(121)
    for q in (2, 3, 4, 5, 6, 9, 14, 20, 33, 48, 64):
        offset = int(rng.integers(-q - 2, 3))
        n = int(2**23 / q**2 * rng.uniform(1.05, 1.6)) + q
        w = rng.standard_normal(q)
        assert_certified_and_tight(pdb.Stencil(w, offset).norm_squared(n), w, offset, n)


def test_norm_of_signals_up_to_2_40_is_computed_and_matches_its_limit():
    # Used to run for 37 s (n = 1e9) or forever (2^40), and 35 s for 64 taps at n = 1e6.
    res = run_isolated("""
        import json, numpy as np, pdeblocks as pdb
        w6 = list(np.random.default_rng(3).standard_normal(6))
        w64 = list(np.random.default_rng(4).standard_normal(64))
        K6, K64, D = pdb.Stencil(w6, -3), pdb.Stencil(w64, -20), pdb.DifferenceOperator([0, 1])
        print(json.dumps({"d9": D.norm_squared(10**9), "d40": D.norm_squared(2**40),
                          "k6_9": K6.norm_squared(10**9), "k6_40": K6.norm_squared(2**40),
                          "k6_6": K6.norm_squared(10**6), "k64_6": K64.norm_squared(10**6),
                          "k64_5": K64.norm_squared(10**5), "w6": w6, "w64": w64}))
    """)
    # Forward difference: K^T K is the Neumann Laplacian, lambda_max = 4 cos^2(pi/(2n)).
    for key, n in (("d9", 10**9), ("d40", 2**40)):
        exact = 4 * math.cos(math.pi / (2 * n)) ** 2
        assert exact <= res[key] <= exact * (1 + 1e-8)
    # n = 1e6 (6 taps) and 1e5 (64 taps) against LAPACK inertia tests; longer signals against
    # those: lambda_max converges as O(b^2/n^2), far below the tolerances here.
    assert_certified_and_tight(res["k6_6"], res["w6"], -3, 10**6)
    assert_certified_and_tight(res["k64_5"], res["w64"], -20, 10**5)
    for key in ("k6_9", "k6_40"):
        assert abs(res[key] - res["k6_6"]) <= 2e-8 * res["k6_6"], key
    assert abs(res["k64_6"] - res["k64_5"]) <= 1e-7 * res["k64_5"]


def test_tiny_weights_give_a_certified_norm_instead_of_hanging():
    # w = (1e-160, -1e-160): ||K||^2 = 4 cos^2(pi/128) 1e-320, a subnormal. Used to never return.
    res = run_isolated("""
        import json, pdeblocks as pdb
        print(json.dumps({"v": pdb.Stencil([1e-160, -1e-160]).norm_squared(64)}))
    """)
    exact = Fraction(4 * math.cos(math.pi / 128) ** 2) * Fraction(1e-160) ** 2
    got = Fraction(res["v"])
    assert got >= exact * (1 - Fraction(1, 10**14))
    # the subnormal result has a spacing of 2^-1074 (~0.012% of it): tight up to one spacing
    assert got <= exact * (1 + Fraction(1, 10**8)) + Fraction(2) ** -1074


@pytest.mark.parametrize("call", ["stable_tau", "contraction_tau", "evolve", "certificate"])
def test_tiny_weights_give_a_clear_error_or_a_finite_bound_never_a_hang(call):
    # 2/(sup g ||K||^2) ~ 5e319 is not a double: a clear error naming the weights.
    res = run_isolated(f"""
        import json, numpy as np, pdeblocks as pdb
        K, g = pdb.Stencil([1e-160, -1e-160]), pdb.Diffusivity("perona_malik", 1.0)
        try:
            if "{call}" == "stable_tau": v = pdb.stable_tau(K, g, 64)
            elif "{call}" == "contraction_tau": v = pdb.contraction_tau(K, g, 64)
            elif "{call}" == "evolve": v = float(pdb.evolve(np.linspace(0, 1, 64), K, g, 1.0)[0][0])
            else: v = pdb.Network([pdb.DiffusionBlock([K], g, 0.1)]).certificate(64).blocks[0].tau_bound
            print(json.dumps({{"value": v}}))
        except pdb.PDEBlocksError as e:
            print(json.dumps({{"error": str(e)}}))
    """)
    if "error" in res:
        assert "1e-160" in res["error"], res["error"]
    else:
        assert math.isfinite(res["value"]) or call == "certificate", res


def test_huge_weights_raise_naming_them_instead_of_a_zero_step_size():
    K, g = pdb.Stencil([1e200, -1e200]), pdb.Diffusivity("perona_malik", 1.0)
    for f in (lambda: pdb.stable_tau(K, g, 64), lambda: pdb.contraction_tau(K, g, 64), lambda: K.norm_squared(64)):
        with pytest.raises(pdb.PDEBlocksError, match=r"1e\+200"):
            f()
    # Large but representable: computed in scaled form, exactly 1e-300 times the unit stencil's tau.
    big = pdb.stable_tau(pdb.Stencil([1e150, -1e150]), g, 64)
    unit = pdb.stable_tau(pdb.Stencil([1.0, -1.0]), g, 64)
    assert big == pytest.approx(unit * 1e-300, rel=1e-12)


def test_difference_operator_names_a_spacing_whose_weights_overflow():
    for h, order in ((1e-160, 2), (1e-110, 3), (1e200, 2)):
        with pytest.raises(pdb.PDEBlocksError, match=re.escape(f"h = {h!r}")):
            pdb.DifferenceOperator([0.0] * order + [1.0], h=h)

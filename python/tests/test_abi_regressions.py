"""Regressions found by the ABI fuzz test (Tests/native/fuzz_abi.c).

Each case crashed, hung or exhausted memory before its fix. They run in a child process
with a timeout, so a regression shows up as a failed test instead of killing pytest.
The children load the same library as the rest of the suite.
"""
import subprocess
import sys
import textwrap

import numpy as np

from pdeblocks._lib import lib

LIBRARY = lib._name

PRELUDE = f"""
import ctypes, math
import numpy as np
L = ctypes.CDLL({LIBRARY!r})
L.pdb_last_error.restype = ctypes.c_char_p
I, D, V = ctypes.c_int64, ctypes.c_double, ctypes.c_void_p
def P(a): return a.ctypes.data_as(V)
"""


def run_isolated(body: str, timeout: float = 60) -> str:
    """Runs `body` after PRELUDE in a fresh interpreter; returns its stdout, failing on any error."""
    code = PRELUDE + textwrap.dedent(body)
    try:
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"the child did not finish within {timeout} s (a hang)\n{e.stdout}") from None
    assert run.returncode == 0, f"child exited with {run.returncode}\n{run.stdout}\n{run.stderr[-3000:]}"
    return run.stdout


def test_multigrid_cycles_with_one_or_two_coarse_values_contract_the_error():
    """A V(1,1) Gauss-Seidel cycle with Galerkin coarse operators is a contraction in the energy
    norm ||e||_A (symmetric smoothing, exact coarsest solve), on every hierarchy — including those
    whose coarsest transfer has one or two values (these trapped in the fused residual-restriction
    kernel: its fast range started beyond the coarse size)."""
    out = run_isolated("""
        checked = 0
        for n in range(3, 24):
            for kind in ("poisson", "varying"):
                # symmetric: the coupling of i-1 and i is edge(2i - 1) in both rows
                edge = (lambda k: 1.0) if kind == "poisson" else (lambda k: 0.5 + 0.2 * (k % 3))
                A = np.zeros((n, n))
                for i in range(n):
                    left, right = edge(2 * i - 1), edge(2 * i + 1)
                    if i > 0: A[i, i - 1] = -left
                    if i + 1 < n: A[i, i + 1] = -right
                    A[i, i] = left + right
                band = np.zeros((n, 3))
                for i in range(n):
                    for d in (-1, 0, 1):
                        if 0 <= i + d < n: band[i, d + 1] = A[i, i + d]
                for grid in (0, 1, 2):
                    for transfer in (0, 1, 2, 3):
                        for coarsest in (1, 2, 3):
                            h = V()
                            s = L.pdb_mg_create(I(n), I(1), I(1), P(band), grid, 1, D(0), I(1), I(1), 0,
                                                transfer, I(coarsest), I(0), ctypes.byref(h))
                            if s != 0:
                                continue
                            rng = np.random.default_rng(n)
                            b = rng.standard_normal(n); x = rng.standard_normal(n); out = np.zeros(n)
                            assert L.pdb_mg_cycle(h, P(x), P(b), I(1), I(n), P(out)) == 0, L.pdb_last_error()
                            assert L.pdb_mg_destroy(h) == 0
                            exact = np.linalg.solve(A, b)
                            e0, e1 = x - exact, out - exact
                            before, after = e0 @ A @ e0, e1 @ A @ e1
                            assert after < before, (n, kind, grid, transfer, coarsest, before, after)
                            checked += 1
        print(checked)
    """)
    assert int(out) > 100


def test_poisson_1d_with_a_null_band_fails_before_building_the_matrix():
    """pdb_poisson_1d has no length argument: band must hold n(2k+1) values, so a NULL band
    with a large n must be refused before the matrix is built (it aborted on the failed
    allocation of 3n doubles)."""
    out = run_isolated("""
        for n in (1, 1000, 1 << 34, 20_000_000_000, (1 << 36) // 3 - 1):
            s = L.pdb_poisson_1d(I(n), D(1.0), None)
            msg = L.pdb_last_error().decode()
            assert s == -1 and "band" in msg, (n, s, msg)
        band = np.full(3 * 5, 7.0)
        assert L.pdb_poisson_1d(I(5), D(0.5), P(band)) == 0
        A = np.diag(np.full(5, 8.0)) - 4 * np.eye(5, k=1) - 4 * np.eye(5, k=-1)
        expected = np.array([[A[i, i + d] if 0 <= i + d < 5 else 0.0 for d in (-1, 0, 1)] for i in range(5)])
        assert np.array_equal(band.reshape(5, 3), expected)
        print("ok")
    """)
    assert out.strip() == "ok"


def test_stencil_matrix_with_a_null_out_fails_without_building_the_matrix():
    """With out == NULL and the largest n (32768), the n*n dense matrix (8 GiB) was built
    before the pointer was checked. The peak resident memory of the child must stay small."""
    out = run_isolated("""
        import resource
        w = np.array([-1.0, 1.0])
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB
        s = L.pdb_stencil_matrix(P(w), I(2), I(0), I(32768), None)
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        assert s == -1 and b"out" in L.pdb_last_error(), (s, L.pdb_last_error())
        assert grown < 256 * 1024, f"peak memory grew by {grown} KiB"
        print("ok")
    """, timeout=120)
    assert out.strip() == "ok"


def _mirror(j, n):
    j %= 2 * n
    return j if j < n else 2 * n - 1 - j


def _spread_reference(q, offset, n):
    """max over the rows of the n x n mirrored-stencil matrix of (max column - min column)."""
    return max(max(cols) - min(cols) for cols in
               ({_mirror(i + offset + j, n) for j in range(q)} for i in range(n)))


def test_diffusion_system_bandwidth_matches_the_dense_rows_and_needs_no_storage_for_huge_n():
    """The bandwidth of I + tau K^T W K is the largest column spread of a row of K. It was
    computed by building all n*q row entries, so a pure size query for a huge n aborted on
    the allocation. Small cases against the dense definition; huge n against the value the
    rows settle to once n exceeds q + 2|offset| (the boundary rows no longer change)."""
    import itertools
    ref = {}
    for q, offset in itertools.product(range(1, 8), range(-9, 4)):
        for n in range(1, 40):
            ref[q, offset, n] = _spread_reference(q, offset, n)
    cases = [(q, o, n, v) for (q, o, n), v in ref.items()]
    far = [(q, o, n, _spread_reference(q, o, n)) for q, o, n in
           ((3, 1000, 37), (5, -12345, 50), (2, 7 * 64, 64), (30, 3, 7), (64, -20, 16), (9, 40, 9))]
    out = run_isolated(f"""
        cases = {cases + far!r}
        bad = []
        for q, o, n, expected in cases:
            w = np.linspace(0.5, 1.5, q)
            k = I(-1)
            s = L.pdb_diffusion_system_bandwidth(P(w), I(q), I(o), I(n), ctypes.byref(k))
            if s != 0 or k.value != expected:
                bad.append((q, o, n, expected, s, k.value))
        assert not bad, bad[:10]
        for q, o in ((1, 0), (2, 0), (3, -1), (5, -2), (4, 3), (7, -9)):
            w = np.ones(q)
            settled = I(-1)
            assert L.pdb_diffusion_system_bandwidth(P(w), I(q), I(o), I(64), ctypes.byref(settled)) == 0
            for n in (1 << 30, 1 << 33, (1 << 36) // q):
                k = I(-1)
                s = L.pdb_diffusion_system_bandwidth(P(w), I(q), I(o), I(n), ctypes.byref(k))
                assert s == 0 and k.value == settled.value, (q, o, n, s, k.value, settled.value)
        w = np.ones(3)
        k = I(-1)
        assert L.pdb_diffusion_system_bandwidth(P(w), I(3), I(0), I(1 << 40), ctypes.byref(k)) == -2
        assert k.value == -1
        print(len(cases))
    """)
    assert int(out) == len(cases) + len(far)


def _sparse_stencil(w, offset, n):
    import scipy.sparse as sp
    rows, cols, vals = [], [], []
    for i in range(n):
        for j, wj in enumerate(w):
            rows.append(i)
            cols.append(_mirror(i + offset + j, n))
            vals.append(wj)
    return sp.csr_matrix((vals, (rows, cols)), shape=(n, n))  # duplicates are summed


def test_certified_norm_of_far_offset_stencils_is_exact_and_does_not_hang(tmp_path):
    """||K||^2 for stencils whose offset is far from the origin. The Gram matrix K^T K has
    bandwidth <= q - 1 whatever the offset (the columns of one row lie within q - 1 of each
    other), but its band was sized by twice K's own bandwidth (~2|offset|): O(n offset^2)
    per bisection step, so n = 4096 with offset 1000 ran for minutes, in pdb_stencil_norm_squared
    and in the stability check of pdb_explicit. References: dense eigenvalues (small n) and
    scipy's Lanczos (n = 4096); the result must be an upper bound within 1e-8 relative."""
    import scipy.sparse.linalg as sla
    rng = np.random.default_rng(7)
    small = []
    for _ in range(60):
        q = int(rng.integers(1, 6))
        n = int(rng.integers(2, 40))
        offset = int(rng.integers(-3 * n, 3 * n))
        w = rng.standard_normal(q)
        K = _sparse_stencil(w, offset, n).toarray()
        small.append((w.tolist(), offset, n, float(np.linalg.eigvalsh(K.T @ K).max())))
    big = []
    for w, offset, n in (([-1.0, 1.0], 1000, 4096), ([1.0, -2.0, 1.0], -1500, 4096), ([0.3, 1.0, -0.7], 2500, 3000)):
        K = _sparse_stencil(w, offset, n)
        lam = sla.eigsh((K.T @ K).tocsc(), k=1, which="LA", tol=1e-13, return_eigenvectors=False)[0]
        big.append((w, offset, n, float(lam)))
    out = run_isolated(f"""
        bad = []
        for w, o, n, true in {small + big!r}:
            w = np.array(w)
            r = D(-1)
            s = L.pdb_stencil_norm_squared(P(w), I(len(w)), I(o), I(n), ctypes.byref(r))
            ok = s == 0 and r.value >= true * (1 - 1e-12) and r.value <= true * (1 + 1e-8) + 1e-12
            if not ok:
                bad.append((w.tolist(), o, n, true, s, r.value))
        assert not bad, bad
        # the stability check of the explicit scheme on a memory-backed signal of that size:
        # tau just below / above 2/(sup g ||K||^2) needs the certified norm
        n, o = 4096, 1000
        f = np.sin(np.arange(n) / 50.0); w = np.array([-1.0, 1.0])
        bound = 2 / {big[0][3]!r}
        for tau, expected in ((bound * (1 - 1e-6), 0), (bound * (1 + 1e-6), -4)):
            out = np.zeros(n)
            s = L.pdb_explicit(P(f), I(1), I(n), P(w), I(2), I(o), 1, D(1.0), D(tau), I(1), 0, I(0), None, I(0), P(out))
            assert s == expected, (tau, s, L.pdb_last_error())
            if s == 0:
                np.save({str(tmp_path / "explicit.npy")!r}, np.stack([f, out, [tau] * n]))
        print(len({small + big!r}))
    """, timeout=60)
    assert int(out) == len(small) + len(big)
    f, out, tau = np.load(tmp_path / "explicit.npy")
    K = _sparse_stencil([-1.0, 1.0], 1000, 4096)
    y = K @ f
    reference = f - tau[0] * (K.T @ (np.exp(-y * y / 2) * y))  # Perona-Malik, lambda = 1 (eq. 4)
    assert np.allclose(out, reference, rtol=0, atol=1e-13)


def test_diffusion_system_checks_the_band_before_assembling_it():
    """pdb_diffusion_system assembled I + tau K^T W K (O(n q^2) work, n(2k+1) doubles) before
    looking at band and band_length, so a call with a NULL band or a wrong length spent seconds
    and hundreds of megabytes before failing. The band's size comes from the bandwidth (O(q)),
    so the check comes first: the child's peak memory must not grow by the system's size."""
    out = run_isolated("""
        import resource
        n, q = 3000, 1500
        stencil = np.full(q, 1.0 / q); w = np.ones(n)
        k = I(-1)
        assert L.pdb_diffusion_system_bandwidth(P(stencil), I(q), I(-(q // 2)), I(n), ctypes.byref(k)) == 0
        need = n * (2 * k.value + 1)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB
        for band, length, status in ((None, need, -1), (None, 0, -2), (np.zeros(8), 8, -2)):
            s = L.pdb_diffusion_system(P(stencil), I(q), I(-(q // 2)), P(w), I(n), D(0.5),
                                       None if band is None else P(band), I(length))
            assert s == status, (length, s, L.pdb_last_error())
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        assert grown < 32 * 1024, f"peak memory grew by {grown} KiB"
        # and a correct call still gives the system, against a dense reference on a small case
        n, q, o = 9, 3, -1
        st = np.array([1.0, -2.0, 1.0]); w = np.linspace(0.5, 2, n)
        assert L.pdb_diffusion_system_bandwidth(P(st), I(q), I(o), I(n), ctypes.byref(k)) == 0
        band = np.zeros(n * (2 * k.value + 1))
        assert L.pdb_diffusion_system(P(st), I(q), I(o), P(w), I(n), D(0.3), P(band), I(band.size)) == 0
        K = np.zeros((n, n))
        for i in range(n):
            for j in range(q):
                m = (i + o + j) % (2 * n); m = m if m < n else 2 * n - 1 - m
                K[i, m] += st[j]
        A = np.eye(n) + 0.3 * K.T @ np.diag(w) @ K
        kk = k.value
        dense = np.array([[A[i, i + d] if 0 <= i + d < n else 0.0 for d in range(-kk, kk + 1)] for i in range(n)])
        assert np.allclose(band.reshape(n, 2 * kk + 1), dense, rtol=0, atol=1e-14)
        print("ok")
    """, timeout=120)
    assert out.strip() == "ok"

"""Running out of memory is an error, not an abort (PDB_ERR_MEMORY / OutOfMemoryError).

Each case runs in a subprocess whose address space is limited with RLIMIT_AS; there the
request cannot be met. The library must raise :class:`pdeblocks.OutOfMemoryError` (a
:class:`MemoryError` and a :class:`PDEBlocksError`, status -9) naming the byte count,
and the process must survive: a small call afterwards returns the right result (checked
against a numpy transcription of the explicit scheme).
"""
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import pdeblocks as pdb

ROOT = Path(__file__).resolve().parents[2]

PRELUDE = textwrap.dedent("""
    import resource, re, sys
    import numpy as np
    resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
    import pdeblocks as pdb

    def explicit_reference(f, tau, steps):
        # u <- u - tau K^T K u, K = forward difference with the half-sample mirror (linear g)
        u = f.copy()
        for _ in range(steps):
            Ku = np.append(np.diff(u), 0.0)
            KtKu = -np.diff(np.concatenate(([0.0], Ku)))
            u = u - tau * KtKu
        return u

    def survives():
        f = np.sin(np.arange(32) * 0.4)
        u = pdb.explicit(f, pdb.DifferenceOperator([0, 1]), pdb.Diffusivity("linear", 1.0), 0.2, 5)
        assert np.allclose(u, explicit_reference(f, 0.2, 5), rtol=0, atol=1e-12)
""")

CASES = {
    # a hierarchy whose levels (matrix copy, smoother rows, coarse levels) exceed the limit
    "multigrid hierarchy of n = 2^26 - 1": (6_000_000_000, """
        A = pdb.poisson_1d(2**26 - 1)
        pdb.Multigrid(A)
    """),
    # 1024 filters of 2^20 taps: 8 GiB of copied weights in one block
    "a block of 1024 filters of 2^20 taps": (6_000_000_000, """
        K = pdb.Stencil(np.full(2**20, 1e-6), 0)
        pdb.Network([pdb.DiffusionBlock([K] * 1024, "linear", 0.1)])
    """),
    # the explicit scheme's work buffers and staged output for a batch that (just) fits
    "explicit scheme work buffers": (2_500_000_000, """
        f = np.zeros((1, 120_000_000))
        pdb.explicit(f, pdb.DifferenceOperator([0, 1]), pdb.Diffusivity("linear", 1.0), 0.2, 1)
    """),
    # a network tape: (L - 1)·batch·n = 99·4·10^6 values (3.2 GB) for an FSI block of cycle length 100
    "network tape": (2_000_000_000, """
        K = pdb.DifferenceOperator([0, 1])
        net = pdb.Network([pdb.FSIBlock(pdb.DiffusionBlock([K] * 8, "perona_malik", 0.1), 100)])
        net.forward(np.zeros((4, 1_000_000)))
    """),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_an_allocation_beyond_the_address_space_raises_out_of_memory_and_the_process_survives(name):
    limit, body = CASES[name]
    script = PRELUDE.format(limit=limit) + textwrap.dedent("""
        try:
    """) + textwrap.indent(textwrap.dedent(body), "    ") + textwrap.dedent("""
        except pdb.OutOfMemoryError as e:
            assert isinstance(e, MemoryError) and isinstance(e, pdb.PDEBlocksError) and e.status == -9
            m = re.search(r"(\\d+) bytes", str(e))
            assert m and int(m.group(1)) > 0, str(e)
            survives()
            print("OUT OF MEMORY:", e)
            sys.exit(0)
        print("NO ERROR")
        sys.exit(1)
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                         env={**__import__("os").environ, "PYTHONPATH": str(ROOT / "python")})
    assert run.returncode == 0, (run.returncode, run.stdout[-2000:], run.stderr[-3000:])
    assert "OUT OF MEMORY:" in run.stdout


def test_out_of_memory_error_is_a_memory_error_and_a_library_error():
    assert issubclass(pdb.OutOfMemoryError, MemoryError)
    assert issubclass(pdb.OutOfMemoryError, pdb.PDEBlocksError)
    assert "PDB_ERR_MEMORY" in (ROOT / "include/pdeblocks.h").read_text()

"""The C side: the header agrees with the exported symbols, and the C example builds and runs."""
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import pdeblocks as pdb
from pdeblocks._lib import lib
from c_examples import build_c_example

ROOT = Path(__file__).resolve().parents[2]
LIBPATH = Path(lib._name)


def declared_symbols():
    names = set()
    for header in (ROOT / "include").glob("*.h"):
        text = re.sub(r"/\*.*?\*/", "", header.read_text(), flags=re.S)
        names |= set(re.findall(r"\b(pdb_[A-Za-z0-9_]+)\s*\(", text))
    return names


def exported_symbols():
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("nm not available")
    out = subprocess.run([nm, "-D", "--defined-only", str(LIBPATH)], check=True, capture_output=True, text=True).stdout
    return {line.split()[-1] for line in out.splitlines() if line.split()[-1].startswith("pdb_")}


def test_header_declarations_match_exported_symbols():
    declared, exported = declared_symbols(), exported_symbols()
    assert declared == exported, {"only in header": declared - exported, "only in library": exported - declared}
    assert "pdb_explicit" in declared


def test_version_query_matches_python_version():
    import ctypes
    major, minor, patch = ctypes.c_int32(), ctypes.c_int32(), ctypes.c_int32()
    assert lib.pdb_version(ctypes.byref(major), ctypes.byref(minor), ctypes.byref(patch)) == 0
    assert pdb.__version__ == f"{major.value}.{minor.value}.{patch.value}"
    assert lib.pdb_version(None, None, None) == -1  # NULL pointers: status, not a crash


def test_c_example_builds_against_the_header_and_runs(tmp_path):
    """(The image example, examples/denoise_image.c, is tested in test_c_denoise_image.py.)"""
    exe = build_c_example("denoise", tmp_path)
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    rows = {line.split()[0]: line.split()[1:] for line in run.stdout.splitlines() if line.split()}
    noisy_rmse, denoised_rmse = float(rows["noisy"][1]), float(rows["denoised"][1])
    assert denoised_rmse < 0.2 * noisy_rmse
    assert float(rows["denoised"][0]) <= float(rows["noisy"][0])  # Theorem 2: norm does not grow
    assert "status -4" in run.stdout and "stability bound" in run.stdout


def test_c_entry_points_report_null_and_hostile_sizes_without_crashing():
    import ctypes
    w = np.array([-1.0, 1.0])
    u = np.zeros(4)
    out = np.zeros(4)
    P = lambda a: a.ctypes.data
    f = lib.pdb_stencil_apply
    f.restype = ctypes.c_int32
    f.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p]
    assert f(None, 2, 0, P(u), 1, 4, P(out)) == -1
    assert f(P(w), 2, 0, None, 1, 4, P(out)) == -1
    assert f(P(w), 2, 0, P(u), 1, 4, None) == -1
    assert f(P(w), -5, 0, P(u), 1, 4, P(out)) == -2
    assert f(P(w), 2, 0, P(u), 1 << 62, 1 << 62, P(out)) == -2  # batch*n overflows
    assert f(P(w), 2, 0, P(u), -1, 4, P(out)) == -2
    assert f(P(w), 2, 1 << 62, P(u), 1, 4, P(out)) == -2
    assert b"out of range" in lib.pdb_last_error()
    np.testing.assert_array_equal(out, 0)


def test_benchmark_suite_runs_and_writes_json(tmp_path):
    """Smoke test of `make bench`'s suite in its quick form (no timing is asserted)."""
    import json
    import sys
    out = tmp_path / "bench.json"
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "suite.py"), "--quick", "--sections", "explicit",
                          "overhead", "schemes", "--json", str(out)], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "python")})
    assert run.returncode == 0, run.stdout + run.stderr
    rows = json.loads(out.read_text())["rows"]
    measures = {(r["section"], r["measure"]) for r in rows}
    assert ("explicit", "plain C / lib (C)") in measures and ("overhead", "added by Python") in measures
    # figures of the scripts the suite runs arrive as rows too (bench/rows.py), not only as text
    assert ("schemes", "fewer block evaluations") in measures
    assert all(r["value"] > 0 for r in rows if r["unit"] != "text")

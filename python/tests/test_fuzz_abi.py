"""Hardened C ABI: every entry point of include/*.h is called with random and hostile arguments.

Tests/native/fuzz_abi.c (compiled here against the library under test) makes ~200 000 calls
with NULL pointers, negative, huge and overflowing sizes, NaN/Inf scalars and array values,
mismatched lengths, unknown enum values and flags, and destroyed, wrong-type and forged
handles. On every call it checks the conventions of pdeblocks.h: a PDB_OK or PDB_ERR_* status,
a fresh non-empty pdb_last_error() on failure, no output written on failure (sentinel-filled
buffers compared byte for byte), nothing written beyond the given lengths on success, inputs
never modified, certainly-invalid arguments refused, and the live-handle count back at its
start once everything is destroyed. A crash, a hang (a watchdog inside the program, and the
timeout here) or any violation fails the test; the program prints the seed and the call.

Reproduce a failure:  fuzz_abi --seed S [--only pdb_name] (see the program's header).
PDEBLOCKS_FUZZ_SEED / PDEBLOCKS_FUZZ_CALLS change the seed (default fixed) and the call count.
"""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pdeblocks._lib import lib

ROOT = Path(__file__).resolve().parents[2]
LIBDIR = Path(lib._name).parent
SEED = int(os.environ.get("PDEBLOCKS_FUZZ_SEED", "20240607"))
CALLS = int(os.environ.get("PDEBLOCKS_FUZZ_CALLS", "200000"))


def header_entry_points() -> set[str]:
    """Names of the functions declared in include/*.h (comments stripped)."""
    names = set()
    for header in sorted((ROOT / "include").glob("*.h")):
        text = re.sub(r"/\*.*?\*/", " ", header.read_text(), flags=re.S)
        text = re.sub(r"//[^\n]*", " ", text)
        names.update(re.findall(r"(?:int32_t|const\s+char\s*\*)\s*(pdb_\w+)\s*\(", text))
    return names


@pytest.fixture(scope="module")
def fuzzer(tmp_path_factory) -> Path:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    exe = tmp_path_factory.mktemp("fuzz") / "fuzz_abi"
    subprocess.run([cc, "-std=c11", "-O1", f"-I{ROOT / 'include'}", str(ROOT / "Tests/native/fuzz_abi.c"),
                    f"-L{LIBDIR}", "-lpdeblocks", f"-Wl,-rpath,{LIBDIR}", "-lm", "-o", str(exe)], check=True)
    return exe


def test_the_fuzzer_exercises_exactly_the_entry_points_of_the_headers(fuzzer):
    declared = header_entry_points()
    assert len(declared) > 60, declared  # the parser found the headers' declarations
    listed = subprocess.run([str(fuzzer), "--list"], capture_output=True, text=True, check=True).stdout.split()
    assert len(listed) == len(set(listed))
    assert set(listed) == declared, {"not fuzzed": sorted(declared - set(listed)),
                                     "not in the headers": sorted(set(listed) - declared)}


def test_every_entry_point_survives_hostile_calls_and_keeps_the_abi_conventions(fuzzer, tmp_path):
    try:
        run = subprocess.run([str(fuzzer), "--seed", str(SEED), "--calls", str(CALLS), "--tmp", str(tmp_path),
                              "--hang-seconds", "30"], capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        pytest.fail(f"the fuzzer did not finish within 300 s (seed {SEED})\n{out[-3000:]}")
    report = run.stdout + run.stderr
    print(report)  # per-entry-point counts: name calls ok failed (shown with pytest -s / -rA)
    problems = [line for line in report.splitlines() if line.startswith(("VIOLATION", "CRASH", "HANG"))]
    assert run.returncode == 0 and not problems, (
        f"exit status {run.returncode} (seed {SEED}):\n" + "\n".join(problems[:40]) + "\n" + run.stderr[-3000:])

    counts = {}
    for line in run.stdout.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0].startswith("pdb_"):
            counts[parts[0]] = tuple(int(x) for x in parts[1:])
    assert set(counts) == header_entry_points()
    total = sum(c[0] for c in counts.values())
    assert total >= min(CALLS, 100_000) and total == CALLS
    for name, (calls, ok, failed) in counts.items():
        assert calls == ok + failed
        assert calls >= CALLS // (3 * len(counts)), f"{name} was called only {calls} times"
        # both outcomes are reached, except for the functions that cannot fail
        if name not in {"pdb_last_error", "pdb_version_string", "pdb_build_info", "pdb_diffusivity_name", "pdb_enum_name",
                        "pdb_status_string"}:
            assert ok > 0 and failed > 0, f"{name}: {ok} successful and {failed} failed calls"

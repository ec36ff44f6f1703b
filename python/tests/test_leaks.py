"""No leaks: create/use/destroy cycles of every handle type, and the error paths, under valgrind.

Tests/native/leak_cycles.c builds and destroys multigrid hierarchies (every smoother, cycle and
transfer), two-level U-nets, networks with every block kind (trained, certified, projected),
a saved and reloaded network, runs every scheme, and goes through the failure paths (invalid,
destroyed and wrong-type arguments, builds that fail midway, damaged files, non-convergence).
Under `valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=1`
"definitely lost" and "indirectly lost" must be 0 and memcheck must report no error. The Swift
runtime's one-time allocations (metadata caches, the dispatch threads) show up as "still
reachable" / "possibly lost", which is expected. `make leakcheck` runs the same check with
more cycles (LEAK_CYCLES=5 by default).

PDEBLOCKS_LEAK_CYCLES sets the number of cycles here (default 3: about 5 s under valgrind).
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
CYCLES = int(os.environ.get("PDEBLOCKS_LEAK_CYCLES", "3"))
VALGRIND_FLAGS = ["--leak-check=full", "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=1"]


@pytest.fixture(scope="module")
def tools():
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        pytest.skip("valgrind is not installed (apt-get install -y valgrind): the leak check cannot run")
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    return valgrind, cc


def compile_c(cc: str, source: Path, exe: Path, *libs: str) -> None:
    subprocess.run([cc, "-std=c11", "-O1", "-g", f"-I{ROOT / 'include'}", str(source), *libs, "-lm", "-o", str(exe)],
                   check=True)


def lost_bytes(report: str, kind: str) -> int:
    """Bytes valgrind's leak summary gives for `kind` ("definitely", "indirectly"); 0 when every
    block was freed (then there is no summary)."""
    m = re.search(rf"{kind} lost: ([\d,]+) bytes", report)
    if m is None:
        assert "All heap blocks were freed" in report, report[-3000:]
        return 0
    return int(m.group(1).replace(",", ""))


def test_the_leak_check_reports_a_leak_when_there_is_one(tools, tmp_path):
    """The control: the same valgrind flags fail on a program that loses a block."""
    valgrind, cc = tools
    source = tmp_path / "leaky.c"
    source.write_text("#include <stdlib.h>\nint main(void) { void *volatile p = malloc(40); p = 0; return 0; }\n")
    compile_c(cc, source, tmp_path / "leaky")
    run = subprocess.run([valgrind, *VALGRIND_FLAGS, str(tmp_path / "leaky")], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 1, run.stderr[-2000:]
    assert lost_bytes(run.stderr, "definitely") == 40


def test_create_use_destroy_cycles_of_every_handle_type_leak_nothing(tools, tmp_path):
    valgrind, cc = tools
    exe = tmp_path / "leak_cycles"
    compile_c(cc, ROOT / "Tests/native/leak_cycles.c", exe, f"-L{LIBDIR}", "-lpdeblocks", f"-Wl,-rpath,{LIBDIR}")
    # natively first: every status the program expects (a functional failure is not a leak)
    native = subprocess.run([str(exe), "1", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert native.returncode == 0, native.stdout + native.stderr[-3000:]

    run = subprocess.run([valgrind, *VALGRIND_FLAGS, str(exe), str(CYCLES), str(tmp_path)], capture_output=True,
                         text=True, timeout=900)
    report = run.stderr
    summary = "\n".join(line for line in report.splitlines() if re.search(r"lost:|reachable:|ERROR SUMMARY", line))
    print(run.stdout + summary)
    assert f"cycles {CYCLES} failures 0 live handles 0" in run.stdout, run.stdout + report[-3000:]
    assert lost_bytes(report, "definitely") == 0, report[-6000:]
    assert lost_bytes(report, "indirectly") == 0, report[-6000:]
    assert re.search(r"ERROR SUMMARY: 0 errors", report), report[-6000:]
    assert run.returncode == 0, report[-6000:]

"""No allocation in steady state: the library allocates at set-up only, never per step.

Tests/native/alloc_steady_state.c interposes malloc & co. for the whole process (the
library and the Swift runtime included) and calls each scheme with 5 and 500 steps;
the allocation counts must be equal (and nonzero, so the counter is known to work).
Network rows ("network_...") call a network handle 5 and 500 times (inference, recorded
forward, forward + backward; 1 and 2 threads; an image network's single image in row bands on
2 threads): equal counts mean no allocation per pass (they are 0: the handle's memory and
threads come from the warm-up call). The 2D multigrid
"..._cycle" rows call pdb_mg_cycle 1 and 51 times on one hierarchy: 0 as well (the cycle
workspace is pooled in the handle by the warm-up call).
"""
import shutil
import subprocess
from pathlib import Path

import pytest

from pdeblocks._lib import lib

ROOT = Path(__file__).resolve().parents[2]
LIBDIR = Path(lib._name).parent


def test_schemes_allocate_only_at_set_up(tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    exe = tmp_path / "alloc"
    subprocess.run([cc, "-std=c11", "-O1", f"-I{ROOT / 'include'}", str(ROOT / "Tests/native/alloc_steady_state.c"),
                    f"-L{LIBDIR}", "-lpdeblocks", f"-Wl,-rpath,{LIBDIR}", "-o", str(exe)], check=True)
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120)
    rows = [line.split() for line in run.stdout.splitlines()]
    assert rows, run.stdout + run.stderr
    for name, few, many in rows:
        if not (name.startswith("network_") or name.endswith("_cycle")):
            assert int(few) > 0, f"{name}: the counter saw no allocation at all"
        assert int(few) == int(many), f"{name}: {few} allocations with few steps, {many} with 10x or 100x as many"
    assert {row[0] for row in rows} >= {f"network_{case}_{t}thread" for case in ("inference", "forward", "forward_backward")
                                        for t in (1, 2)} | {"explicit_long_2thread", "fsi_long_2thread", "explicit_2d_2thread",
                                                             "fed_2d_2thread", "explicit_2d_bank_2thread",
                                                             "aos_2d_2thread", "eed_2d_2thread"} | {
        f"multigrid_2d_{a}_{b}" for a in ("poisson", "diffusion") for b in ("cycle", "solve")}, run.stdout
    assert run.returncode == 0, run.stdout + run.stderr
    assert {row[0] for row in rows} >= {f"network_image_{case}_{t}thread" for case in ("inference", "forward_backward", "loss")
                                        for t in (1, 2)} | {"network_image_banded_inference_2thread"}

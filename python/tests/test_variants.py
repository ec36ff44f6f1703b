"""Run-time CPU dispatch: one installed library directory, the fastest variant the CPU runs.

The variants (pdeblocks._variants: baseline, v3, v4 on x86-64) are the same source compiled
for different instruction sets; the Python loader and the C dispatcher libpdeblocks.so choose
among them by the same table, and every variant gives the same results to the documented
tolerance (1e-10 relative in the max norm: they differ only by the rounding of fused versus
separate multiply-adds and of vector widths).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import pdeblocks as pdb
from pdeblocks import _variants
from pdeblocks._lib import lib

ROOT = Path(__file__).resolve().parents[2]
LIBDIR = Path(lib._name).parent
INSTALLED = [v.name for v in _variants.VARIANTS if (LIBDIR / _variants.library_name(v.name)).is_file()]
DISPATCHED = bool(INSTALLED) and (LIBDIR / "libpdeblocks.so").is_file()
needs_variants = pytest.mark.skipif(not DISPATCHED, reason="the library under test is a single build "
                                    "(PDEBLOCKS_LIBRARY), not a directory of CPU variants")
V3 = {f.cpuinfo for f in _variants._V3}
V4 = {f.cpuinfo for f in _variants._V4}
X86 = len(_variants.VARIANTS) == 3


def env_with(**values: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PDEBLOCKS_LIBRARY", "PDEBLOCKS_CPU")}
    env["PYTHONPATH"] = str(ROOT / "python")
    env.update({k: v for k, v in values.items() if v is not None})
    return env


def python_variant(forced: str | None) -> subprocess.CompletedProcess:
    probe = "import pdeblocks as pdb; print(pdb.build_info()['variant'])"
    return subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env=env_with(PDEBLOCKS_CPU=forced), timeout=120)


# ---- the choice rule ------------------------------------------------------------------------------------------

@pytest.mark.skipif(not X86, reason="x86-64 variants")
def test_the_fastest_installed_variant_the_cpu_runs_is_chosen():
    everything = ["baseline", "v3", "v4"]
    assert _variants.choose(everything, features=V4) == "v4"
    assert _variants.choose(everything, features=V3) == "v3"
    assert _variants.choose(everything, features=V4 - {"avx512vl"}) == "v3"
    assert _variants.choose(everything, features=V3 - {"fma"}) == "baseline"
    assert _variants.choose(everything, features=set()) == "baseline"
    assert _variants.choose(["baseline", "v3"], features=V4) == "v3"        # v4 not installed
    assert _variants.choose(everything, "v3", features=V4) == "v3"          # forced down
    assert _variants.runnable(V3) == ["baseline", "v3"]


@pytest.mark.skipif(not X86, reason="x86-64 variants")
def test_forcing_a_variant_the_cpu_lacks_or_that_is_missing_is_a_clear_error():
    with pytest.raises(ImportError, match=r"PDEBLOCKS_CPU=v4: this CPU cannot run .*lacks avx512f"):
        _variants.choose(["baseline", "v3", "v4"], "v4", features=V3)
    with pytest.raises(ImportError, match=r"PDEBLOCKS_CPU='v9' is not a variant .*baseline, v3, v4"):
        _variants.choose(["baseline", "v3", "v4"], "v9", features=V4)
    with pytest.raises(ImportError, match=r"PDEBLOCKS_CPU=v4: the v4 build is not installed"):
        _variants.choose(["baseline", "v3"], "v4", features=V4)
    with pytest.raises(ImportError, match=r"no installed build .* runs on this CPU"):
        _variants.choose(["v4"], features=V3)


def test_build_info_names_the_variant_and_the_loaded_file():
    info = pdb.build_info()
    assert set(info) == {"version", "variant", "cpu", "fma", "arch", "library"}
    assert info["version"] == pdb.__version__ and info["library"] == lib._name
    assert info["arch"] in ("x86_64", "aarch64", "other") and info["fma"] in ("0", "1")
    if DISPATCHED:
        assert Path(lib._name).name == _variants.library_name(info["variant"])
        chosen = _variants.choose(INSTALLED, _variants.forced_variant())
        assert info["variant"] == chosen


# ---- Python and the C dispatcher agree ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def c_probe(tmp_path_factory):
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no C compiler")
    directory = tmp_path_factory.mktemp("probe")
    source = directory / "probe.c"
    source.write_text('#include <stdio.h>\n#include "pdeblocks.h"\n'
                      'int main(void) { puts(pdb_build_info()); return 0; }\n')
    exe = directory / "probe"
    subprocess.run([cc, "-std=c11", "-Wall", "-Werror", f"-I{ROOT / 'include'}", str(source), f"-L{LIBDIR}",
                    "-lpdeblocks", f"-Wl,-rpath,{LIBDIR}", "-o", str(exe)], check=True)
    return exe


def c_variant(exe: Path, forced: str | None) -> subprocess.CompletedProcess:
    return subprocess.run([str(exe)], capture_output=True, text=True, env=env_with(PDEBLOCKS_CPU=forced), timeout=60)


@needs_variants
@pytest.mark.parametrize("forced", [None, *_variants.runnable()])
def test_python_and_the_c_dispatcher_load_the_same_variant(c_probe, forced):
    if forced is not None and forced not in INSTALLED:
        pytest.skip(f"{forced} is not installed")
    py, c = python_variant(forced), c_variant(c_probe, forced)
    assert py.returncode == 0 and c.returncode == 0, py.stderr + c.stderr
    info = dict(pair.split("=", 1) for pair in c.stdout.split())
    expected = forced or _variants.choose(INSTALLED)
    assert py.stdout.strip() == info["variant"] == expected


@needs_variants
def test_an_unknown_variant_stops_both_loaders_with_the_reason(c_probe):
    py, c = python_variant("v9"), c_variant(c_probe, "v9")
    assert py.returncode != 0 and "ImportError" in py.stderr and "PDEBLOCKS_CPU='v9'" in py.stderr
    assert c.returncode == 127 and "PDEBLOCKS_CPU names no variant" in c.stderr and "v9" in c.stderr


@needs_variants
def test_the_dispatcher_exports_exactly_the_header_entry_points():
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("nm not available")
    from pdeblocks import _abi
    out = subprocess.run([nm, "-D", "--defined-only", str(LIBDIR / "libpdeblocks.so")], check=True,
                         capture_output=True, text=True).stdout
    exported = {line.split()[-1] for line in out.splitlines() if line.split()[-1].startswith("pdb_")}
    assert exported == set(_abi.SIGNATURES)


# ---- every variant computes the same numbers ------------------------------------------------------------------

COMPUTE = r"""
import json, sys
import numpy as np
import pdeblocks as pdb
rng = np.random.default_rng(7)
f = rng.random(2000)
K = pdb.DifferenceOperator([0, 1])
g = pdb.Diffusivity("perona_malik", 0.1)
out = {"variant": pdb.build_info()["variant"]}
out["explicit_1d"] = pdb.explicit(f, K, g, 0.2, 60)
out["fsi_1d"] = pdb.fsi(f, K, pdb.Diffusivity("charbonnier", 0.05), 0.2, 10, 4)
img = rng.random((37, 53))
out["explicit_2d"] = pdb.explicit(img, pdb.gradient_2d(), g, 0.1, 30)
out["fed_2d"] = pdb.fed(img, pdb.gradient_2d(), pdb.Diffusivity("perona_malik", 0.1), 0.2, 8, 2)
out["aos_2d"] = pdb.semi_implicit(img, pdb.gradient_2d(), g, 5.0, 3, solver="aos")
out["eed"] = pdb.eed(img, 0.05, 1.0, 2.0)
A = pdb.diffusion_system(K, np.exp(rng.standard_normal(1999)), 50.0)
b = rng.standard_normal(A.n)
out["multigrid"] = pdb.Multigrid(A).solve(b, tol=1e-12)[0]   # (x, info)
net = pdb.Network([pdb.DiffusionBlock([pdb.DifferenceOperator([0, 1]), pdb.DifferenceOperator([0.25, 0.5, -0.75])],
                                      [g, pdb.LearnableDiffusivity([0.6, 0.3], [0.5, 0.1])], 0.1) for _ in range(3)])
x = rng.standard_normal((4, 64))
y = net.forward(x)
gx, gp = net.backward(rng.standard_normal((4, 64)))
out["network"] = np.concatenate([y.ravel(), np.ravel(gx), np.ravel(gp)])
print(json.dumps({k: v if isinstance(v, str) else np.asarray(v).tolist() for k, v in out.items()}))
"""


@needs_variants
def test_every_installed_variant_gives_the_same_results():
    runs = [v for v in _variants.runnable() if v in INSTALLED]
    if len(runs) < 2:
        pytest.skip(f"one variant runs here ({runs})")
    results = {}
    for variant in runs:
        done = subprocess.run([sys.executable, "-c", COMPUTE], capture_output=True, text=True,
                              env=env_with(PDEBLOCKS_CPU=variant), timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        results[variant] = json.loads(done.stdout)
        assert results[variant].pop("variant") == variant
    reference = results[runs[0]]
    for variant in runs[1:]:
        for key, value in results[variant].items():
            a, b = np.asarray(reference[key]), np.asarray(value)
            scale = np.max(np.abs(a))
            assert np.max(np.abs(a - b)) <= 1e-10 * scale, (variant, key, np.max(np.abs(a - b)) / scale)
    # ... and they are different machine code: the slowest and the fastest do not agree bitwise
    # (fused against separate multiply-adds), so each run above really used its own variant.
    assert any(np.any(np.asarray(results[runs[0]][k]) != np.asarray(results[runs[-1]][k]))
                                for k in reference)

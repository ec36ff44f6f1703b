"""`pip install .` gives a package that imports from any directory with no environment variables.

The install runs the real build step (SwiftPM release build with a static Swift standard
library, once per CPU variant, sharing make's .build/<variant> caches) into a fresh virtual environment; the installed copy is then used
from another directory, with PYTHONPATH and PDEBLOCKS_LIBRARY removed.
"""
from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import numpy as np
import pytest

from conftest import dense_stencil, explicit_reference
from pdeblocks._variants import VARIANTS, runnable

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def source_version() -> str:
    text = (ROOT / "Sources" / "PDEBlocksABI" / "VersionABI.swift").read_text()
    return re.search(r'StaticString = "([^"]+)"', text).group(1)


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a user: no PYTHONPATH, no PDEBLOCKS_LIBRARY, no active venv."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PDEBLOCKS_LIBRARY", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(extra)
    return env


def run(cmd, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{cmd} failed ({done.returncode}):\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh venv (reusing the system's numpy) with `pip install <repository root>` done."""
    if shutil.which("swift") is None and not os.environ.get("SWIFT"):
        pytest.skip("the Swift toolchain is needed to build the package (swift not on PATH)")
    base = tmp_path_factory.mktemp("pkg")
    venv = base / "venv"
    run([sys.executable, "-m", "venv", "--system-site-packages", venv], env=clean_env())
    python = venv / "bin" / "python"
    run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", ROOT],
        env=clean_env(), cwd=base, timeout=900)
    elsewhere = base / "elsewhere"
    elsewhere.mkdir()
    return python, elsewhere


PROBE = r"""
import json, sys
from importlib.metadata import version
from pathlib import Path
import numpy as np
import pdeblocks as pdb
lib = sys.modules["pdeblocks._lib"].lib
K = pdb.DifferenceOperator([0, 1], h=0.5)
f = np.array(json.loads(sys.argv[1]))
u = pdb.explicit(f, K, pdb.Diffusivity("perona_malik", lam=1.5), 0.1, 7)
print(json.dumps({
    "version": pdb.__version__, "dist_version": version("pdeblocks"),
    "package": str(Path(pdb.__file__).parent), "library": lib._name,
    "include": pdb.get_include(), "u": u.tolist(),
    "weights": K.weights.tolist(), "offset": K.offset,
}))
"""


def test_installed_package_imports_from_another_directory_without_environment(installed, rng):
    python, elsewhere = installed
    f = rng.standard_normal(23)
    out = json.loads(run([python, "-c", PROBE, json.dumps(f.tolist())], cwd=elsewhere, env=clean_env()).stdout)

    assert out["version"] == out["dist_version"] == source_version()
    package = Path(out["package"])
    assert package.parent.name == "site-packages" and str(python.parent.parent) in str(package)
    # The fastest variant this CPU runs, bundled beside the package (pdeblocks._variants).
    assert Path(out["library"]) == package / f"libpdeblocks-{runnable()[-1]}.so"
    # A real computation, checked against the dense transcription of eq. (4).
    K = dense_stencil(out["weights"], out["offset"], f.size)
    np.testing.assert_allclose(out["u"], explicit_reference(f, K, "perona_malik", 1.5, 0.1, 7), rtol=1e-12, atol=1e-12)
    # Headers and py.typed are bundled; get_include() points at the bundled copy.
    assert Path(out["include"]) == package / "include"
    for header in (ROOT / "include").glob("*.h"):
        assert (package / "include" / header.name).read_bytes() == header.read_bytes()
    assert (package / "py.typed").is_file()


def test_bundled_library_needs_no_swift_runtime(installed):
    python, _ = installed
    readelf = shutil.which("readelf")
    if readelf is None:
        pytest.skip("readelf not available (apt-get install -y binutils)")
    libraries = sorted(python.parent.parent.glob("lib/python*/site-packages/pdeblocks/libpdeblocks*.so"))
    assert {p.name for p in libraries} == {"libpdeblocks.so"} | {f"libpdeblocks-{v.name}.so" for v in VARIANTS}
    for library in libraries:
        dynamic = run([readelf, "-d", library]).stdout
        needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dynamic)
        assert needed and not [n for n in needed if "swift" in n.lower() or "Foundation" in n], needed
        assert "/opt/swift" not in dynamic and "toolchain" not in dynamic  # no RUNPATH into a toolchain


def test_environment_variable_still_wins_over_the_bundled_library(installed):
    python, elsewhere = installed
    probe = "import sys, pdeblocks; print(sys.modules['pdeblocks._lib'].lib._name)"
    this_library = sys.modules["pdeblocks._lib"].lib._name
    shown = run([python, "-c", probe], cwd=elsewhere, env=clean_env(PDEBLOCKS_LIBRARY=this_library)).stdout.strip()
    assert shown == this_library
    # A wrong path is an error naming it, not a silent fallback to the bundled copy.
    missing = str(elsewhere / "no-such-libpdeblocks.so")
    failed = subprocess.run([python, "-c", probe], cwd=elsewhere, env=clean_env(PDEBLOCKS_LIBRARY=missing),
                            capture_output=True, text=True)
    assert failed.returncode != 0 and "ImportError" in failed.stderr and missing in failed.stderr


def test_python_folder_builds_the_same_wheel(installed, tmp_path):
    python, _ = installed
    run([python, "-m", "pip", "wheel", "--quiet", "--no-deps", "--disable-pip-version-check",
         "--wheel-dir", tmp_path, ROOT / "python"], env=clean_env(), cwd=tmp_path, timeout=900)
    (wheel,) = tmp_path.glob("pdeblocks-*.whl")
    # manylinux_2_N: N is the newest glibc symbol version the bundled libraries reference.
    glibc = max(int(m) for lib in (ROOT / ".build" / "lib").glob("libpdeblocks*.so")
                for m in re.findall(rb"GLIBC_2\.([0-9]+)", lib.read_bytes()))
    assert wheel.name == f"pdeblocks-{source_version()}-py3-none-manylinux_2_{glibc}_{platform.machine()}.whl"
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"pdeblocks/libpdeblocks.so", "pdeblocks/include/pdeblocks.h", "pdeblocks/py.typed",
            "pdeblocks/__init__.py", "pdeblocks/torch/__init__.py", "pdeblocks/models/__init__.py"} | {f"pdeblocks/libpdeblocks-{v.name}.so"
                                                                       for v in VARIANTS} <= names
    assert wheel.stat().st_size < 40e6, wheel.stat().st_size   # three stripped variants
    assert not [n for n in names if n.startswith(("swift_build", "setup", "tests/"))], names
    shipped = {f"pdeblocks/models/{p.name}" for p in (ROOT / "python" / "pdeblocks" / "models").glob("*.pdbnet")}
    assert shipped <= names   # the pretrained denoisers travel with the wheel


def test_both_pyproject_files_declare_the_same_project():
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    sub = tomllib.loads((ROOT / "python" / "pyproject.toml").read_text())
    root["project"].pop("readme")
    assert root["project"] == sub["project"]
    assert root["build-system"] == sub["build-system"]
    assert root["tool"]["setuptools"]["package-data"] == sub["tool"]["setuptools"]["package-data"]
    assert root["tool"]["setuptools"]["packages"] == sub["tool"]["setuptools"]["packages"]

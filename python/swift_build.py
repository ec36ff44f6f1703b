"""setuptools commands that build libpdeblocks.so with SwiftPM and bundle it into the package.

Used by the two build scripts, ``setup.py`` at the repository root (``pip install .``) and
``python/setup.py`` (``pip install ./python``); not part of the installed package.

The library is built in release mode with ``-Xswiftc -static-stdlib``: the Swift runtime is
linked in, so the bundled ``libpdeblocks.so`` needs only libc, libm, libstdc++ and libgcc_s
and loads on machines without a Swift toolchain.

Environment variables read at build time:

``SWIFT``
    The ``swift`` driver (default: ``swift`` on ``PATH``).
``PDEBLOCKS_CPU``
    LLVM CPU name passed as ``-target-cpu`` on x86-64 (``haswell`` = x86-64-v3, ``native``),
    or ``baseline`` for no ``-target-cpu`` (portable wheels). Default: ``haswell`` when the
    build machine has AVX2, FMA, BMI2 and MOVBE, else ``baseline``; like ``make``'s ``CPU``.
``PDEBLOCKS_SCRATCH_PATH``
    SwiftPM scratch directory (default: ``.build-wheel`` in the repository root), kept
    apart from ``make``'s ``.build`` so that neither build invalidates the other.
"""
from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Distribution
from setuptools.command.build_py import build_py as _build_py

try:  # setuptools >= 70.1 ships bdist_wheel; older ones take it from the `wheel` package
    from setuptools.command.bdist_wheel import bdist_wheel as _bdist_wheel
except ImportError:  # pragma: no cover - depends on the build environment
    from wheel.bdist_wheel import bdist_wheel as _bdist_wheel

LIBRARY = "libpdeblocks.so"
HASWELL_FLAGS = {"avx2", "fma", "bmi2", "movbe"}


def version(root: Path) -> str:
    """The library version, read from its single source (``VersionABI.swift``)."""
    text = (root / "Sources" / "PDEBlocksABI" / "VersionABI.swift").read_text()
    match = re.search(r'static let string: StaticString = "([0-9]+\.[0-9]+\.[0-9]+)"', text)
    if match is None:
        raise RuntimeError("cannot find the version string in Sources/PDEBlocksABI/VersionABI.swift")
    return match.group(1)


def check_root(root: Path) -> Path:
    """``root`` if it is the PDEBlocks Swift package, else a clear error."""
    if not (root / "Package.swift").is_file() or not (root / "Sources" / "PDEBlocksABI").is_dir():
        raise RuntimeError(
            f"{root} is not the PDEBlocks source tree (no Package.swift / Sources/PDEBlocksABI): "
            "build from a clone of the repository, e.g. `pip install .` in its root")
    return root


def default_cpu() -> str:
    if platform.machine() not in ("x86_64", "AMD64"):
        return "baseline"
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "baseline"
    flags = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            break
    return "haswell" if HASWELL_FLAGS <= flags else "baseline"


def swift_command(root: Path) -> list[str]:
    """The ``swift build`` command line for the bundled library (without ``--show-bin-path``)."""
    swift = os.environ.get("SWIFT") or shutil.which("swift")
    if not swift:
        raise RuntimeError(
            "the Swift toolchain is needed to build pdeblocks (swift not found on PATH): "
            "install Swift 6 and put its bin directory on PATH, or set SWIFT=/path/to/swift")
    scratch = Path(os.environ.get("PDEBLOCKS_SCRATCH_PATH") or root / ".build-wheel")
    cpu = os.environ.get("PDEBLOCKS_CPU") or default_cpu()
    command = [swift, "build", "-c", "release", "--package-path", str(root),
               "--scratch-path", str(scratch), "--product", "pdeblocks",
               "-Xswiftc", "-static-stdlib"]
    if cpu != "baseline" and platform.machine() in ("x86_64", "AMD64"):
        command += ["-Xswiftc", "-target-cpu", "-Xswiftc", cpu, "-Xswiftc", "-DPDB_FMA"]
    return command


def build_library(root: Path) -> Path:
    """Run the Swift release build and return the path of the built ``libpdeblocks.so``."""
    command = swift_command(root)
    print("pdeblocks: " + " ".join(command), flush=True)
    subprocess.run([sys.executable, str(root / "python" / "gen_abi.py")], check=True)  # _abi.py from the headers
    subprocess.run(command, check=True)
    bindir = subprocess.run(command + ["--show-bin-path"], check=True, capture_output=True,
                            text=True).stdout.strip().splitlines()[-1]
    library = Path(bindir) / LIBRARY
    if not library.is_file():
        raise RuntimeError(f"swift build succeeded but {library} does not exist")
    return library


def commands(root: Path) -> dict:
    """The ``cmdclass`` for ``setup()`` (with ``distclass=BinaryDistribution``): bundles the
    library and headers, tags the wheel."""
    root = check_root(root.resolve())

    class build_py(_build_py):
        """Also build libpdeblocks.so and copy it and ``include/*.h`` into the package."""

        def run(self):
            super().run()
            if getattr(self, "editable_mode", False):
                # Editable installs import python/pdeblocks in place; it finds the library
                # through $PDEBLOCKS_LIBRARY or the source tree's .build/release (`make build`).
                return
            package = Path(self.build_lib) / "pdeblocks"
            package.mkdir(parents=True, exist_ok=True)
            shutil.copy2(build_library(root), package / LIBRARY)
            include = package / "include"
            shutil.rmtree(include, ignore_errors=True)
            include.mkdir()
            for header in sorted((root / "include").glob("*.h")):
                shutil.copy2(header, include / header.name)

    class bdist_wheel(_bdist_wheel):
        """A platform wheel (it holds a native library) for any Python 3: ``py3-none-<platform>``.

        The library is loaded with ctypes, so it does not depend on the Python ABI.
        """

        def get_tag(self):
            _, _, plat = super().get_tag()
            return "py3", "none", plat

    return {"build_py": build_py, "bdist_wheel": bdist_wheel}


class BinaryDistribution(Distribution):
    """A distribution with a native library: built into platlib, installed as a platform wheel."""

    def has_ext_modules(self):
        return True

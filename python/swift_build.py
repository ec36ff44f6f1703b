"""setuptools commands that build libpdeblocks.so with SwiftPM and bundle it into the package.

Used by the two build scripts, ``setup.py`` at the repository root (``pip install .``) and
``python/setup.py`` (``pip install ./python``); not part of the installed package.

The library is built once per CPU variant (``python/pdeblocks/_variants.py``: baseline,
x86-64-v3, x86-64-v4 on x86-64), in release mode with ``-Xswiftc -static-stdlib`` (the Swift
runtime linked in: each ``libpdeblocks-<variant>.so`` needs only libc, libm, libstdc++ and
libgcc_s and loads on machines without a Swift toolchain), plus the C dispatcher
``libpdeblocks.so`` for C programs (``Sources/PDEBlocksDispatch``). The Python package loads
the fastest variant the CPU runs (``pdeblocks._lib``). The wheel is tagged
``manylinux_2_<N>_<arch>`` with N the newest glibc symbol version the libraries need.

``python python/swift_build.py LIB_DIR`` is what ``make build`` runs (LIB_DIR = .build/lib).

Environment variables read at build time:

``SWIFT``
    The ``swift`` driver (default: ``swift`` on ``PATH``).
``CC``
    The C compiler for the dispatcher (default: ``cc``).
``PDEBLOCKS_VARIANTS``
    Comma-separated variants to build (default: all of the architecture's), e.g. ``v3``.
``PDEBLOCKS_SCRATCH_PATH``
    Root of the SwiftPM scratch directories, one per variant (default: ``.build`` in the
    repository root: ``.build/v3`` …, shared with ``make build``, whose flags are the same).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

LIBRARY = "libpdeblocks.so"
sys.path.insert(0, str(Path(__file__).resolve().parent / "pdeblocks"))
import _variants  # noqa: E402  (the variant table alone; the package would load the library)


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


def swift() -> str:
    found = os.environ.get("SWIFT") or shutil.which("swift")
    if not found:
        raise RuntimeError(
            "the Swift toolchain is needed to build pdeblocks (swift not found on PATH): "
            "install Swift 6 and put its bin directory on PATH, or set SWIFT=/path/to/swift")
    return found


def selected_variants() -> list[_variants.Variant]:
    """The variants to build: all of this architecture's, or those named in
    ``$PDEBLOCKS_VARIANTS`` (comma-separated, e.g. ``v3`` for a quick local build)."""
    wanted = [w for w in os.environ.get("PDEBLOCKS_VARIANTS", "").split(",") if w]
    known = {v.name: v for v in _variants.VARIANTS}
    unknown = [w for w in wanted if w not in known]
    if unknown:
        raise RuntimeError(f"PDEBLOCKS_VARIANTS names unknown variants {unknown} (known: {', '.join(known)})")
    return [known[w] for w in wanted] if wanted else list(_variants.VARIANTS)


def swift_command(root: Path, variant: _variants.Variant, scratch: Path) -> list[str]:
    """The ``swift build`` command line of one variant (without ``--show-bin-path``); the
    flags come from the variant table only, so make and pip builds share their caches."""
    command = [swift(), "build", "-c", "release", "--package-path", str(root),
               "--scratch-path", str(scratch / variant.name), "--product", "pdeblocks",
               "--disable-local-rpath",   # needs only system libraries: no RUNPATH $ORIGIN
               "-Xswiftc", "-static-stdlib", *NO_MATH_ERRNO]
    if variant.llvm_cpu:
        command += ["-Xswiftc", "-target-cpu", "-Xswiftc", variant.llvm_cpu]
    for define in variant.defines:
        command += ["-Xswiftc", f"-D{define}"]
    for feature in variant.llvm_features:
        # swiftc has no -target-feature; its code generation takes the Clang importer's
        # target, so the feature goes to Clang's cc1: -Xcc -Xclang -Xcc -target-feature ...
        for arg in ("-Xcc", "-Xclang", "-Xcc", "-target-feature", "-Xcc", "-Xclang", "-Xcc", feature):
            command += ["-Xswiftc", arg]
    return command


#: Clang importer flag for every variant: the Swift runtime's ``squareRoot`` shim is C's
#: ``__builtin_sqrt``, which with errno semantics (Linux default) compiles to a scalar sqrt
#: with a libm call for negative inputs, so ``SIMD8<Double>.squareRoot()`` ran lane by lane;
#: without errno it is one ``vsqrtpd``. The library never reads errno.
NO_MATH_ERRNO = ("-Xswiftc", "-Xcc", "-Xswiftc", "-fno-math-errno")


def build_variant(root: Path, variant: _variants.Variant, scratch: Path) -> Path:
    """Run one variant's Swift release build; the path of its ``libpdeblocks.so``."""
    command = swift_command(root, variant, scratch)
    print("pdeblocks: " + " ".join(command), flush=True)
    subprocess.run(command, check=True)
    bindir = subprocess.run(command + ["--show-bin-path"], check=True, capture_output=True,
                            text=True).stdout.strip().splitlines()[-1]
    library = Path(bindir) / LIBRARY
    if not library.is_file():
        raise RuntimeError(f"swift build succeeded but {library} does not exist")
    return library


def build_dispatcher(root: Path, scratch: Path, lib_dir: Path) -> Path:
    """Compile the C dispatcher ``libpdeblocks.so`` (for C programs) into ``lib_dir``."""
    generated = scratch / "dispatch"
    subprocess.run([sys.executable, str(root / "python" / "gen_dispatch.py"),
                    str(generated / "dispatch_table.inc")], check=True)
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if not cc:
        raise RuntimeError("a C compiler is needed for the dispatcher libpdeblocks.so (set CC)")
    target = lib_dir / LIBRARY
    command = [cc, "-std=gnu11", "-O2", "-fPIC", "-shared", "-Wall", "-Werror",
               "-I", str(root / "include"), "-I", str(generated),
               str(root / "Sources" / "PDEBlocksDispatch" / "dispatch.c"),
               "-o", str(target), "-Wl,-soname," + LIBRARY, "-ldl"]
    print("pdeblocks: " + " ".join(command), flush=True)
    subprocess.run(command, check=True)
    return target


def build_library_dir(root: Path, lib_dir: Path, scratch: Path | None = None, *, link: bool = False) -> Path:
    """Build every selected variant and the dispatcher; ``lib_dir`` then holds
    ``libpdeblocks-<variant>.so`` (copies, or symlinks with ``link``) and ``libpdeblocks.so``."""
    scratch = Path(scratch or os.environ.get("PDEBLOCKS_SCRATCH_PATH") or root / ".build")
    subprocess.run([sys.executable, str(root / "python" / "gen_abi.py")], check=True)  # _abi.py from the headers
    lib_dir.mkdir(parents=True, exist_ok=True)
    for variant in selected_variants():
        built = build_variant(root, variant, scratch)
        target = lib_dir / _variants.library_name(variant.name)
        target.unlink(missing_ok=True)
        if link:
            target.symlink_to(os.path.relpath(built, lib_dir))
        else:   # an installed copy: without the debug information (about half the size)
            shutil.copy2(built, target)
            if strip := shutil.which("strip"):
                subprocess.run([strip, "--strip-debug", str(target)], check=True)
    (lib_dir / LIBRARY).unlink(missing_ok=True)
    build_dispatcher(root, scratch, lib_dir)
    return lib_dir


def commands(root: Path) -> dict:
    """The ``cmdclass`` for ``setup()`` (with ``distclass=binary_distribution()``): bundles the
    library and headers, tags the wheel."""
    # setuptools only here: `make build` runs this file with any python3.
    from setuptools.command.build_py import build_py as _build_py
    try:  # setuptools >= 70.1 ships bdist_wheel; older ones take it from the `wheel` package
        from setuptools.command.bdist_wheel import bdist_wheel as _bdist_wheel
    except ImportError:  # pragma: no cover - depends on the build environment
        from wheel.bdist_wheel import bdist_wheel as _bdist_wheel
    root = check_root(root.resolve())

    class build_py(_build_py):
        """Also build libpdeblocks.so and copy it and ``include/*.h`` into the package."""

        def run(self):
            super().run()
            if getattr(self, "editable_mode", False):
                # Editable installs import python/pdeblocks in place; it finds the library
                # through $PDEBLOCKS_LIBRARY or the source tree's .build/lib (`make build`).
                return
            package = Path(self.build_lib) / "pdeblocks"
            package.mkdir(parents=True, exist_ok=True)
            build_library_dir(root, package)
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
            package = Path(self.get_finalized_command("build_py").build_lib) / "pdeblocks"
            return "py3", "none", manylinux_tag(plat, sorted(package.glob("libpdeblocks*.so")))

    return {"build_py": build_py, "bdist_wheel": bdist_wheel}


def manylinux_tag(plat: str, libraries: list[Path]) -> str:
    """``linux_<arch>`` as ``manylinux_2_<N>_<arch>``, N the newest ``GLIBC_2.N`` symbol
    version the libraries reference (they install on any Linux with that glibc or newer);
    ``plat`` unchanged when it is not a Linux tag or no library is found."""
    if not plat.startswith("linux_") or not libraries:
        return plat
    minors = [int(m) for lib in libraries for m in re.findall(rb"GLIBC_2\.([0-9]+)", lib.read_bytes())]
    return f"manylinux_2_{max(minors, default=17)}_{plat.removeprefix('linux_')}"


def binary_distribution():
    """The ``distclass`` for ``setup()``: a distribution with a native library, built into
    platlib and installed as a platform wheel."""
    from setuptools import Distribution

    class BinaryDistribution(Distribution):
        def has_ext_modules(self):
            return True

    return BinaryDistribution


def main(argv: list[str]) -> int:
    """``python python/swift_build.py LIB_DIR``: what ``make build`` runs (variants symlinked)."""
    if len(argv) != 1:
        print("usage: python python/swift_build.py LIB_DIR", file=sys.stderr)
        return 2
    root = check_root(Path(__file__).resolve().parent.parent)
    build_library_dir(root, Path(argv[0]).resolve(), link=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

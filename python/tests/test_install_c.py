"""C users: `make install PREFIX=...` and a program built through pkg-config, with no
LD_LIBRARY_PATH and no Swift runtime on the library's search path."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from pdeblocks._variants import VARIANTS

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def tool(name: str, how: str) -> str:
    path = shutil.which(name)
    if path is None:
        message = f"{name} not found; install it with `{how}`"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs it (.ci/run): missing there is an error
        pytest.skip(message)
    return path


def source_version() -> str:
    text = (ROOT / "Sources" / "PDEBlocksABI" / "VersionABI.swift").read_text()
    return re.search(r'StaticString = "([^"]+)"', text).group(1)


def user_env(**extra: str) -> dict[str, str]:
    drop = ("LD_LIBRARY_PATH", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "PKG_CONFIG_PATH")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(extra)
    return env


def run(cmd, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{cmd} failed ({done.returncode}):\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done


@pytest.fixture(scope="module")
def prefix(tmp_path_factory):
    make = tool("make", "apt-get install -y make")
    prefix = tmp_path_factory.mktemp("install") / "prefix"
    run([make, "-C", ROOT, "install", f"PREFIX={prefix}"], env=user_env(), timeout=900)
    return prefix


def test_make_install_lays_out_headers_library_and_pkgconfig(prefix):
    for header in (ROOT / "include").glob("*.h"):
        assert (prefix / "include" / header.name).read_bytes() == header.read_bytes()
    assert (prefix / "lib" / "libpdeblocks.so").is_file()
    pc = (prefix / "lib" / "pkgconfig" / "pdeblocks.pc").read_text()
    assert f"prefix={prefix}\n" in pc and f"Version: {source_version()}\n" in pc


def test_installed_library_needs_only_system_libraries(prefix):
    readelf = tool("readelf", "apt-get install -y binutils")
    # The dispatcher libpdeblocks.so and one library per CPU variant (pdeblocks._variants).
    libraries = sorted((prefix / "lib").glob("libpdeblocks*.so"))
    assert {p.name for p in libraries} == {"libpdeblocks.so"} | {f"libpdeblocks-{v.name}.so" for v in VARIANTS}
    system = re.compile(r"^(libc|libm|libstdc\+\+|libgcc_s|ld-linux[-\w]*|libpthread|libdl)\.so(\.\d+)*$")
    for library in libraries:
        dynamic = run([readelf, "-d", library]).stdout
        needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dynamic)
        assert needed and all(system.match(n) for n in needed), (library, needed)
        assert "swift" not in dynamic.lower()


def build_with_pkg_config(prefix, tmp_path, example):
    """Compiles examples/<example>.c with the flags pkg-config gives for the installed copy
    only (no -I/-L into the source tree or the build); returns the executable."""
    pkg_config = tool("pkg-config", "apt-get install -y pkg-config")
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no C compiler (apt-get install -y gcc)")
    env = user_env(PKG_CONFIG_PATH=str(prefix / "lib" / "pkgconfig"))
    assert run([pkg_config, "--modversion", "pdeblocks"], env=env).stdout.strip() == source_version()
    flags = run([pkg_config, "--cflags", "--libs", "pdeblocks"], env=env).stdout.split()
    assert f"-I{prefix}/include" in flags and f"-L{prefix}/lib" in flags
    exe = tmp_path / example
    run([cc, "-std=c11", "-Wall", "-Wextra", "-Werror", ROOT / "examples" / f"{example}.c", *flags, "-lm",
         "-o", exe], env=env, cwd=tmp_path)
    return exe


def test_c_example_builds_with_pkg_config_against_the_installed_copy_and_runs(prefix, tmp_path):
    exe = build_with_pkg_config(prefix, tmp_path, "denoise")
    done = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60, env=user_env(), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = {line.split()[0]: line.split()[1:] for line in done.stdout.splitlines() if line.split()}
    noisy_rmse, denoised_rmse = float(rows["noisy"][1]), float(rows["denoised"][1])
    assert denoised_rmse < 0.2 * noisy_rmse
    assert "status -4" in done.stdout
    ldd = shutil.which("ldd")
    if ldd:
        resolved = run([ldd, exe], env=user_env()).stdout
        assert f"libpdeblocks.so => {prefix}/lib/libpdeblocks.so" in resolved, resolved


def test_c_image_example_builds_with_pkg_config_and_denoises_a_pgm(prefix, tmp_path):
    exe = build_with_pkg_config(prefix, tmp_path, "denoise_image")
    synthetic = run([exe], env=user_env(), cwd=tmp_path, timeout=60).stdout
    psnr = {line.split()[0]: float(line.split()[2]) for line in synthetic.splitlines() if "PSNR" in line}
    assert psnr["denoised"] > psnr["noisy"] + 10, synthetic
    # A PGM in, a PGM out: a step edge 40 | 200 with +-10 noise comes back flatter, the edge kept.
    samples = np.where(np.arange(24) < 12, 40, 200)[None, :] + np.tile([10, -10], (16, 12))
    (tmp_path / "in.pgm").write_bytes(b"P5\n24 16\n255\n" + samples.astype(np.uint8).tobytes())
    run([exe, "in.pgm", "out.pgm"], env=user_env(), cwd=tmp_path, timeout=60)
    out = np.frombuffer((tmp_path / "out.pgm").read_bytes()[len(b"P5\n24 16\n255\n"):], dtype=np.uint8)
    out = out.reshape(16, 24).astype(int)
    assert np.abs(out[:, 2:10] - 40).max() < 5 and np.abs(out[:, 14:22] - 200).max() < 5
    bad = tmp_path / "bad.pgm"
    bad.write_bytes(b"P5\n24 16\n0\n")
    done = subprocess.run([str(exe), str(bad), "x.pgm"], capture_output=True, text=True, env=user_env(), cwd=tmp_path)
    assert done.returncode == 1 and "maxval 0" in done.stderr


def test_make_uninstall_removes_what_install_put(prefix, tmp_path):
    # A second prefix so the other tests keep theirs.
    make = tool("make", "apt-get install -y make")
    other = tmp_path / "prefix"
    run([make, "-C", ROOT, "install", f"PREFIX={other}"], env=user_env(), timeout=900)
    run([make, "-C", ROOT, "uninstall", f"PREFIX={other}"], env=user_env())
    assert [p for p in other.rglob("*") if p.is_file()] == []

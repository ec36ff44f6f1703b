"""python/pdeblocks/_abi.py is exactly what python/gen_abi.py makes of include/*.h, and what it
says agrees with the C compiler and with the library's exported symbols."""
import ctypes
import re
import importlib.util
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from pdeblocks import _abi
from pdeblocks._lib import lib

ROOT = Path(__file__).resolve().parents[2]


def load_generator():
    spec = importlib.util.spec_from_file_location("gen_abi", ROOT / "python" / "gen_abi.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_checked_in_bindings_equal_a_fresh_generation_from_the_headers():
    fresh = load_generator().generate()
    assert (ROOT / "python" / "pdeblocks" / "_abi.py").read_text() == fresh, \
        "python/pdeblocks/_abi.py is stale: run `python python/gen_abi.py`"


def test_imported_bindings_are_the_generated_ones():
    # The package in use (source tree or an installed copy) carries the same generated file.
    assert Path(_abi.__file__).read_text() == load_generator().generate()


def test_generator_check_mode_reports_a_stale_file():
    run = subprocess.run([sys.executable, str(ROOT / "python" / "gen_abi.py"), "--check"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_every_exported_entry_point_has_a_generated_signature():
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("nm not available")
    out = subprocess.run([nm, "-D", "--defined-only", lib._name], check=True, capture_output=True, text=True).stdout
    exported = {line.split()[-1] for line in out.splitlines() if line.split()[-1].startswith("pdb_")}
    assert set(_abi.SIGNATURES) == exported


def test_signatures_have_one_name_per_argument_type():
    for name, (restype, argtypes, names) in _abi.SIGNATURES.items():
        assert len(argtypes) == len(names), name
        assert restype in (ctypes.c_int32, ctypes.c_char_p), name


def test_thread_counts_are_int32_everywhere():
    # One integer type for a thread count across the ABI (pdb_set_threads, pdb_get_threads,
    # pdb_network_set_threads, and any later entry point or struct field named *threads).
    gen = load_generator()
    seen = []
    for header in gen.header_files():
        text = gen.strip_comments(header.read_text())
        for ctype in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*\**\s*\b\w*threads\b\s*[,);]", text):
            seen.append((header.name, ctype))
    assert len(seen) >= 3
    assert all(ctype == "int32_t" for _, ctype in seen), seen


def c_compiler():
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no C compiler")
    return cc


def compile_and_run(tmp_path, name, lines):
    """The output lines of a C program (``lines``) compiled against include/."""
    source, exe = tmp_path / f"{name}.c", tmp_path / name
    source.write_text("\n".join(lines))
    subprocess.run([c_compiler(), "-std=c11", f"-I{ROOT / 'include'}", str(source), "-o", str(exe)], check=True)
    return subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.splitlines()


def test_constants_equal_what_the_c_compiler_sees(tmp_path):
    names = [n for n in dir(_abi) if n.startswith("PDB_") and isinstance(getattr(_abi, n), int)]
    lines = ['#include <stdio.h>', '#include "pdeblocks.h"', "int main(void) {"]
    lines += [f'    printf("%s %lld\\n", "{n}", (long long)({n}));' for n in names]
    lines += ["    return 0;", "}"]
    seen = dict(line.split() for line in compile_and_run(tmp_path, "constants", lines))
    assert {n: int(v) for n, v in seen.items()} == {n: getattr(_abi, n) for n in names}


def test_struct_formats_equal_the_c_layout(tmp_path):
    lines = ['#include <stdio.h>', '#include <stddef.h>', '#include "pdeblocks.h"', "int main(void) {"]
    for name, (_, fields) in _abi.STRUCTS.items():
        lines.append(f'    printf("{name} size %zu\\n", sizeof({name}));')
        lines += [f'    printf("{name} {f} %zu\\n", offsetof({name}, {f}));' for f in fields]
    lines += ["    return 0;", "}"]
    seen = {tuple(line.split()[:2]): int(line.split()[2]) for line in compile_and_run(tmp_path, "layout", lines)}
    for name, (fmt, fields) in _abi.STRUCTS.items():
        assert seen[(name, "size")] == struct.calcsize(fmt), name
        offsets, position = [], 0
        for code in fmt[1:]:
            size = struct.calcsize("@" + code)
            position = (position + size - 1) // size * size   # native alignment of each field
            offsets.append(position)
            position += size
        assert [seen[(name, f)] for f in fields] == offsets, name

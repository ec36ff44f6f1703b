"""Building the C examples (examples/*.c) against the header and the library under test."""
import shutil
import subprocess
from pathlib import Path

import pytest

from pdeblocks._lib import lib

ROOT = Path(__file__).resolve().parents[2]
LIBPATH = Path(lib._name)


def build_c_example(name: str, directory: Path) -> Path:
    """Compiles examples/<name>.c with -std=c11 -Wall -Wextra -Werror into `directory`
    (skips the test when there is no C compiler); returns the executable."""
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no C compiler")
    exe = directory / name
    subprocess.run([cc, "-std=c11", "-Wall", "-Wextra", "-Werror", f"-I{ROOT / 'include'}",
                    str(ROOT / "examples" / f"{name}.c"), f"-L{LIBPATH.parent}", "-lpdeblocks",
                    f"-Wl,-rpath,{LIBPATH.parent}", "-lm", "-o", str(exe)], check=True)
    return exe

"""Every function declared in include/pdeblocks_multigrid.h is exported by the library, and
pdeblocks.h includes the header."""
import re
from pathlib import Path

from pdeblocks._lib import lib

INCLUDE = Path(__file__).resolve().parents[2] / "include"


def test_multigrid_header_declarations_are_exported():
    text = (INCLUDE / "pdeblocks_multigrid.h").read_text()
    names = re.findall(r"^\s*int32_t\s+(pdb_\w+)\s*\(", text, flags=re.M)
    assert len(names) == 19
    missing = [name for name in names if not hasattr(lib, name)]
    assert missing == []


def test_main_header_includes_the_multigrid_header():
    assert '#include "pdeblocks_multigrid.h"' in (INCLUDE / "pdeblocks.h").read_text()

"""The multigrid header declares exactly the entry points MultigridABI.swift defines, the
library exports every one of them, and pdeblocks.h includes the header."""
import re
from pathlib import Path

from pdeblocks._lib import lib

ROOT = Path(__file__).resolve().parents[2]


def test_multigrid_header_declares_exactly_the_exported_entry_points():
    header = set(re.findall(r"^\s*int32_t\s+(pdb_\w+)\s*\(", (ROOT / "include" / "pdeblocks_multigrid.h").read_text(), flags=re.M))
    defined = set()
    for name in ("MultigridABI.swift", "Multigrid2DABI.swift"):   # 1D and 2D sections of the header
        defined |= set(re.findall(r'@_cdecl\("(pdb_\w+)"\)', (ROOT / "Sources" / "PDEBlocksABI" / name).read_text()))
    assert header == defined and len(header) > 10
    assert [name for name in sorted(header) if not hasattr(lib, name)] == []


def test_main_header_includes_the_multigrid_header():
    assert '#include "pdeblocks_multigrid.h"' in (ROOT / "include" / "pdeblocks.h").read_text()

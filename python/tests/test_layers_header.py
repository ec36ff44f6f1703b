"""The layers header declares exactly the exported @_cdecl entry points, with matching arity."""
import re
from pathlib import Path

import pdeblocks as pb

ROOT = Path(__file__).resolve().parents[2]


def header_declarations():
    text = (ROOT / "include" / "pdeblocks_layers.h").read_text()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    decls = {}
    for m in re.finditer(r"int32_t\s+(pdb_\w+)\s*\(([^)]*)\)\s*;", text):
        args = [a for a in m.group(2).split(",") if a.strip() and a.strip() != "void"]
        decls[m.group(1)] = len(args)
    return decls


def swift_definitions():
    text = (ROOT / "Sources" / "PDEBlocksABI" / "LayersABI.swift").read_text()
    defs = {}
    for m in re.finditer(r'@_cdecl\("(\w+)"\)\s*public func \w+\((.*?)\)\s*->', text, flags=re.S):
        params = m.group(2).strip()
        defs[m.group(1)] = 0 if not params else params.count(":")
    return defs


def test_header_matches_the_exported_entry_points():
    decls, defs = header_declarations(), swift_definitions()
    assert decls and decls == defs
    for name in decls:
        assert hasattr(pb._lib, name), name

"""Every code family of include/*.h agrees with the Swift enums of the ABI layer
(Sources/PDEBlocksABI/ABIEnums.swift): for every family in _abi.ENUMS (generated from the
headers) and every member, pdb_enum_name(family, code) is the member's C name without the
family prefix, lowercased; codes outside the family (its _COUNT, -1, combined bits) have no
name; pdb_status_string names every status. A member added to a header but not to the Swift
enum (or with another value or name) fails here; a family not listed in pdb_enum_family too."""
import ctypes
import re
from pathlib import Path

import pytest

from pdeblocks import _abi
from pdeblocks._lib import lib

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def clib():
    c = ctypes.CDLL(lib._name)   # a private handle: argtypes set here touch no other module
    for name in ("pdb_enum_name", "pdb_status_string", "pdb_diffusivity_name", "pdb_last_error"):
        restype, argtypes, _ = _abi.SIGNATURES[name]
        getattr(c, name).restype = restype
        getattr(c, name).argtypes = list(argtypes)
    return c


def family_code(family: str) -> int:
    """PDB_ENUM_<FAMILY> of the C type pdb_<family>."""
    return getattr(_abi, "PDB_ENUM_" + family.removeprefix("pdb_").upper())


def members(family: str) -> list[tuple[str, int]]:
    return [("PDB_" + m.name, int(m.value)) for m in _abi.ENUMS[family]]


def prefix(names: list[str]) -> str:
    """The longest common prefix of whole '_'-separated words (a single member keeps its last word)."""
    words = [n.split("_") for n in names]
    k = 0
    while all(len(w) > k + 1 for w in words) and len({tuple(w[:k + 1]) for w in words}) == 1:
        k += 1
    return "_".join(words[0][:k]) + "_"


def is_bits(family: str) -> bool:
    """Bit-flag families have no _COUNT (pdb_status has none either: its codes have gaps)."""
    return family != "pdb_status" and not any(name.endswith("_COUNT") for name, _ in members(family))


def test_the_generator_found_every_family():
    assert len(_abi.ENUMS) >= 20
    for family in ("pdb_status", "pdb_diffusivity", "pdb_smoother", "pdb_cycle", "pdb_transfer",
                   "pdb_evolve_report", "pdb_enum_family", "pdb_forward_flag"):
        assert family in _abi.ENUMS, family


def test_pdb_enum_family_lists_exactly_the_families_of_the_headers():
    codes = {family_code(f): f for f in _abi.ENUMS}             # every header family has a code
    listed = {v for n, v in members("pdb_enum_family") if not n.endswith("_COUNT")}
    assert set(codes) == listed
    assert sorted(listed) == list(range(_abi.PDB_ENUM_COUNT))


@pytest.mark.parametrize("family", sorted(_abi.ENUMS))
def test_every_member_has_its_c_name_and_value_in_swift(clib, family):
    code = family_code(family)
    entries = members(family)
    p = prefix([n for n, _ in entries])
    assert p.startswith("PDB_")
    named = [(n, v) for n, v in entries if not n.endswith("_COUNT")]
    for name, value in named:
        got = clib.pdb_enum_name(code, value)
        assert got is not None, f"{name} = {value}: no name in the Swift enum of {family}"
        assert got.decode() == name.removeprefix(p).lower(), (family, name, value)
    values = [v for _, v in named]
    assert len(set(values)) == len(values), family                # distinct codes
    if is_bits(family):
        assert all(v > 0 and v & (v - 1) == 0 for v in values), family  # one bit each
        assert clib.pdb_enum_name(code, 0) is None
        assert clib.pdb_enum_name(code, max(values) << 1) is None
        if len(values) > 1:
            assert clib.pdb_enum_name(code, values[0] | values[1]) is None
    elif family != "pdb_status":
        count = dict(entries)[p + "COUNT"]
        assert sorted(values) == list(range(count)), family       # 0 .. COUNT-1, no gaps
        assert clib.pdb_enum_name(code, count) is None
        assert clib.pdb_enum_name(code, -1) is None
    for bad in (2**31 - 1, -2**31):
        assert clib.pdb_enum_name(code, bad) is None


def test_unknown_families_have_no_names(clib):
    for family in (-1, _abi.PDB_ENUM_COUNT, 2**31 - 1):
        assert clib.pdb_enum_name(family, 0) is None


def test_status_string_names_every_status(clib):
    statuses = members("pdb_status")
    assert all(v <= 0 for _, v in statuses) and ("PDB_OK", 0) in statuses
    for name, value in statuses:
        assert clib.pdb_status_string(value).decode() == name.removeprefix("PDB_").lower()
        assert clib.pdb_status_string(value) == clib.pdb_enum_name(_abi.PDB_ENUM_STATUS, value)
    for bad in (1, -11, -98, -100):
        assert clib.pdb_status_string(bad) is None


def test_diffusivity_names_are_the_enum_names(clib):
    for name, value in members("pdb_diffusivity"):
        if not name.endswith("_COUNT"):
            assert clib.pdb_diffusivity_name(value) == clib.pdb_enum_name(_abi.PDB_ENUM_DIFFUSIVITY, value)
    assert clib.pdb_diffusivity_name(_abi.PDB_DIFFUSIVITY_COUNT) is None


def test_an_unknown_code_is_refused_naming_the_family_and_every_member(clib):
    band = (ctypes.c_double * 9)(0, 2, -1, -1, 2, -1, -1, 2, 0)
    handle = ctypes.c_void_p()
    mg_create = ctypes.CDLL(lib._name).pdb_mg_create
    restype, argtypes, _ = _abi.SIGNATURES["pdb_mg_create"]
    mg_create.restype, mg_create.argtypes = restype, list(argtypes)
    status = mg_create(3, 1, 1, band, _abi.PDB_GRID_VERTEX, _abi.PDB_SMOOTHER_COUNT, 0.0, 1, 1,
                       _abi.PDB_CYCLE_V, _abi.PDB_TRANSFER_AUTO, 1, 0, ctypes.byref(handle))
    assert status == _abi.PDB_ERR_INVALID
    message = clib.pdb_last_error().decode()
    assert f"unknown smoother {_abi.PDB_SMOOTHER_COUNT}" in message
    for name, value in members("pdb_smoother"):
        if not name.endswith("_COUNT"):
            assert f"{name} = {value}" in message


def deprecated_aliases() -> dict[str, str]:
    aliases = {}
    for header in sorted((ROOT / "include").glob("*.h")):
        for old, new, comment in re.findall(r"^#define\s+(PDB_\w+)\s+(PDB_\w+)\s*/\*(.*?)\*/", header.read_text(), flags=re.M):
            assert f"deprecated: use {new}" in comment, old
            aliases[old] = new
    return aliases


def test_deprecated_c_aliases_equal_their_new_names_and_the_readme_lists_them():
    aliases = deprecated_aliases()
    assert {"PDB_MG_JACOBI", "PDB_MG_CYCLE_V", "PDB_MG_TRANSFER_AUTO", "PDB_EVOLVE_REPORT_LENGTH"} <= set(aliases)
    readme = (ROOT / "README.md").read_text()
    for old, new in aliases.items():
        assert getattr(_abi, old) == getattr(_abi, new), old
        assert old in readme or old.rsplit("_", 1)[0] + "_*" in readme, f"README does not mention {old}"

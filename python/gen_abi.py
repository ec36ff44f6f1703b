#!/usr/bin/env python3
"""Generate ``python/pdeblocks/_abi.py`` from the C headers in ``include/``.

The header is the single source of the ABI. This script reads ``include/pdeblocks.h`` and
the area headers it includes, and writes every constant, every typed enum family, every
packed-argument struct layout and every entry-point signature as Python data, so no
``python/pdeblocks`` module writes a code, a report slot or an argtype list by hand.

    python python/gen_abi.py            # (re)write python/pdeblocks/_abi.py
    python python/gen_abi.py --check    # exit 1 if the file on disk differs (what the tests run)

The parser covers the subset of C the headers use (and the header test keeps them to it):
``#define PDB_NAME <integer expression>``, ``typedef enum { PDB_A = <expr>, … } pdb_family;``,
``typedef struct pdb_x { <type> <field>; … } pdb_x;`` (fields of scalar or pointer type),
opaque ``typedef struct pdb_x pdb_x;``, function-pointer typedefs, and prototypes
``<type> pdb_name(<type> <arg>, …);``. Anything else that looks like a declaration of a
``pdb_`` name is an error, so a header change the generator does not understand fails the
build instead of silently dropping a binding.
"""
from __future__ import annotations

import ast
import operator
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INCLUDE = ROOT / "include"
OUTPUT = ROOT / "python" / "pdeblocks" / "_abi.py"

# C scalar types -> (ctypes name, struct format character)
SCALARS = {
    "int32_t": ("ctypes.c_int32", "i"),
    "int64_t": ("ctypes.c_int64", "q"),
    "double": ("ctypes.c_double", "d"),
    "void": (None, None),
}


class HeaderError(Exception):
    pass


def strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def header_files() -> list[Path]:
    """pdeblocks.h first, then the area headers in the order it includes them."""
    main = INCLUDE / "pdeblocks.h"
    names = re.findall(r'#include\s+"([^"]+)"', main.read_text())
    return [main] + [INCLUDE / n for n in names]


_BINOPS = {ast.LShift: operator.lshift, ast.BitOr: operator.or_, ast.Add: operator.add,
           ast.Sub: operator.sub, ast.Mult: operator.mul}


def evaluate(expr: str, known: dict[str, int]) -> int:
    """An integer constant expression of the headers: literals, names defined before,
    integer casts, unary minus, <<, |, +, -, *, parentheses."""
    expr = re.sub(r"(?<=\d)[uUlL]+\b", "", expr.strip())
    expr = re.sub(r"\(\s*u?int(?:8|16|32|64)_t\s*\)", "", expr)   # integer casts: (int64_t)1 << 32

    def ev(node: ast.AST) -> int:
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.Name) and node.id in known:
            return known[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -ev(node.operand)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return _BINOPS[type(node.op)](ev(node.left), ev(node.right))
        raise HeaderError(f"not an integer constant expression: {expr!r}")

    return ev(ast.parse(expr, mode="eval").body)


def split_declarator(decl: str) -> tuple[str, str]:
    """'const double *weights' -> ('const double *', 'weights')."""
    m = re.fullmatch(r"\s*(.*?[\s\*])\s*(\w+)\s*", decl)
    if not m:
        raise HeaderError(f"cannot read the declaration {decl!r}")
    return " ".join(m.group(1).replace("*", " * ").split()), m.group(2)


def statements(text: str) -> list[tuple[int, str]]:
    """The text split at the semicolons outside braces (struct and enum bodies stay whole),
    each with the offset where it starts."""
    result, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if ch == ";" and depth == 0:
            piece = text[start:i]
            result.append((start + len(piece) - len(piece.lstrip()), piece.strip()))
            start = i + 1
    if text[start:].strip():
        raise HeaderError(f"unterminated declaration: {text[start:].strip()[:120]}")
    return [(at, s) for at, s in result if s]


class Header:
    def __init__(self) -> None:
        self.constants: dict[str, int] = {}
        self.enums: dict[str, list[tuple[str, int]]] = {}
        self.structs: dict[str, list[tuple[str, str]]] = {}
        self.opaque: list[str] = []
        self.callbacks: list[str] = []
        self.functions: dict[str, tuple[str, list[tuple[str, str]]]] = {}

    def read(self, text: str) -> None:
        """Declarations in the order of the text, so a #define may name an enum value
        declared above it (the deprecated aliases: #define PDB_OLD PDB_NEW)."""
        text = strip_comments(text)
        defines = [(m.start(), m.group(1), m.group(2))
                   for m in re.finditer(r"^\s*#define\s+(PDB_\w+)\s+(.+?)\s*$", text, flags=re.M)]
        blank = lambda m: " " * len(m.group(0))   # keep the offsets of what follows
        text = re.sub(r"^\s*#.*$", blank, text, flags=re.M)
        text = re.sub(r'extern\s+"C"\s*\{|^\s*\}\s*$', blank, text, flags=re.M)
        items = [(start, "define", (name, expr)) for start, name, expr in defines]
        items += [(start, "statement", s) for start, s in statements(text)]
        for _, what, item in sorted(items, key=lambda i: i[0]):
            if what == "define":
                self.constants[item[0]] = evaluate(item[1], self.constants)
            else:
                self.statement(" ".join(item.split()))

    def statement(self, s: str) -> None:
        if m := re.fullmatch(r"typedef enum(?: \w+)? \{(.*)\} (pdb_\w+)", s):
            self.enum(m.group(2), m.group(1))
        elif m := re.fullmatch(r"typedef struct (pdb_\w+) \{(.*)\} (pdb_\w+)", s):
            self.structs[m.group(3)] = [split_declarator(f) for f in m.group(2).split(";") if f.strip()]
        elif re.fullmatch(r"typedef struct (\w+) \1", s):
            self.opaque.append(s.split()[-1])
        elif m := re.fullmatch(r"typedef .*\(\s*\*\s*(pdb_\w+)\s*\)\s*\(.*\)", s):
            self.callbacks.append(m.group(1))
        elif m := re.fullmatch(r"(.+?[\s\*])(pdb_\w+)\s*\((.*)\)", s):
            args = [] if m.group(3).strip() in ("", "void") else [split_declarator(a) for a in m.group(3).split(",")]
            self.functions[m.group(2)] = (" ".join(m.group(1).replace("*", " * ").split()), args)
        elif "pdb_" in s or "PDB_" in s:
            raise HeaderError(f"the generator cannot read this declaration: {s[:120]}")

    def enum(self, family: str, body: str) -> None:
        values, nxt = [], 0
        for item in (i.strip() for i in body.split(",")):
            if not item:
                continue
            name, _, expr = (p.strip() for p in item.partition("="))
            value = evaluate(expr, self.constants) if expr else nxt
            self.constants[name] = value
            values.append((name, value))
            nxt = value + 1
        self.enums[family] = values

    # ---- mapping C types to ctypes and struct formats ----

    def ctype(self, ctype: str, *, result: bool = False) -> str:
        base = ctype.replace("const ", "").strip()
        if base == "char *":
            return "ctypes.c_char_p"   # NUL-terminated strings (names, paths) in and out
        if "*" in base or base in self.callbacks:
            # Arrays, out-parameters, handles and callbacks are raw addresses; a packed-argument
            # struct is passed as a bytes object (one struct.pack), which c_char_p accepts.
            stem = base.replace("*", "").strip()
            return "ctypes.c_char_p" if stem in self.structs else "ctypes.c_void_p"
        if base in self.enums:
            return "ctypes.c_int32"
        if base not in SCALARS:
            raise HeaderError(f"unknown C type {ctype!r}")
        if SCALARS[base][0] is None:
            if result:
                return "None"
            raise HeaderError("void argument")
        return SCALARS[base][0]

    def struct_format(self, name: str) -> str:
        chars = []
        for ctype, _ in self.structs[name]:
            base = ctype.replace("const ", "").strip()
            chars.append("P" if "*" in base else SCALARS[base][1] if base in SCALARS else "i")
        return "@" + "".join(chars)


def generate() -> str:
    header = Header()
    for path in header_files():
        header.read(path.read_text())
    sources = ", ".join(f"include/{p.name}" for p in header_files())
    out = [
        f'"""The C ABI as Python data, generated by python/gen_abi.py from {sources}.',
        "",
        "Do not edit: change the header and run `python python/gen_abi.py` (the build runs it, and",
        "python/tests/test_abi_generated.py fails when this file and the headers differ).",
        '"""',
        "import ctypes",
        "import enum",
        "",
        "# ---- constants (#define and enum values) ----",
    ]
    out += [f"{name} = {value}" for name, value in header.constants.items()]
    out += ["", "# ---- typed enum families (append-only in the header) ----"]
    for family, values in header.enums.items():
        cls = "".join(part.capitalize() for part in family.removeprefix("pdb_").split("_"))
        out += ["", "", f"class {cls}(enum.IntEnum):", f'    """``{family}``."""']
        out += [f"    {name.removeprefix('PDB_')} = {value}" for name, value in values]
    out += ["", "", "ENUMS = {"] + [
        f"    {family!r}: {''.join(p.capitalize() for p in family.removeprefix('pdb_').split('_'))},"
        for family in header.enums] + ["}"]
    out += ["", "# ---- packed-argument structs: field names and the struct-module format ----",
            "STRUCTS = {"]
    for name, fields in header.structs.items():
        out.append(f"    {name!r}: ({header.struct_format(name)!r}, {tuple(f for _, f in fields)!r}),")
    out += ["}", "", "# ---- entry points: name -> (restype, argtypes, argument names) ----", "SIGNATURES = {"]
    for name, (ret, args) in header.functions.items():
        argtypes = ", ".join(header.ctype(t) for t, _ in args)
        names = tuple(a for _, a in args)
        out.append(f"    {name!r}: ({header.ctype(ret, result=True)}, ({argtypes}{',' if len(args) == 1 else ''}), {names!r}),")
    out += ["}", "", "",
            "def bind(lib: ctypes.CDLL) -> None:",
            '    """Set restype and argtypes of every entry point of ``lib`` from :data:`SIGNATURES`."""',
            "    for name, (restype, argtypes, _) in SIGNATURES.items():",
            "        fn = getattr(lib, name)",
            "        fn.restype = restype",
            "        fn.argtypes = list(argtypes)",
            ""]
    return "\n".join(out)


def main(argv: list[str]) -> int:
    text = generate()
    if "--check" in argv:
        current = OUTPUT.read_text() if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT.relative_to(ROOT)} differs from the headers: run `python python/gen_abi.py`")
            return 1
        return 0
    if not OUTPUT.exists() or OUTPUT.read_text() != text:
        OUTPUT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

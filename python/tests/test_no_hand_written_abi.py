"""No module of python/pdeblocks except the generated _abi.py writes an argtype list, a
restype, a ctypes signature or a literal status code: they all come from the header through
python/gen_abi.py (issue 13, item 1). A hand-written copy would silently drift."""
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "pdeblocks"

FORBIDDEN = [
    (re.compile(r"\bargtypes\b"), "an argtypes list"),
    (re.compile(r"\brestype\b"), "a restype"),
    (re.compile(r"\bdeclare\s*\("), "a declare(...) signature"),
    # a negative literal compared with a status, or keying a table: PDB_ERR_* from _abi instead
    (re.compile(r"status\w*\s*(?:[=!<>]=|[<>])\s*-\d"), "a literal status code"),
    (re.compile(r"[{,]\s*-\d+\s*:"), "a table keyed by literal (status) codes"),
    (re.compile(r"\breport\[\d+\]"), "a literal report slot"),
]


def _modules():
    return sorted(p for p in PACKAGE.glob("*.py") if p.name != "_abi.py")


def test_the_package_has_modules():
    assert len(_modules()) >= 10


def test_no_hand_written_signatures_or_codes():
    found = []
    for path in _modules():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            for pattern, what in FORBIDDEN:
                if pattern.search(code):
                    found.append(f"{path.name}:{number}: {what}: {line.strip()}")
    assert not found, "hand-written ABI data outside _abi.py:\n" + "\n".join(found)


def test_the_checker_sees_what_it_forbids():
    samples = ['fn.argtypes = [I64]', 'fn.restype = I32', '_x = declare("pdb_x", PTR, I64)',
               'if status == -5:', '{-4: UnstableError}', 'report[3]']
    assert len(samples) == len(FORBIDDEN)
    for sample, (pattern, _) in zip(samples, FORBIDDEN):
        assert pattern.search(sample), sample

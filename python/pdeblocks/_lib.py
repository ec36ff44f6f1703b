"""Loading of libpdeblocks.so, its status codes as exceptions, and array helpers.

Every entry point's signature comes from :mod:`pdeblocks._abi`, generated from the
headers (``python/gen_abi.py``); :func:`_abi.bind` sets them all once, here, and
modules use the entry points by name (``lib.pdb_fsi``). Calls go through :func:`call`,
which raises :class:`PDEBlocksError` with the library's message on a nonzero status.

The library is found, in order, at ``$PDEBLOCKS_LIBRARY`` (a path to one build of the
library; when set it always wins, and a wrong path is an error rather than a silent
fallback), next to this package (what ``pip install`` bundles), or in the source tree's
``.build/lib`` directory (``make build``, with ``PYTHONPATH=python``). The last two hold one
build per CPU variant (``libpdeblocks-v4.so`` …); the fastest one this CPU runs is loaded,
or the one ``$PDEBLOCKS_CPU`` names (:mod:`pdeblocks._variants`).
"""
from __future__ import annotations

import ctypes
import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from . import _abi, _variants

__all__ = ["PDEBlocksError", "CancelledError", "BusyError", "OutOfMemoryError", "lib", "codes", "call", "error", "F64", "I64", "I32", "PTR",
           "as_output", "c_string", "ptr", "get_include"]

#: A float64 array, as every function returns.
FloatArray = npt.NDArray[np.float64]

F64 = ctypes.c_double
I64 = ctypes.c_int64
I32 = ctypes.c_int32
PTR = ctypes.c_void_p   # float64 arrays are passed as raw addresses (no per-call ndpointer checks)


class PDEBlocksError(ValueError):
    """An error reported by the library; ``status`` is the C status code (``PDB_ERR_*``)."""

    def __init__(self, message: str, status: int = _abi.PDB_ERR_INVALID):
        super().__init__(message)
        self.status = status


class UnstableError(PDEBlocksError):
    """A step size exceeds the stability (or contraction) bound (``PDB_ERR_UNSTABLE``)."""


class NotConvergedError(PDEBlocksError):
    """An iteration stopped at its limit before reaching the tolerance (``PDB_ERR_NOT_CONVERGED``)."""


class CancelledError(PDEBlocksError):
    """A call was cancelled by its progress callback (``PDB_ERR_CANCELLED``); see :mod:`pdeblocks.progress`."""


class BusyError(PDEBlocksError):
    """The object is in use by a call that is still running (``PDB_ERR_BUSY``): e.g. a progress
    callback that uses the network it reports on. Nothing was done; retry after that call returns."""


class OutOfMemoryError(PDEBlocksError, MemoryError):
    """Memory for a buffer sized by the arguments could not be allocated (``PDB_ERR_MEMORY``).

    Also a :class:`MemoryError`; the message gives the byte count and what it was for. The
    call changed nothing, and the library stays usable (smaller calls still work)."""


_STATUS_CLASSES = {_abi.PDB_ERR_UNSTABLE: UnstableError, _abi.PDB_ERR_NOT_CONVERGED: NotConvergedError,
                   _abi.PDB_ERR_CANCELLED: CancelledError, _abi.PDB_ERR_MEMORY: OutOfMemoryError,
                   _abi.PDB_ERR_BUSY: BusyError}


def _variant_library(directory: Path) -> Path | None:
    """The variant library to load from ``directory``, or None when it holds none."""
    installed = [v.name for v in _variants.VARIANTS
                 if (directory / _variants.library_name(v.name)).is_file()]
    if not installed:
        return None
    return directory / _variants.library_name(_variants.choose(installed, _variants.forced_variant()))


def _load() -> ctypes.CDLL:
    env = os.environ.get("PDEBLOCKS_LIBRARY")
    if env:
        if not Path(env).is_file():
            raise ImportError(f"PDEBLOCKS_LIBRARY={env} is not a file (unset it to use the installed library)")
        return ctypes.CDLL(env)
    here = Path(__file__).resolve().parent
    directories = [here, here.parent.parent / ".build" / "lib"]
    for directory in directories:
        if (path := _variant_library(directory)) is not None:
            return ctypes.CDLL(str(path))
    raise ImportError(
        "libpdeblocks not found (tried: " + ", ".join(str(d / "libpdeblocks-*.so") for d in directories)
        + "); install the package with `pip install .` in the repository root, build the "
        "library with `make build` (source tree, PYTHONPATH=python), or set PDEBLOCKS_LIBRARY")


lib = _load()
_abi.bind(lib)   # every entry point's restype and argtypes, from the header


def codes(prefix: str, names: Any = None) -> dict:
    """``{python name: code}`` for a family of header constants ``PDB_<PREFIX><NAME>``.

    ``names=None``: every constant with the prefix (except a ``*_COUNT`` sentinel), keyed
    by its lowercased suffix, in code order (``codes("PDB_FED_ORDER_")`` is
    ``{"plain": 0, "kappa": 1, "leja": 2}``), so a value appended to the header appears
    here without a Python change. ``names``: the Python names (their uppercased form is the
    suffix), or a dict ``{python name: suffix}`` where the names differ. A suffix the
    header does not define is an ``AttributeError`` at import, not a silent wrong code.
    """
    if names is None:
        found = {k[len(prefix):].lower(): v for k, v in vars(_abi).items()
                 if k.startswith(prefix) and isinstance(v, int) and not k.endswith("_COUNT")}
        return dict(sorted(found.items(), key=lambda kv: kv[1]))
    if not isinstance(names, dict):
        names = {name: name.upper() for name in names}
    return {name: getattr(_abi, prefix + suffix) for name, suffix in names.items()}


def call(fn: Any, *args: Any) -> None:
    """Call a status-returning entry point; raise :class:`PDEBlocksError` on failure."""
    status = fn(*args)
    if status != _abi.PDB_OK:
        raise error(status)


def error(status: int) -> PDEBlocksError:
    """The exception for a failed call's ``status``, with this thread's ``pdb_last_error()``
    (for hot paths that call an entry point directly: ``if status: raise error(status)``)."""
    message = lib.pdb_last_error().decode("utf-8", "replace")
    return _STATUS_CLASSES.get(status, PDEBlocksError)(message, status)


_F64 = np.dtype(np.float64)


def c_string(value: Any, name: str, *, path: bool = False) -> bytes:
    """The bytes to pass for a C string argument (``const char *``) called ``name``.

    With ``path=True`` the value is a file-system path: ``str``, ``bytes`` or
    ``os.PathLike``, passed as its ``os.fsencode`` bytes unchanged (a file name that is not
    UTF-8 stays the name it is). Otherwise it must be a ``str``, passed as UTF-8.

    An embedded NUL is refused with ``ValueError`` (as ``open()`` does): C reads a string
    up to its first NUL, so ``"net.pdbnet\\0.backup"`` would silently mean ``"net.pdbnet"``.
    """
    data = os.fsencode(value) if path else value.encode("utf-8")
    if b"\0" in data:
        raise ValueError(f"{name} contains an embedded null byte: {value!r}")
    return data


def as_output(shape: int | tuple[int, ...]) -> FloatArray:
    return np.empty(shape, dtype=np.float64)


def ptr(arr: np.ndarray | None) -> int | None:
    """Address of an array's data (None for NULL).

    ``ctypes.c_char.from_buffer`` is several times cheaper than ``arr.ctypes.data``; it
    needs a writable, nonempty buffer, so read-only and empty arrays take the slow path.
    """
    if arr is None:
        return None
    try:
        return _addressof(_from_buffer(arr))
    except (TypeError, ValueError, BufferError):
        return arr.ctypes.data


_from_buffer = ctypes.c_char.from_buffer
_addressof = ctypes.addressof


def get_include() -> str:
    """The directory of the C headers (``pdeblocks.h`` …) matching the loaded library.

    The copy bundled with an installed package, else the source tree's ``include/``.
    For C extensions built against the library, like ``numpy.get_include()``.
    """
    here = Path(__file__).resolve().parent
    for candidate in (here / "include", here.parent.parent / "include"):
        if (candidate / "pdeblocks.h").is_file():
            return str(candidate)
    raise FileNotFoundError("pdeblocks.h not found next to the package or in the source tree")

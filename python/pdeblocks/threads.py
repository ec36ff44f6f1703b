"""Thread count of the library (process-wide)."""
from __future__ import annotations

import ctypes

from ._args import INT32, as_int
from ._lib import call, lib

__all__ = ["set_num_threads", "get_num_threads"]

_set = lib.pdb_set_threads
_get = lib.pdb_get_threads


def set_num_threads(threads: int) -> None:
    """Use ``threads`` threads for batches (rows split across threads), for single long
    signals (columns split per step) and for the large levels of 2D multigrid cycles (row
    bands); 0 restores the default, one per processor.
    Results are bitwise identical for every thread count. The calls release the GIL."""
    call(_set, as_int(threads, "threads", INT32))


def get_num_threads() -> int:
    """The number of threads the library uses."""
    out = ctypes.c_int32()
    call(_get, ctypes.addressof(out))
    return out.value

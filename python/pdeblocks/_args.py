"""The one argument layer: type and shape conversions shared by every wrapper.

Each function converts a Python argument to what the C ABI takes and refuses what it
cannot convert (wrong type, wrong number of dimensions, an integer ctypes would wrap),
raising :class:`PDEBlocksError` (a ``ValueError``). Domain rules -- omega in (0, 2),
n >= 1, finite diagonals, tau > 0 ... -- are *not* checked here: the library checks them
once, and its message reaches the caller through :func:`pdeblocks._lib.call`.
"""
from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
import numpy.typing as npt

from ._lib import FloatArray, PDEBlocksError, as_output

__all__ = ["as_int", "as_float", "as_choice", "as_stencil", "as_array", "as_signals", "as_rows", "as_rhs",
           "history_buffer", "finish", "renamed", "INT64", "INT32"]

#: The range of the C int64.
INT64 = (-(1 << 63), (1 << 63) - 1)
_F64 = np.dtype(np.float64)


#: The range of the C int32.
INT32 = (-(1 << 31), (1 << 31) - 1)


def as_int(value: Any, name: str, bounds: tuple[int, int] = INT64) -> int:
    """An integer argument that fits the C int64 (``bounds=INT32``: an int32_t), which ctypes
    would silently wrap; bools and non-integral numbers are refused."""
    if type(value) is int and bounds[0] <= value <= bounds[1]:
        return value  # the common case, without the (slow) ABC checks below
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise PDEBlocksError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if not bounds[0] <= value <= bounds[1]:
        raise PDEBlocksError(f"{name} = {value} is out of range")
    return value


def as_float(value: Any, name: str) -> float:
    """A real-number argument (int, float, numpy scalar; not bool, complex or a string)."""
    if type(value) is float:
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise PDEBlocksError(f"{name} must be a real number, got {value!r}")
    return float(value)


def as_choice(value: Any, table: dict, what: str) -> int:
    """The code of a named option (``table``: name -> code, built from the header by
    :func:`pdeblocks._lib.codes`); an unknown name lists the known ones."""
    try:
        return table[value]
    except (KeyError, TypeError):
        known = ", ".join(repr(k) for k in table if k is not None)
        raise PDEBlocksError(f"unknown {what} {value!r} (known: {known})") from None


def as_stencil(K: Any, name: str = "K"):
    """A :class:`~pdeblocks.Stencil` argument (no conversion: a stencil is built explicitly)."""
    from .operators import Stencil
    if isinstance(K, Stencil):
        return K
    raise PDEBlocksError(f"{name} must be a Stencil, got {type(K).__name__}")


def as_array(a: npt.ArrayLike, name: str = "array", ndim: tuple[int, ...] | None = (1, 2)) -> FloatArray:
    """A C-contiguous float64 view of ``a`` (zero-copy when it already is one).

    Integer and float32 inputs are converted (copied) to float64; complex, object
    and boolean inputs are refused, as are arrays of other dimensions (``ndim=None``:
    any number of dimensions, 0 included; a 0-d input gives a 0-d array).
    """
    if type(a) is np.ndarray and a.dtype == _F64 and a.flags.c_contiguous and (ndim is None or a.ndim in ndim):
        return a  # the common case, without conversions (keeps small calls cheap)
    arr = np.asarray(a)
    if arr.dtype.kind not in "fiu":
        raise PDEBlocksError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if ndim is not None and arr.ndim not in ndim:
        raise PDEBlocksError(f"{name} must have {' or '.join(map(str, ndim))} dimensions, got shape {arr.shape}")
    # not np.ascontiguousarray: it turns a 0-d array into shape (1,)
    return np.asarray(arr, dtype=np.float64, order="C")


def as_signals(f: npt.ArrayLike, name: str = "f") -> tuple[FloatArray, int, int, bool]:
    """``(array2d, batch, n, squeeze)`` for a 1-D signal or a (batch, n) array."""
    arr = as_array(f, name)
    squeeze = arr.ndim == 1
    arr2 = arr.reshape(1, -1) if squeeze else arr
    return arr2, arr2.shape[0], arr2.shape[1], squeeze


def as_rows(f: npt.ArrayLike, name: str = "f") -> tuple[FloatArray, int, int]:
    """``(array, batch, n)`` for a 1-D signal (batch 1) or a (batch, n) array, keeping its
    shape (an output ``as_output(array.shape)`` then needs no squeezing)."""
    if type(f) is np.ndarray and f.dtype == _F64 and f.flags.c_contiguous and 1 <= f.ndim <= 2:
        arr = f  # as_array's common case, tested here to save a call on small, hot calls
    else:
        arr = as_array(f, name)
    shape = arr.shape
    return (arr, 1, shape[0]) if len(shape) == 1 else (arr, shape[0], shape[1])


#: Largest history (in values) a wrapper allocates: 2^33 doubles = 64 GiB.
MAX_HISTORY_VALUES = 1 << 33


def history_buffer(arr, steps: int, record_every: int):
    """The (steps // record_every + 1, *arr.shape) history buffer, or None when not recording.
    Too large a request is a PDEBlocksError, not a MemoryError halfway through."""
    if record_every > 0 and steps >= 0:
        count = (steps // record_every + 1) * arr.size
        if count > MAX_HISTORY_VALUES:
            raise PDEBlocksError(f"history would hold {count} values (more than {MAX_HISTORY_VALUES}); "
                                 f"record less often (record_every = {record_every})")
        try:
            return as_output((steps // record_every + 1,) + arr.shape)
        except MemoryError:
            raise PDEBlocksError(f"not enough memory for a history of {count} values") from None
    return None


def finish(out, history, squeeze):
    """Drop the batch axis of 1-D inputs; return ``out`` or ``(out, history)``."""
    if squeeze:
        out = out[0]
        if history is not None:
            history = history[:, 0]
    return out if history is None else (out, history)


def renamed(function: str, old: str, new: str, old_value: Any, new_value: Any, default: Any) -> Any:
    """The value of a keyword renamed ``old`` -> ``new``: ``old`` still works for one release,
    with a :class:`DeprecationWarning`; passing both is an error."""
    if old_value is None:
        return default if new_value is None else new_value
    if new_value is not None:
        raise TypeError(f"{function}() got both {new}= and its deprecated name {old}=")
    warnings.warn(f"{function}(): {old}= is deprecated, use {new}= (as SciPy)", DeprecationWarning, stacklevel=3)
    return old_value


def as_rhs(b, x0, n: int, mismatch: str):
    """``(b, x0, batch, squeeze)`` for a solver of ``n`` unknowns: ``b`` as signals, ``x0`` (or
    None) of the same shape; ``mismatch`` completes the error for a wrong length."""
    ba, batch, length, squeeze = as_signals(b, "b")
    if length != n:
        raise PDEBlocksError(f"b has length {length}, {mismatch}")
    x0a = None
    if x0 is not None:
        x0a, _, _, _ = as_signals(x0, "x0")
        if x0a.shape != ba.shape:
            raise PDEBlocksError(f"x0 has shape {np.shape(x0)}, expected {np.shape(b)}")
    return ba, x0a, batch, squeeze

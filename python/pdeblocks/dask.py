"""Scale-out with Dask: pdeblocks functions on batches of signals, and on images, too large for one machine.

:func:`map_signals` applies any function of a ``(batch, N)`` array — a scheme such as
:func:`pdeblocks.explicit`, an operator such as ``Stencil.apply``, or a network's forward
pass — to a dask array of signals, chunk by chunk along the batch axis. Every signal is
processed independently by the library, so the result is bitwise identical to calling
the function on the whole array in one process, whatever the chunking.

Needs ``dask[array]`` (and ``distributed`` for clusters): ``pip install "dask[array,distributed]"``
or ``pip install ".[dask]"``. This module is not imported by ``import pdeblocks``.

On one machine::

    import dask.array as da
    import pdeblocks as pdb
    from pdeblocks.dask import map_signals

    f = da.from_zarr("signals.zarr")                 # (batch, N), chunked along batch
    K = pdb.DifferenceOperator([0, 1], h=1 / f.shape[1])
    g = pdb.Diffusivity("perona_malik", lam=70.0)
    tau = pdb.stable_tau(K, g, f.shape[1])
    u = map_signals(pdb.explicit, f, K, g, tau, 500)  # lazy dask array, same shape
    u.to_zarr("denoised.zarr")                        # or u.compute() if it fits in memory

On a multi-machine cluster the same code runs unchanged once a client is connected:

1. Install pdeblocks on every worker machine, the same version as on the client
   (``pip install .`` in a clone of the repository, or the wheel from ``make wheel``; each
   machine loads the variant its CPU runs, and the variants agree to 1e-10 relative — force
   one with ``PDEBLOCKS_CPU=baseline`` on every worker where bitwise equality across
   machines with different CPUs matters).
2. Start a scheduler (``dask scheduler``, port 8786) and on each machine a worker
   (``dask worker tcp://scheduler:8786 --nthreads 1 --nworkers <cores>``; one thread per
   worker process, since each library call uses one core).
3. Connect before computing::

       from dask.distributed import Client
       client = Client("tcp://scheduler:8786")
       u = map_signals(pdb.explicit, f, K, g, tau, 500).compute()

Big images. :func:`explicit_image`, :func:`fsi_image` and :func:`fed_image` run the image
schemes (``K`` a :class:`pdeblocks.Stencil2D` or a filter bank) on an (H, W) or (B, H, W) dask
array chunked over rows and columns (and images), bitwise equal to the local call; :func:`map_image`
applies any function of an image with a halo you give. An 8192² image in 16 chunks::

    from pdeblocks.dask import explicit_image, fed_image

    f = da.from_zarr("scan.zarr").rechunk((2048, 2048))   # (8192, 8192)
    K = pdb.gradient_2d()
    g = pdb.Diffusivity("perona_malik", lam=0.05)
    tau = pdb.stable_tau(K, g, f.shape)                   # the whole image's bound
    u = fed_image(f, K, g, tau, 20, 10)                   # 10 FED cycles of 20 steps: rounds of 6 and 4 cycles
    v = explicit_image(f, K, g, tau, 1000)                # 7 rounds of 128 steps, one of 104
    u.to_zarr("fed.zarr")

Each chunk runs with a halo of neighbour pixels (``dask.array.map_overlap``, no padding at the
image border, where the library's mirror is right). The halo is ``n x`` :func:`step_reach`
for ``n`` steps: one step is exact except within the reach of ``K`` plus that of ``K^T`` of a
chunk's edge (1 pixel for ``gradient_2d``), and each step widens that band by at most as much. Long runs are split into rounds (a halo exchange each) of whole steps or whole FSI/FED
cycles, as many as keep the halo within 1/16 of the smallest chunk (above: 2048/16 = 128
steps, 12.5 % extra work per axis); ``steps_per_round=``/``cycles_per_round=`` override it.
Details: :mod:`pdeblocks.dask_images`.

The function and its arguments travel to the workers by pickle: module-level functions
such as ``pdb.explicit`` by name (hence the same version everywhere), ``Stencil`` and
``Diffusivity`` by value (rebuilt and validated on the worker). The signals themselves
should be read by the workers (``da.from_zarr``, ``da.from_array`` on a shared file …)
rather than sent from the client.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from . import _abi
from ._lib import PDEBlocksError

try:
    import dask.array as da
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "pdeblocks.dask needs dask: pip install \"dask[array,distributed]\" (or pip install \".[dask]\")"
    ) from error

__all__ = ["map_signals", "map_image", "step_reach", "explicit_image", "fsi_image", "fed_image"]


_ROW_COLUMN = re.compile(r"\bat row (\d+), column (\d+)")
_FLAT_INDEX = re.compile(r"(non-finite value \([^)]*\)) at index (\d+)")


def _globalise(error: PDEBlocksError, row0: int, rows: int) -> PDEBlocksError:
    """The same error with the positions it names ("at row r, column c" of the chunk, or
    "at index i" of a one-row chunk) moved to the rows of the whole dask array."""
    message = str(error)
    new = _ROW_COLUMN.sub(lambda m: f"at row {int(m.group(1)) + row0}, column {m.group(2)}", message)
    if rows == 1:
        new = _FLAT_INDEX.sub(lambda m: f"{m.group(1)} at row {row0}, column {m.group(2)}", new)
    if new == message:
        return error
    copy = type(error)(new, getattr(error, "status", _abi.PDB_ERR_INVALID))
    return copy


def _run_block(block: np.ndarray, fn: Callable[..., Any], args: tuple, kwargs: dict,
               n_out: int, block_info: dict | None = None) -> np.ndarray:
    """Apply ``fn`` to one chunk of rows; checks that it returned one (rows, n_out) array.
    An error naming a position in the chunk is re-raised with the global row."""
    if block.shape[0] == 0:
        return np.empty((0, n_out), dtype=np.float64)
    row0 = 0
    if block_info and 0 in block_info:
        row0 = int(block_info[0]["array-location"][0][0])
    try:
        result = fn(block, *args, **kwargs)
    except PDEBlocksError as error:
        raise _globalise(error, row0, block.shape[0]) from None
    if isinstance(result, tuple):
        raise PDEBlocksError(
            f"{getattr(fn, '__name__', fn)!s} returned a tuple (e.g. explicit(..., record_every > 0)); "
            "map_signals needs a function that returns one (batch, N) array")
    result = np.asarray(result)
    if result.shape != (block.shape[0], n_out):
        raise PDEBlocksError(
            f"{getattr(fn, '__name__', fn)!s} returned shape {result.shape} for a chunk of shape "
            f"{block.shape}; expected {(block.shape[0], n_out)} (pass n_out= if the length changes)")
    return result.astype(np.float64, copy=False)


def map_signals(fn: Callable[..., Any], x: npt.ArrayLike | da.Array, *args: Any,
                batch_chunk: int | None = None, n_out: int | None = None,
                **kwargs: Any) -> da.Array:
    """Apply ``fn(chunk, *args, **kwargs)`` to a dask array of signals, chunk by chunk.

    ``fn`` is any pdeblocks function of a ``(batch, N)`` array that treats the rows
    independently: a scheme (``pdb.explicit``), an operator (``K.apply``), a network's
    forward pass. Rows are split into chunks along the batch axis; the signal axis is
    rechunked to a single chunk, since every scheme couples all N samples of a signal
    (through K and the mirrored boundaries). The result equals ``fn(x, *args, **kwargs)``
    computed in one process, bit for bit.

    Parameters
    ----------
    fn : callable
        Called as ``fn(chunk, *args, **kwargs)`` with a C-contiguous float64 ``(rows, N)``
        chunk; must return one ``(rows, n_out)`` array. It and its arguments must be
        picklable to run on worker processes (pdeblocks functions, stencils and
        diffusivities are).
    x : dask array or array_like, shape (batch, N) or (N,)
        The signals; never modified. A numpy array is wrapped with ``batch_chunk`` rows
        per chunk (default: dask's automatic chunking). Integer inputs become float64.
    *args, **kwargs
        Passed to ``fn`` unchanged, e.g. ``K, g, tau, steps`` for ``pdb.explicit``.
    batch_chunk : int, optional
        Rows per chunk; default: keep the batch chunks of ``x``.
    n_out : int, optional
        Length of each output row when ``fn`` changes it; default N.

    Returns
    -------
    dask.array.Array, shape (batch, n_out) or (n_out,)
        Lazy float64 result, chunked like ``x`` along the batch axis; call ``.compute()``
        (with a ``dask.distributed.Client`` connected to run on a cluster).

    Raises
    ------
    PDEBlocksError
        For arrays of other dimensions, non-real dtypes or a bad ``batch_chunk``/``n_out``
        (at once), and for a wrong result from ``fn`` (when computing). An error of ``fn``
        that names a position ("f contains a non-finite value (nan) at row 3, column 17")
        names it in the whole array: the chunk's first row is added.
    """
    if not callable(fn):
        raise PDEBlocksError(f"fn must be callable, got {type(fn).__name__}")
    arr = x if isinstance(x, da.Array) else da.asarray(np.asarray(x))
    if arr.dtype.kind not in "fiu":
        raise PDEBlocksError(f"x must be a real numeric array, got dtype {arr.dtype}")
    if arr.ndim not in (1, 2):
        raise PDEBlocksError(f"x must have shape (batch, N) or (N,), got shape {arr.shape}")
    squeeze = arr.ndim == 1
    if squeeze:
        arr = arr[None, :]
    n = arr.shape[1]
    n_out = n if n_out is None else int(n_out)
    if n_out <= 0:
        raise PDEBlocksError(f"n_out must be positive, got {n_out}")
    if batch_chunk is not None and int(batch_chunk) <= 0:
        raise PDEBlocksError(f"batch_chunk must be positive, got {batch_chunk}")
    rows = arr.chunks[0] if batch_chunk is None else int(batch_chunk)
    arr = arr.astype(np.float64).rechunk({0: rows, 1: -1})
    # One opaque callable per task: dask must not look into `args` (a tuple whose first
    # element is callable, like a Stencil, would otherwise read as a task to evaluate).
    run = functools.partial(_run_block, fn=fn, args=args, kwargs=kwargs, n_out=n_out)
    out = arr.map_blocks(
        run,
        dtype=np.float64, chunks=(arr.chunks[0], (n_out,)),
        meta=np.empty((0, 0), dtype=np.float64),
        token=f"pdeblocks-{getattr(fn, '__name__', 'map_signals')}",
    )
    return out[0] if squeeze else out


from .dask_images import explicit_image, fed_image, fsi_image, map_image, step_reach  # noqa: E402

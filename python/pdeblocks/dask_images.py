"""Big images on Dask: image schemes on a 2D (or batched 3D) dask array chunked over rows and
columns, by halo exchange (``dask.array.map_overlap``); re-exported by :mod:`pdeblocks.dask`,
whose docstring has the 8192² example.

How the halo is chosen. A chunk computed on its own differs from the whole-image run only
where the library's mirror at the chunk's edge stands in for the neighbour chunk. For a stencil
with ``k`` weights and offset ``o`` along an axis, ``K`` reads displacements ``o .. o+k-1``,
i.e. ``max(0, -o)`` back and ``max(0, o+k-1)`` ahead, and ``K^T`` the reverse; one step
``u - tau sum_c K_c^T G_c K_c u`` is then exact except at the pixels within the *reach*
``back + ahead`` of the edge (:func:`step_reach`; per channel and the largest over the channels
for the channelwise coupling; for the isotropic one, where ``G`` at a pixel combines every
channel there, the largest ``back`` plus the largest ``ahead``; 1 for ``gradient_2d``), and each
further step spreads the spoiled band by at most one reach. So ``n`` steps on a chunk grown by a
halo of ``n x reach`` (``map_overlap(boundary="none")``: no padding at the true border, where
the library's mirror is the right one), then trimmed, give exactly the whole-image values.

How the rounds are chosen. A long run is split into rounds, one ``map_overlap`` each (a halo
exchange between rounds): a round is a whole number of explicit steps or of FSI/FED cycles
(an FSI cycle restarts from ``u_{-1} = u_0``, an FED cycle takes the same step sizes, a frozen
diffusivity is per cycle), so the rounds compute the one-call result bit for bit. By default
a round is as long as keeps the halo within 1/16 of the smallest chunk on each chunked axis
(at most 12.5 % extra work per axis) and at least one step or cycle; ``steps_per_round`` /
``cycles_per_round`` override it (the halo may not exceed the smallest chunk). An axis in one
chunk needs no halo; a run on an image in one chunk is one local call.

The step size is checked at once against Theorem 2's bound for the *whole* image size, as
the local call does, and the chunks then run with ``check_stability=False`` (a chunk is a
smaller image, whose bound differs).
"""
from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from . import _abi
from ._args import as_choice, as_float, as_int
from ._lib import PDEBlocksError, UnstableError
from .accelerated import fed, fsi
from .image_schemes import COUPLINGS
from .schemes import explicit, stable_tau
from .stencil2d import as_bank

try:
    import dask.array as da
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "pdeblocks.dask needs dask: pip install \"dask[array,distributed]\" (or pip install \".[dask]\")"
    ) from error

__all__ = ["map_image", "step_reach", "explicit_image", "fsi_image", "fed_image"]

#: The default halo is at most the smallest chunk divided by this, per chunked axis.
HALO_FRACTION = 16

_POSITION = re.compile(r"\bat image (\d+), row (\d+), column (\d+)")


def _globalise(error: PDEBlocksError, origin: tuple[int, int, int]) -> PDEBlocksError:
    """The same error with "at image b, row r, column c" of a chunk moved to the whole array."""
    message = str(error)
    new = _POSITION.sub(lambda m: "at image {}, row {}, column {}".format(
        *(int(m.group(k + 1)) + origin[k] for k in range(3))), message)
    return error if new == message else type(error)(new, error.status)


def _origin(chunks: tuple, depth: dict, location: tuple) -> tuple[int, int, int]:
    """(image, row, column) of an overlapped chunk's first value in the whole array: chunks
    after the first on an axis start ``depth`` before their own first value."""
    start = [sum(chunks[ax][:k]) - (depth[ax] if k > 0 else 0) for ax, k in enumerate(location)]
    return tuple([0] * (3 - len(start)) + start)  # type: ignore[return-value]


def _run_tile(block: np.ndarray, fn: Callable[..., Any], args: tuple, kwargs: dict, chunks: tuple,
              depth: dict, block_info: dict | None = None) -> np.ndarray:
    """``fn`` on one chunk with its halo; checks the result's shape, names errors globally."""
    if block.size == 0:
        return np.empty(block.shape)
    try:
        result = fn(block, *args, **kwargs)
    except PDEBlocksError as error:
        if not (block_info and 0 in block_info):
            raise
        raise _globalise(error, _origin(chunks, depth, block_info[0]["chunk-location"])) from None
    name = getattr(fn, "__name__", fn)
    if isinstance(result, tuple):
        raise PDEBlocksError(f"{name!s} returned a tuple (e.g. record_every > 0); map_image needs one array")
    result = np.asarray(result)
    if result.shape != block.shape:
        raise PDEBlocksError(f"{name!s} returned shape {result.shape} for a chunk of shape {block.shape}; "
                             "map_image needs a function that keeps the shape")
    return result.astype(np.float64, copy=False)


def _image_array(x: Any, chunks: Any) -> da.Array:
    arr = x if isinstance(x, da.Array) else da.asarray(np.asarray(x))
    if arr.dtype.kind not in "fiu":
        raise PDEBlocksError(f"the image must be a real numeric array, got dtype {arr.dtype}")
    if arr.ndim not in (2, 3):
        raise PDEBlocksError(f"the image must have shape (H, W) or (B, H, W), got shape {arr.shape}")
    if any(np.isnan(n) for n in arr.shape):
        raise PDEBlocksError(f"the image has unknown chunk sizes (shape {arr.shape}); call compute_chunk_sizes() first")
    if 0 in arr.shape:
        raise PDEBlocksError(f"the image is empty: shape {arr.shape}")
    arr = arr.astype(np.float64)
    return arr if chunks is None else arr.rechunk(chunks)


def _depth(arr: da.Array, halo: tuple[int, int], what: str) -> dict[int, int]:
    """map_overlap's depth: the halo on each chunked image axis (none on the batch axis or on
    an axis in one chunk); refuses a halo larger than the smallest chunk."""
    depth = {ax: 0 for ax in range(arr.ndim)}
    for ax, h, axis in zip((arr.ndim - 2, arr.ndim - 1), halo, ("rows", "columns")):
        if len(arr.chunks[ax]) > 1 and h > 0:
            if h > min(arr.chunks[ax]):
                raise PDEBlocksError(f"{what} {h} along {axis} exceeds the smallest chunk ({min(arr.chunks[ax])}); "
                                     "use larger chunks (rechunk) or fewer steps per round")
            depth[ax] = h
    return depth


def _overlap(arr: da.Array, fn: Callable[..., Any], args: tuple, kwargs: dict, depth: dict, token: str) -> da.Array:
    # One opaque callable per task, as in map_signals (dask must not look into `args`).
    run = functools.partial(_run_tile, fn=fn, args=args, kwargs=kwargs, chunks=arr.chunks, depth=depth)
    return arr.map_overlap(run, depth=depth, boundary="none", trim=True, dtype=np.float64,
                           meta=np.empty((0,) * arr.ndim, dtype=np.float64), token=token)


def _as_halo(halo: Any) -> tuple[int, int]:
    pair = halo if isinstance(halo, (tuple, list)) else (halo, halo)
    if len(pair) != 2:
        raise PDEBlocksError(f"halo must be an integer or a pair (rows, columns), got {halo!r}")
    out = tuple(as_int(h, "halo") for h in pair)
    if min(out) < 0:
        raise PDEBlocksError(f"halo must be non-negative, got {halo!r}")
    return out  # type: ignore[return-value]


def map_image(fn: Callable[..., Any], x: npt.ArrayLike | da.Array, *args: Any, halo: int | tuple[int, int],
              chunks: Any = None, **kwargs: Any) -> da.Array:
    """Apply ``fn(chunk, *args, **kwargs)`` to a chunked image, each chunk grown by ``halo``.

    Each chunk is extended by ``halo`` pixels of its neighbours on the chunked row and column
    axes (not past the image border: ``map_overlap(boundary="none")``), ``fn`` runs on it, and
    the halo is cut off again. The result equals ``fn`` on the whole image wherever ``fn``'s
    value at a pixel depends only on the pixels within ``halo`` of it, and ``fn`` treats the
    image border as the library does (a pdeblocks function: mirrored). For the image schemes use
    :func:`explicit_image`, :func:`fsi_image`, :func:`fed_image`, which choose the halo and
    split long runs into rounds; :func:`step_reach` gives the halo per step of a filter bank.

    Parameters
    ----------
    fn : callable
        Called with a C-contiguous float64 ``(h, w)`` or ``(b, h, w)`` chunk; returns one
        array of the same shape. Must be picklable to run on worker processes.
    x : dask array or array_like, shape (H, W) or (B, H, W)
        The image(s), chunked over any axes; integer dtypes become float64.
    *args, **kwargs
        Passed to ``fn``.
    halo : int or (int, int)
        Pixels of neighbour chunks on each side, per axis (rows, columns); at most the smallest
        chunk on each axis that has more than one chunk.
    chunks : optional
        Rechunk ``x`` first (any ``dask.array.rechunk`` spec).

    Returns
    -------
    dask.array.Array
        Lazy float64 result, same shape and chunks.

    Raises
    ------
    PDEBlocksError
        At once for a bad ``halo`` (negative, not an integer, larger than a chunk), an array of
        another dimension or a non-real dtype; when computing, for a wrong result of ``fn``.
        An error of ``fn`` naming "at image b, row r, column c" of a chunk names the position in
        the whole array.
    """
    if not callable(fn):
        raise PDEBlocksError(f"fn must be callable, got {type(fn).__name__}")
    pair = _as_halo(halo)
    arr = _image_array(x, chunks)
    depth = _depth(arr, pair, "halo")
    return _overlap(arr, fn, args, kwargs, depth, token=f"pdeblocks-{getattr(fn, '__name__', 'map_image')}")


def step_reach(K: Any, coupling: str = "isotropic") -> tuple[int, int]:
    """``(rows, columns)``: how far the mirror at a chunk's edge spoils one step
    ``u - tau sum_c K_c^T G_c K_c u`` of the filter bank ``K``, the halo per step (see the
    module docstring): on each axis the reach of ``K`` plus that of ``K^T``, taking for the
    isotropic coupling the largest reach of each over the channels. ``(1, 1)`` for
    :func:`pdeblocks.gradient_2d`."""
    bank = as_bank(K)
    isotropic = as_choice(coupling, COUPLINGS, "coupling") == COUPLINGS["isotropic"]
    reach = []
    for axis in (0, 1):
        # K_c reads displacements o .. o+k-1: back by max(0, -o), ahead by max(0, o+k-1); K_c^T the reverse
        back = [max(0, -s.offset[axis]) for s in bank.stencils]
        ahead = [max(0, s.offset[axis] + s.shape[axis] - 1) for s in bank.stencils]
        reach.append(max(back) + max(ahead) if isotropic else max(b + a for b, a in zip(back, ahead)))
    return reach[0], reach[1]


def _rounds(total: int, reach: tuple[int, int], arr: da.Array, per_round: Any, unit: str) -> list[int]:
    """The steps (or cycles) of each round: halo ``n x reach`` within the chunks (see the module docstring)."""
    chunked = [(r, min(arr.chunks[ax])) for r, ax in zip(reach, (arr.ndim - 2, arr.ndim - 1))
               if len(arr.chunks[ax]) > 1 and r > 0]
    if per_round is not None:
        n = as_int(per_round, f"{unit}_per_round")
        if n < 1:
            raise PDEBlocksError(f"{unit}_per_round must be positive, got {n}")
    else:
        n = max(total, 1)
        for r, smallest in chunked:
            n = min(n, max(smallest // HALO_FRACTION, r) // r)
    longest = min(n, max(total, 1))
    for r, smallest in chunked:
        if longest * r > smallest:
            raise PDEBlocksError(
                f"{longest} {unit} per round need a halo of {longest * r} pixels, more than the smallest "
                f"chunk ({smallest}); use larger chunks (rechunk)" + (" or fewer per round" if per_round else ""))
    return [n] * (total // n) + ([total % n] if total % n else [])


def _require_stable(name: str, tau: float, K: Any, g: Any, shape: tuple[int, int]) -> None:
    """The local call's refusal (Theorem 2 for the whole image), before any chunk runs."""
    gs = g if isinstance(g, (list, tuple)) else [g]
    bound = min(stable_tau(K, x, shape) for x in gs)
    if not tau <= bound:
        raise UnstableError(
            f"{name} scheme (images, dask): tau = {tau} exceeds the Euclidean stability bound {bound} = "
            f"2/(sup g·λ_max(Σ_c K_cᵀK_c)) of Theorem 2 ({shape[0]}×{shape[1]} images, {len(as_bank(K))} filter(s)); "
            "pass check_stability=False to run anyway", _abi.PDB_ERR_UNSTABLE)


def _run_scheme(name: str, local: Callable[..., Any], f: Any, K: Any, g: Any, tau: Any, total: Any,
                cycle_length: int | None, check_stability: bool, per_round: Any, chunks: Any,
                options: dict) -> da.Array:
    as_bank(K)  # an image operator (the local call would take a 1D one)
    arr = _image_array(f, chunks)
    unit = "steps" if cycle_length is None else "cycles"
    total = as_int(total, unit)
    tau = as_float(tau, "tau")
    lead = () if cycle_length is None else (cycle_length,)
    # A run of no steps on one pixel validates every other argument at once (its bound is +inf).
    local(np.zeros((1, 1)), K, g, tau, *lead, 0, **options)
    if total < 0:
        raise PDEBlocksError(f"{unit} must be non-negative, got {total}")
    if check_stability:
        _require_stable(name, tau, K, g, arr.shape[-2:])
    ry, rx = step_reach(K, options["coupling"])
    length = 1 if cycle_length is None else as_int(cycle_length, "cycle_length")
    reach = (ry * length, rx * length)
    for i, n in enumerate(_rounds(total, reach, arr, per_round, unit)):
        depth = _depth(arr, (n * reach[0], n * reach[1]), "halo")
        arr = _overlap(arr, local, (K, g, tau, *lead, n), dict(options, check_stability=False), depth,
                       token=f"pdeblocks-{name}-round{i}")
    return arr


def explicit_image(f: npt.ArrayLike | da.Array, K: Any, g: Any, tau: float, steps: int, *,
                   coupling: str = "isotropic", check_stability: bool = True, steps_per_round: int | None = None,
                   chunks: Any = None) -> da.Array:
    """:func:`pdeblocks.explicit` on a chunked image: ``steps`` explicit steps of the filter
    bank ``K`` on an (H, W) or (B, H, W) dask array chunked over any axes, bitwise equal to the
    local call. Rounds of ``steps_per_round`` steps (default: see the module docstring), one
    halo exchange each; ``tau`` is checked at once for the whole image size. Returns a lazy
    float64 dask array; raises :class:`PDEBlocksError` at once for any argument the local call
    refuses (and :class:`UnstableError` for ``tau`` above its bound)."""
    return _run_scheme("explicit", explicit, f, K, g, tau, steps, None, check_stability, steps_per_round, chunks,
                       dict(coupling=coupling))


def fsi_image(f: npt.ArrayLike | da.Array, K: Any, g: Any, tau: float, cycle_length: int, cycles: int, *,
              coupling: str = "isotropic", check_stability: bool = True, update: str = "step",
              cycles_per_round: int | None = None, chunks: Any = None) -> da.Array:
    """:func:`pdeblocks.fsi` on a chunked image (as :func:`explicit_image`); rounds are whole
    cycles (halo ``cycles_per_round x cycle_length x`` :func:`step_reach`)."""
    return _run_scheme("fsi", fsi, f, K, g, tau, cycles, cycle_length, check_stability, cycles_per_round, chunks,
                       dict(coupling=coupling, update=update))


def fed_image(f: npt.ArrayLike | da.Array, K: Any, g: Any, tau_max: float, cycle_length: int, cycles: int, *,
              coupling: str = "isotropic", check_stability: bool = True, reorder: Any = True, update: str = "cycle",
              cycles_per_round: int | None = None, chunks: Any = None) -> da.Array:
    """:func:`pdeblocks.fed` on a chunked image (as :func:`explicit_image`); rounds are whole
    cycles (halo ``cycles_per_round x cycle_length x`` :func:`step_reach`)."""
    return _run_scheme("fed", fed, f, K, g, tau_max, cycles, cycle_length, check_stability, cycles_per_round, chunks,
                       dict(coupling=coupling, reorder=reorder, update=update))

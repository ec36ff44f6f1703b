"""Progress reports and cancellation of long-running calls.

The long-running functions take a ``progress=`` keyword: :func:`~pdeblocks.explicit`,
:func:`~pdeblocks.fsi`, :func:`~pdeblocks.fed`, :func:`~pdeblocks.implicit`,
:func:`~pdeblocks.evolve`, :func:`~pdeblocks.semi_implicit`, :meth:`Multigrid.solve
<pdeblocks.Multigrid.solve>`, :func:`~pdeblocks.cg`, and :meth:`Network.forward
<pdeblocks.Network.forward>`, :meth:`~pdeblocks.Network.predict` and
:meth:`~pdeblocks.Network.backward`. It accepts

``None`` or ``False`` (the default)
    No reports; no cost.
``True``
    A `tqdm <https://tqdm.github.io>`_ progress bar (``tqdm.auto``: a widget in
    notebooks) when tqdm is installed; without tqdm, nothing (no error).
a callable ``callback(done, total, value)``
    Called at most every 0.1 s while the call runs, and once at the end. ``done`` counts
    work units up to ``total`` (-1 when unknown): steps x rows for the explicit and
    implicit schemes, inner steps x rows for FSI and FED, cycles or iterations for the
    solvers, blocks x rows for network passes. ``value`` is a float: the relative
    residual of a solve, the last fixed-point update of the implicit scheme, NaN when
    the call has none. A truthy return value cancels the call: it stops at the next
    step boundary and raises :class:`~pdeblocks.CancelledError` (a
    :class:`~pdeblocks.PDEBlocksError`); inputs are never modified and nothing is
    returned. An exception raised by the callback cancels the call in the same way and
    is then re-raised as itself (so ``KeyboardInterrupt`` raised while the callback
    runs stops a long run).
a :class:`Progress`
    A callback (or a tqdm bar) with another minimum interval between reports.

The callback may run on a worker thread of the library (it holds the GIL then), never
concurrently with itself. It cannot use the object being computed with (e.g. the network
during its own forward pass): such a call raises :class:`~pdeblocks.BusyError` and does
nothing. Library calls made inside the callback run without
the outer callback (they neither report to it nor can be cancelled by it); give them
their own ``progress=`` if they should report. The callback is consulted at a pace set
by work done, not by steps: an implicit step with many sweeps, or a network block with
many filters, is not one indivisible unit, so a cancel is honoured after a bounded
amount of work. Solvers stop early when they converge; their last
report has ``done == total`` (the cycles performed), as has every completed call's.

Training loops make many short calls; report their progress from the loop itself::

    from tqdm.auto import tqdm
    opt = pdeblocks.Adam(lr=1e-2)
    p = net.parameters
    for epoch in tqdm(range(epochs)):                     # one tick per epoch
        y = net.forward(x)
        _, g = net.backward(y - target)
        p = opt.step(p, g)
        net.set_parameters(p)

(stop training by leaving the loop). ``progress=`` on ``Network.forward`` and
``Network.backward`` reports within one pass, for passes over very large batches.

C programs use ``pdb_set_progress`` (``pdeblocks_progress.h``); the Python wrapper
installs its handler on the calling thread for the duration of each call.
"""
from __future__ import annotations

import ctypes
import math
import time
from collections.abc import Callable
from typing import Any, Union

from ._lib import F64, I32, I64, CancelledError, PDEBlocksError, call, lib

__all__ = ["Progress", "CancelledError", "ProgressLike"]

#: ``pdb_progress_fn``: ``int32_t (*)(void *user_data, int64_t done, int64_t total, double value)``.
_CALLBACK = ctypes.CFUNCTYPE(I32, ctypes.c_void_p, I64, I64, F64)
_set_progress = lib.pdb_set_progress

#: The default minimum time between two reports, in seconds.
DEFAULT_INTERVAL = 0.1


class Progress:
    """A progress callback with its own minimum interval between reports.

    Parameters
    ----------
    callback : callable ``(done, total, value) -> bool | None``, optional
        As for ``progress=`` (see :mod:`pdeblocks.progress`); a truthy return cancels.
        ``None`` shows a tqdm bar (when tqdm is installed).
    interval : float
        Minimum seconds between two reports (>= 0; ``math.inf``: only the final one).

    Examples
    --------
    >>> import numpy as np, pdeblocks
    >>> seen = []
    >>> K, g = pdeblocks.DifferenceOperator([0, 1]), pdeblocks.Diffusivity("perona_malik", 0.1)
    >>> u = pdeblocks.explicit(np.zeros(100), K, g, 0.2, 50,
    ...                        progress=pdeblocks.Progress(lambda d, t, v: seen.append((d, t)), interval=float("inf")))
    >>> seen
    [(50, 50)]
    """

    def __init__(self, callback: Callable[[int, int, float], Any] | None = None, interval: float = DEFAULT_INTERVAL):
        if callback is not None and not callable(callback):
            raise PDEBlocksError(f"callback must be callable, got {type(callback).__name__}")
        try:
            interval = float(interval)
        except (TypeError, ValueError):
            raise PDEBlocksError(f"interval must be a number of seconds, got {interval!r}") from None
        if not interval >= 0:
            raise PDEBlocksError(f"interval must be nonnegative, got {interval}")
        self.callback = callback
        self.interval = interval

    def __repr__(self) -> str:
        return f"Progress({self.callback!r}, interval={self.interval})"


#: What ``progress=`` accepts.
ProgressLike = Union[None, bool, Callable[[int, int, float], Any], Progress]


def _tqdm_reporter(desc: str, unit: str, value_name: str | None):
    """A tqdm bar and a callback driving it, or (None, None) without tqdm."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None, None
    bar = tqdm(total=None, desc=desc, unit=unit, dynamic_ncols=True)

    def update(done: int, total: int, value: float) -> None:
        if total >= 0 and bar.total != total:
            bar.total = total
        bar.n = done
        if value_name is not None and math.isfinite(value):
            bar.set_postfix_str(f"{value_name}={value:.3g}", refresh=False)
        bar.refresh()

    return bar, update


class _Session:
    """One Python-level call with progress: installs this thread's handler, maps the
    reports of ``segments`` successive C calls (a Python loop over rows) onto one
    count, keeps the ctypes callback alive, and re-raises the callback's exception."""

    def __init__(self, progress: ProgressLike, desc: str, unit: str, value_name: str | None,
                 segments: int, bound: int):
        if isinstance(progress, Progress):
            fn, interval = progress.callback, progress.interval
        elif progress is True:
            fn, interval = None, DEFAULT_INTERVAL
        elif callable(progress):
            fn, interval = progress, DEFAULT_INTERVAL
        else:
            raise PDEBlocksError(f"progress must be None, a bool, a callable or a Progress, got {progress!r}")
        self.bar = None
        if fn is None:
            self.bar, fn = _tqdm_reporter(desc, unit, value_name)
        self.fn = fn
        self.interval = interval
        self.error: BaseException | None = None
        # segments: C calls of at most `bound` units each, one after the other
        self.segments, self.bound = segments, bound
        self.segment, self.base = 0, 0
        self.last_done = 0
        self.last_forward = -math.inf
        self._c = _CALLBACK(self._report) if fn is not None else None

    @property
    def active(self) -> bool:
        return self._c is not None

    def _report(self, _user, done, total, value):
        try:
            if self.error is not None:
                return 1
            self.last_done = done
            if self.segments > 1:
                remaining = self.segments - 1 - self.segment
                final = remaining == 0 and done == total
                now = time.monotonic()
                if not final and now - self.last_forward < self.interval:
                    return 0
                self.last_forward = now
                total = self.base + total + remaining * self.bound if total >= 0 else -1
                done = self.base + done
            return 1 if self.fn(done, total, value) else 0
        except BaseException as e:  # noqa: BLE001 -- must not cross into the library
            self.error = e
            return 1

    def next_segment(self) -> None:
        """After each C call of a multi-segment session."""
        self.base += self.last_done
        self.last_done = 0
        self.segment += 1

    def __enter__(self) -> "_Session":
        if self._c is not None:
            call(_set_progress, ctypes.cast(self._c, ctypes.c_void_p), None, self.interval)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._c is not None:
            _set_progress(None, None, 0.0)
        if self.bar is not None:
            self.bar.close()
        error, self.error = self.error, None
        if error is not None:
            raise error from None


class _NoSession:
    active = False

    def next_segment(self) -> None:
        pass

    def __enter__(self) -> "_NoSession":
        return self

    def __exit__(self, *exc) -> None:
        return None


_NO_SESSION = _NoSession()


def session(progress: ProgressLike, desc: str, unit: str, value_name: str | None = None,
            segments: int = 1, bound: int = 0) -> _Session | _NoSession:
    """The context of one Python-level call (a no-op for ``progress=None``/``False``)."""
    if progress is None or progress is False:
        return _NO_SESSION
    return _Session(progress, desc, unit, value_name, segments, bound)


class _Reporting:
    """A C entry point wrapped to run with progress reports: ``call(reporting(...), *args)``."""

    __slots__ = ("progress", "desc", "unit", "value_name", "fn")

    def __init__(self, progress, desc, unit, value_name, fn):
        self.progress, self.desc, self.unit, self.value_name, self.fn = progress, desc, unit, value_name, fn

    def __call__(self, *args: Any) -> int:
        with _Session(self.progress, self.desc, self.unit, self.value_name, 1, 0):
            return self.fn(*args)


def reporting(progress: ProgressLike, desc: str, unit: str, fn: Any, value_name: str | None = None) -> Any:
    """``fn`` (a status-returning C entry point) made to report to ``progress``, for
    :func:`~pdeblocks._lib.call`; ``fn`` itself for ``progress=None``/``False``. Wrappers
    write ``call(_f if progress is None else reporting(progress, ...), *args)`` so that
    calls without reports pay one comparison."""
    if progress is None or progress is False:
        return fn
    return _Reporting(progress, desc, unit, value_name, fn)

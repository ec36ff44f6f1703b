"""The base class of objects that own a library handle (Multigrid, TwoLevelUNet, Network)."""
from __future__ import annotations

from typing import Any

from ._lib import PDEBlocksError

__all__ = ["Handle"]


class Handle:
    """Owns one library handle: :meth:`close` frees it (idempotent), so do ``with`` blocks and
    garbage collection (``__del__``); any use after :meth:`close` raises
    :class:`PDEBlocksError` ("... has been closed") instead of passing a dangling pointer.

    Subclasses set ``_destroy`` (the ``pdb_*_destroy`` entry point) and ``_what`` (a name
    for messages), store the handle with :meth:`_own` and pass ``self._h`` to calls.
    """

    _destroy: Any = None
    _what = "object"
    _handle: int | None = None

    def _own(self, handle: Any) -> None:
        """Take ownership of a handle (a ``ctypes.c_void_p`` or an address)."""
        self._handle = getattr(handle, "value", handle) or None

    @property
    def _h(self) -> int:
        """The handle, for a call; raises :class:`PDEBlocksError` once closed."""
        handle = self._handle
        if handle is None:
            raise PDEBlocksError(f"the {self._what} has been closed")
        return handle

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has run."""
        return self._handle is None

    def close(self) -> None:
        """Free the handle now (also done by ``with`` and on garbage collection); idempotent."""
        handle, self._handle = self._handle, None
        destroy = type(self)._destroy
        if handle is not None and destroy is not None:
            try:
                destroy(handle)
            except Exception:  # pragma: no cover - interpreter shutdown
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

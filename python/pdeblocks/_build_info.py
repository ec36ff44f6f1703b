"""How the loaded library was built: :func:`build_info`."""
from __future__ import annotations

from ._lib import lib

__all__ = ["build_info"]


def build_info() -> dict[str, str]:
    """The loaded library's ``pdb_build_info()`` as a dict, plus the file it was loaded from.

    Keys: ``version``; ``variant`` (``baseline``, ``v3`` = x86-64-v3 with AVX2/FMA, ``v4`` =
    x86-64-v4 with AVX-512, ``native``, or ``unspecified``; the installed package picks the
    fastest the CPU runs, ``PDEBLOCKS_CPU`` forces one); ``cpu`` (the LLVM CPU it was compiled
    for); ``fma`` (``"1"`` when kernels use fused multiply-adds); ``arch``; ``library`` (path).

    >>> import pdeblocks as pdb
    >>> pdb.build_info()["variant"] in ("baseline", "v3", "v4", "native", "unspecified")
    True
    """
    text = lib.pdb_build_info().decode()
    info = dict(pair.split("=", 1) for pair in text.split())
    info["library"] = lib._name
    return info

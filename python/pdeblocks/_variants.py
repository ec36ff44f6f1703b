"""The CPU variants of libpdeblocks.so and the rule that picks one at load time.

One installed package carries the library built several times, each for an x86-64
micro-architecture level, and uses the fastest one this CPU can run (as numpy, OpenBLAS and
SLEEF do):

=========  ====================================  ======================================
variant    compiled with                         CPU features required (x86-64 levels)
=========  ====================================  ======================================
baseline   no ``-target-cpu`` (SSE2)             none (every x86-64; the only variant
                                                 on other architectures)
v3         ``-target-cpu haswell``, ``PDB_FMA``  x86-64-v3: AVX2, FMA, BMI1/2, F16C,
                                                 LZCNT, MOVBE (and x86-64-v2)
v4         ``-target-cpu haswell`` and the       x86-64-v4: v3 and AVX-512 F, BW, CD,
           AVX-512 F/BW/CD/DQ/VL target          DQ, VL
           features, ``PDB_FMA``
=========  ====================================  ======================================

This table is the single source: the build (``python/swift_build.py``) reads the compiler
flags from it, the Python loader (:mod:`pdeblocks._lib`) the features, and the C dispatcher
``libpdeblocks.so`` for C programs is generated from it (``python/gen_dispatch.py``), so
Python and C choose the same variant (tested).

``PDEBLOCKS_CPU=baseline|v3|v4`` forces a variant; naming one this CPU lacks, or one not
installed, is an error (never a silent fallback). ``pdeblocks.build_info()`` reports the
variant in use.
"""
from __future__ import annotations

import os
import platform
from dataclasses import dataclass

__all__ = ["Variant", "VARIANTS", "library_name", "cpu_features", "runnable", "choose", "forced_variant"]


@dataclass(frozen=True)
class Feature:
    """A CPU feature under its two names: ``/proc/cpuinfo``'s flag and the GCC/Clang
    ``__builtin_cpu_supports`` name."""
    cpuinfo: str
    builtin: str


def _features(*pairs: str) -> tuple[Feature, ...]:
    return tuple(Feature(*p.split("/")) if "/" in p else Feature(p, p) for p in pairs)


# x86-64 micro-architecture levels (the psABI's list; LAHF/SAHF and CMPXCHG16B of v2 have
# no __builtin_cpu_supports name, and no kernel of this library uses them).
_V2 = _features("popcnt", "sse4_1/sse4.1", "sse4_2/sse4.2", "ssse3")
_V3 = _V2 + _features("avx", "avx2", "bmi1/bmi", "bmi2", "f16c", "fma", "abm/lzcnt", "movbe")
_V4 = _V3 + _features("avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl")


@dataclass(frozen=True)
class Variant:
    """One build of the library: its name, the LLVM CPU (``None``: the compiler's default
    target), the Swift compilation conditions, the CPU features it needs, and LLVM target
    features added to the CPU's.

    v4 is Haswell (x86-64-v3) plus the AVX-512 features rather than ``skylake-avx512``:
    LLVM tunes that CPU (and every Intel AVX-512 CPU) to prefer 256-bit vectors, which splits
    the kernels' 8-lane vectors in two; with Haswell's tuning they stay 512-bit (the 2D
    diffusion step was 15 % slower with ``skylake-avx512``, bench/variants.py)."""
    name: str
    llvm_cpu: str | None
    defines: tuple[str, ...]
    features: tuple[Feature, ...]
    llvm_features: tuple[str, ...] = ()


def _variants() -> tuple[Variant, ...]:
    baseline = Variant("baseline", None, ("PDB_VARIANT_BASELINE",), ())
    if platform.machine() not in ("x86_64", "AMD64"):
        return (baseline,)
    return (baseline,
            Variant("v3", "haswell", ("PDB_VARIANT_V3", "PDB_FMA"), _V3),
            Variant("v4", "haswell", ("PDB_VARIANT_V4", "PDB_FMA"), _V4,
                    ("+avx512f", "+avx512bw", "+avx512cd", "+avx512dq", "+avx512vl")))


#: The variants of this architecture, slowest first.
VARIANTS: tuple[Variant, ...] = _variants()


def library_name(variant: str) -> str:
    """File name of a variant's library, e.g. ``libpdeblocks-v4.so``."""
    return f"libpdeblocks-{variant}.so"


def cpu_features() -> set[str]:
    """This CPU's feature flags as ``/proc/cpuinfo`` lists them (those the kernel enabled);
    empty where that file does not exist."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def runnable(features: set[str] | None = None) -> list[str]:
    """Names of the variants this CPU can run, slowest first."""
    have = cpu_features() if features is None else features
    return [v.name for v in VARIANTS if all(f.cpuinfo in have for f in v.features)]


def choose(installed: list[str], forced: str | None = None, features: set[str] | None = None) -> str:
    """The variant to load among ``installed``: ``forced`` (``$PDEBLOCKS_CPU``) if given,
    else the fastest installed one this CPU runs. Raises ``ImportError`` with the reason
    when ``forced`` is unknown, not runnable here or not installed, or nothing fits."""
    have = cpu_features() if features is None else features
    can = runnable(have)
    names = [v.name for v in VARIANTS]
    if forced:
        if forced not in names:
            raise ImportError(f"PDEBLOCKS_CPU={forced!r} is not a variant of this architecture "
                              f"(choose one of {', '.join(names)})")
        if forced not in can:
            missing = [f.cpuinfo for v in VARIANTS if v.name == forced for f in v.features
                       if f.cpuinfo not in have]
            raise ImportError(f"PDEBLOCKS_CPU={forced}: this CPU cannot run the {forced} build "
                              f"(it lacks {', '.join(missing)}); unset PDEBLOCKS_CPU or choose one "
                              f"of {', '.join(can)}")
        if forced not in installed:
            raise ImportError(f"PDEBLOCKS_CPU={forced}: the {forced} build is not installed "
                              f"(installed: {', '.join(installed) or 'none'})")
        return forced
    for name in reversed(can):
        if name in installed:
            return name
    raise ImportError(f"no installed build of libpdeblocks runs on this CPU (installed: "
                      f"{', '.join(installed) or 'none'}; this CPU runs {', '.join(can)})")


def forced_variant() -> str | None:
    """``$PDEBLOCKS_CPU`` if set and not empty."""
    return os.environ.get("PDEBLOCKS_CPU") or None


def _main(argv: list[str]) -> int:
    """``python _variants.py --installed DIR [--except-fastest]``: the variants in DIR this CPU
    runs, space-separated, slowest first (without the one the loader would pick)."""
    import argparse
    from pathlib import Path
    p = argparse.ArgumentParser(description=_main.__doc__)
    p.add_argument("--installed", required=True, type=Path)
    p.add_argument("--except-fastest", action="store_true")
    a = p.parse_args(argv)
    names = [n for n in runnable() if (a.installed / library_name(n)).is_file()]
    if a.except_fastest and names:
        names.remove(choose(names))
    print(" ".join(names))
    return 0


if __name__ == "__main__":
    import sys
    sys.exit(_main(sys.argv[1:]))

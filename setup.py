"""Build script for ``pip install .``: metadata is in pyproject.toml; this adds the Swift build.

The package's build step compiles libpdeblocks.so (SwiftPM, release, static Swift standard
library) and bundles it, the C headers and ``py.typed`` into ``pdeblocks``; see
``python/swift_build.py`` for the environment variables it reads.
"""
import sys
from pathlib import Path

from setuptools import setup

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "python"))
import swift_build  # noqa: E402

setup(version=swift_build.version(ROOT), cmdclass=swift_build.commands(ROOT),
      distclass=swift_build.binary_distribution())

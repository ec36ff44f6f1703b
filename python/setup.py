"""Build script for ``pip install ./python``: builds from the repository around this folder.

Metadata is in python/pyproject.toml (kept equal to the root's, tested); the Swift build is
the same as for ``pip install .`` (``swift_build.py`` beside this file). It needs the whole
source tree, so it works with pip's in-tree builds (pip >= 21.3) but not from an sdist of
this folder alone; the root form ``pip install .`` is the primary one.
"""
import sys
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import swift_build  # noqa: E402

ROOT = swift_build.check_root(HERE.parent)
setup(version=swift_build.version(ROOT), cmdclass=swift_build.commands(ROOT),
      distclass=swift_build.binary_distribution())

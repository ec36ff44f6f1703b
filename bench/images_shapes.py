"""Benchmark: the explicit isotropic Perona-Malik step (gradient_2d) per pixel for several image
shapes and batches, 1 thread, in one run — narrow rows and batches should cost the same per
pixel as one large image (issue 14, item 8).
Run: PYTHONPATH=python python bench/images_shapes.py [--steps 40]
"""
from __future__ import annotations

import argparse

import numpy as np

import pdeblocks as pdb
from explicit_step import best_of  # bench/ is the script's directory

SHAPES = [(1024, 1024), (16, 256, 256), (256, 256), (4, 512, 512), (64, 128, 128), (256, 4096)]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--repeat", type=int, default=5)
    a = p.parse_args(argv)
    K, g = pdb.gradient_2d(), pdb.Diffusivity("perona_malik", 0.1)
    rng = np.random.default_rng(0)
    old = pdb.get_num_threads()
    pdb.set_num_threads(1)
    try:
        for shape in SHAPES:
            f = rng.random(shape)
            pdb.explicit(f, K, g, 0.15, 1)
            t = best_of(lambda: pdb.explicit(f, K, g, 0.15, a.steps), a.repeat)
            print(f"{str(shape):<18} {t / (a.steps * f.size) * 1e9:6.2f} ns/pixel/step")
    finally:
        pdb.set_num_threads(old)


if __name__ == "__main__":
    main()

"""Pretrained, certified image denoisers shipped with the package (issue 16).

Each model is an :class:`~pdeblocks.ImageNetwork` of 2D diffusion-reaction blocks
``u <- u - tau (sum_c K_c^T Phi_c(K_c u) + mu (u - f))`` trained by
``examples/train_denoiser.py`` on the training images of :mod:`pdeblocks.datasets` (never on
camera, coins or moon, the test images) for additive Gaussian noise of standard deviation
``sigma / 255`` on gray images in [0, 1]. Every block satisfies Theorem 2 on every image of at
least 8 x 8 pixels (``tau <= 2 / (sup g * Lambda + mu)`` with ``Lambda`` from
:func:`pdeblocks.any_size_bound.lambda_max_any_size`), so each stage is nonexpansive in the
Euclidean norm on any such image.

``denoiser(sigma)`` loads the model trained for ``sigma`` (on the 0-255 scale);
``available()`` lists the noise levels; :func:`pdeblocks.denoise.learned` picks the nearest.
"""
from __future__ import annotations

import math
import re
from importlib import resources

from .._lib import PDEBlocksError
from ..image_network import ImageNetwork

__all__ = ["available", "denoiser", "model_path", "MIN_SHAPE"]

#: Images smaller than this are refused by :func:`pdeblocks.denoise.learned`: the shipped
#: models are certified on every size at least this large.
MIN_SHAPE = (8, 8)

_NAME = re.compile(r"denoiser_sigma(\d+)\.pdbnet$")


def _files() -> dict[int, object]:
    return {int(m.group(1)): f for f in resources.files(__name__).iterdir()
            if (m := _NAME.match(f.name))}


def available() -> list[int]:
    """The noise levels (0-255 scale) of the shipped denoisers, ascending."""
    return sorted(_files())


def model_path(sigma: float):
    """The file of the shipped model for exactly ``sigma`` (0-255 scale); ``PDEBlocksError``
    naming the available levels otherwise."""
    files = _files()
    for level, f in files.items():
        if isinstance(sigma, (int, float)) and math.isfinite(sigma) and level == sigma:
            return f
    raise PDEBlocksError(f"no shipped denoiser for sigma = {sigma!r}; available: {sorted(files)} "
                         "(pdeblocks.denoise.learned picks the nearest)")


def denoiser(sigma: float = 25, threads: int = 0) -> ImageNetwork:
    """The shipped denoiser for Gaussian noise of standard deviation ``sigma / 255`` on images
    in [0, 1] (``sigma`` one of :func:`available`), as a new :class:`ImageNetwork` (``predict``
    takes (H, W) or (B, H, W) float64 images)."""
    with resources.as_file(model_path(sigma)) as path:
        return ImageNetwork.load(path, threads=threads)

"""Image quality measures for denoising on the [0, 1] scale (data range 1 by default)."""
from __future__ import annotations

import numpy as np

from ._lib import PDEBlocksError

__all__ = ["psnr", "ssim"]


def _pair(clean, x):
    clean = np.asarray(clean, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    if clean.shape != x.shape:
        raise PDEBlocksError(f"images differ in shape: {clean.shape} and {x.shape}")
    if clean.size == 0:
        raise PDEBlocksError("empty images")
    return clean, x


def psnr(clean, x, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio ``10 log10(data_range^2 / mean((x - clean)^2))`` in dB
    (``inf`` when ``x == clean``)."""
    clean, x = _pair(clean, x)
    if not data_range > 0:
        raise PDEBlocksError(f"data_range must be positive, got {data_range}")
    mse = float(np.mean((x - clean) ** 2))
    return float("inf") if mse == 0 else float(10.0 * np.log10(data_range ** 2 / mse))


def ssim(clean, x, data_range: float = 1.0) -> float:
    """Structural similarity of a 2D gray image (``skimage.metrics.structural_similarity``
    with its defaults and ``data_range``)."""
    clean, x = _pair(clean, x)
    if clean.ndim != 2:
        raise PDEBlocksError(f"ssim takes 2D gray images, got shape {clean.shape}")
    from skimage.metrics import structural_similarity
    return float(structural_similarity(clean, x, data_range=data_range))

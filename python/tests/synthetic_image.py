"""The synthetic noisy test image of examples/denoise_image.c and the Swift consumer
(examples/swift-consumer), transcribed independently: a 64 x 80 image in [0, 1] (background
0.2, a rectangle 0.8, a disk 0.5) plus noise of standard deviation 25/255, the Irwin-Hall
sum of 12 uniforms of a 64-bit LCG minus 6. Only exact integer arithmetic and IEEE
operations in the examples' order: the same bits in C, Swift and Python."""
import numpy as np

HEIGHT, WIDTH, SEED = 64, 80, 2024
SIGMA = 25.0 / 255.0
#: The examples' Perona-Malik and EED settings (lambda, t; EED also sigma).
PERONA_MALIK = {"lam": 0.1, "t": 10.0}
EED = {"lam": 0.02, "t": 5.0, "sigma": 1.0}


def synthetic_image() -> tuple[np.ndarray, np.ndarray]:
    """``(clean, noisy)``, each (HEIGHT, WIDTH) float64."""
    state, mask = SEED, (1 << 64) - 1
    h, w = HEIGHT, WIDTH
    ci, cj, r = h // 2, 3 * w // 4, h // 5
    clean, noisy = np.empty((h, w)), np.empty((h, w))
    for i in range(h):
        for j in range(w):
            v = 0.2
            if h // 4 <= i < 3 * h // 4 and w // 8 <= j < w // 2:
                v = 0.8
            if (i - ci) ** 2 + (j - cj) ** 2 <= r * r:
                v = 0.5
            s = 0.0
            for _ in range(12):
                state = (state * 6364136223846793005 + 1442695040888963407) & mask
                s += ((state >> 11) + 0.5) / 9007199254740992.0
            clean[i, j] = v
            noisy[i, j] = v + SIGMA * (s - 6.0)
    return clean, noisy


def psnr(u: np.ndarray, clean: np.ndarray) -> float:
    """PSNR in dB for data range 1."""
    return float(10 * np.log10(1.0 / np.mean((u - clean) ** 2)))

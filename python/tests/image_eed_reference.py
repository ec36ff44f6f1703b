"""Dense numpy transcriptions of EED and AOS (DESIGN.md "Images"), written independently of
the library: mirrored indices by formula, dense forward-difference matrices, explicit
eigenvectors, dense solves."""
import math

import numpy as np

from conftest import g_reference, mirror


def gaussian_kernel(sigma):
    if sigma == 0:
        return np.ones(1)
    r = math.ceil(3 * sigma)
    w = np.exp(-np.arange(-r, r + 1) ** 2 / (2 * sigma**2))
    return w / w.sum()


def smooth(u, sigma):
    """u_sigma[i, j] = sum_a sum_b w_a w_b u[m(i+a), m(j+b)] as a dense double sum."""
    H, W = u.shape
    w = gaussian_kernel(sigma)
    r = len(w) // 2
    out = np.zeros_like(u)
    for i in range(H):
        for j in range(W):
            out[i, j] = sum(w[a + r] * w[b + r] * u[mirror(i + a, H), mirror(j + b, W)]
                            for a in range(-r, r + 1) for b in range(-r, r + 1))
    return out


def gradient_matrices(H, W, h):
    """Dense Kx, Ky of gradient_2d(h) (forward differences, mirrored: zero last column/row)."""
    n = H * W
    Kx, Ky = np.zeros((n, n)), np.zeros((n, n))
    for i in range(H):
        for j in range(W):
            p = i * W + j
            Kx[p, i * W + mirror(j + 1, W)] += 1 / h
            Kx[p, p] -= 1 / h
            Ky[p, mirror(i + 1, H) * W + j] += 1 / h
            Ky[p, p] -= 1 / h
    return Kx, Ky


def tensor(u, h, sigma, name, lam):
    """Per pixel (M11, M12, M22) of M = g v1 v1^T + v2 v2^T from central differences of u_sigma."""
    H, W = u.shape
    us = smooth(u, sigma)
    M = np.zeros((H * W, 3))
    for i in range(H):
        for j in range(W):
            gx = (us[i, mirror(j + 1, W)] - us[i, mirror(j - 1, W)]) / (2 * h)
            gy = (us[mirror(i + 1, H), j] - us[mirror(i - 1, H), j]) / (2 * h)
            s2 = gx * gx + gy * gy
            if s2 == 0:
                M[i * W + j] = (1, 0, 1)
                continue
            v1 = np.array([gx, gy]) / math.sqrt(s2)
            v2 = np.array([-v1[1], v1[0]])
            T = float(g_reference(name, s2, lam)) * np.outer(v1, v1) + np.outer(v2, v2)
            M[i * W + j] = (T[0, 0], T[0, 1], T[1, 1])
    return M


def eed_step(u, h, sigma, name, lam, tau):
    """u - tau K^T M K u with dense K = [Kx; Ky]."""
    H, W = u.shape
    Kx, Ky = gradient_matrices(H, W, h)
    x = u.reshape(-1)
    px, py = Kx @ x, Ky @ x
    M = tensor(u, h, sigma, name, lam)
    fx = M[:, 0] * px + M[:, 1] * py
    fy = M[:, 1] * px + M[:, 2] * py
    return (x - tau * (Kx.T @ fx + Ky.T @ fy)).reshape(H, W)


def aos_step(u, h, name, lam, tau):
    """1/2 sum_l (I + 2 tau K_l^T diag(g) K_l)^{-1} u with dense solves."""
    H, W = u.shape
    Kx, Ky = gradient_matrices(H, W, h)
    x = u.reshape(-1)
    g = g_reference(name, (Kx @ x) ** 2 + (Ky @ x) ** 2, lam)
    I = np.eye(H * W)
    out = sum(np.linalg.solve(I + 2 * tau * K.T @ np.diag(g) @ K, x) for K in (Kx, Ky)) / 2
    return out.reshape(H, W)

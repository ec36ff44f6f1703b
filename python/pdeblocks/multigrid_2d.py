"""2D geometric multigrid on images: 9-point stencil-field operators and their hierarchies.

Operators (:class:`StencilField2D`) act on H x W images (row-major pixels ``p = i*W + j``):

>>> import numpy as np, pdeblocks as pb
>>> A = pb.poisson_2d((63, 63))                        # 5-point Poisson, Dirichlet
>>> mg = pb.Multigrid(A)                               # a 2D hierarchy (red-black GS, V(2,2))
>>> x, info = mg.solve(np.ones((63, 63)), tol=1e-8)    # images in, images out
>>> info["convergence_factor"] < 0.1
True

``diffusion_system(K, w, tau)`` with a filter bank (``gradient_2d()``, a list of
:class:`Stencil2D`) gives the semi-implicit system ``I + tau sum_c K_c^T diag(w_c) K_c``.
"""
from __future__ import annotations

import ctypes

import numpy as np

from ._args import as_array, as_choice, as_float, as_int
from ._lib import PDEBlocksError, as_output, call, lib, ptr
from .banded import _GRIDS
from .multigrid import CYCLES, SMOOTHERS, TRANSFERS, Multigrid, _TRANSFER_NAMES
from .stencil2d import as_bank

__all__ = ["StencilField2D", "poisson_2d", "diffusion_system_2d", "Multigrid2D"]

_GRID_NAMES = {v: k for k, v in _GRIDS.items()}
#: Direction names in storage order (``coefficients[d]``); ``"n"`` is the row above.
DIRECTIONS = ("nw", "n", "ne", "w", "c", "e", "sw", "s", "se")


def _image_shape(shape):
    try:
        h, w = shape
    except (TypeError, ValueError):
        raise PDEBlocksError(f"shape must be a pair (H, W), got {shape!r}") from None
    return as_int(h, "H"), as_int(w, "W")


class StencilField2D:
    """A 9-point operator on H x W images: ``A[p, p + dy*W + dx] = coefficients[d, i, j]``
    with ``d = 3*(dy+1) + (dx+1)`` (:data:`DIRECTIONS`; ``d = 4`` is the diagonal). The
    ``(9, H, W)`` coefficients are finite and 0 wherever a direction leaves the image
    (checked by the library when used).

    Parameters
    ----------
    coefficients : array_like, shape (9, H, W)
    grid : {"unknown", "vertex", "cell"}
        Where it came from: ``"vertex"`` (Dirichlet, :func:`poisson_2d`) or ``"cell"``
        (mirrored, :func:`diffusion_system_2d`); informational.
    """

    def __init__(self, coefficients, grid: str = "unknown"):
        c = as_array(coefficients, "coefficients", ndim=(3,))
        if c.shape[0] != 9 or c.shape[1] < 1 or c.shape[2] < 1:
            raise PDEBlocksError(f"coefficients must have shape (9, H, W) with H, W >= 1, got {c.shape}")
        as_choice(grid, _GRIDS, "grid")
        self.coefficients = c.copy()
        self.coefficients.flags.writeable = False
        self.grid = grid

    @property
    def image_shape(self) -> tuple[int, int]:
        """``(H, W)``."""
        return self.coefficients.shape[1], self.coefficients.shape[2]

    @property
    def n(self) -> int:
        return self.coefficients.shape[1] * self.coefficients.shape[2]

    @property
    def shape(self) -> tuple[int, int]:
        """The matrix shape ``(H*W, H*W)``."""
        return self.n, self.n

    def __repr__(self):
        return f"StencilField2D(image_shape={self.image_shape}, grid={self.grid!r})"

    def matvec(self, x) -> np.ndarray:
        """``A x`` for an image (H, W), a flat vector (H*W,), or a batch (B, H, W) / (B, H*W);
        the result has x's shape."""
        arr = as_array(x, "x", ndim=(1, 2, 3))
        h, w = self.image_shape
        if arr.size % self.n or (arr.ndim == 1 and arr.size != self.n) or (
                arr.ndim >= 2 and arr.shape[-1] not in (w, self.n)):
            raise PDEBlocksError(f"x has shape {arr.shape}; the operator acts on {h}x{w} images")
        out = as_output(arr.shape)
        call(lib.pdb_stencil_field_matvec, h, w, ptr(self.coefficients), ptr(arr), arr.size // self.n, ptr(out))
        return out

    __matmul__ = matvec

    def diagonal(self) -> np.ndarray:
        """The diagonal ``A[p, p]`` as a flat vector of length H*W."""
        return self.coefficients[4].reshape(-1).copy()

    def to_scipy(self):
        """The operator as a ``scipy.sparse.csr_matrix`` of shape (H*W, H*W)."""
        import scipy.sparse as sp
        h, w = self.image_shape
        i, j = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
        rows, cols, vals = [], [], []
        for d in range(9):
            dy, dx = d // 3 - 1, d % 3 - 1
            ok = (i + dy >= 0) & (i + dy < h) & (j + dx >= 0) & (j + dx < w) & (self.coefficients[d] != 0)
            rows.append((i * w + j)[ok])
            cols.append(((i + dy) * w + j + dx)[ok])
            vals.append(self.coefficients[d][ok])
        return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                             shape=self.shape)


def poisson_2d(shape, h: float = 1.0) -> StencilField2D:
    """The 5-point Poisson operator ``(4u - u_N - u_S - u_W - u_E) / h^2`` on the ``(H, W)``
    interior points of a grid with Dirichlet boundaries (symmetric positive definite,
    ``grid="vertex"``)."""
    hh, ww = _image_shape(shape)
    out = as_output((9, max(hh, 1), max(ww, 1)))   # the library refuses sides < 1 and a bad h
    call(lib.pdb_poisson_2d, hh, ww, as_float(h, "h"), ptr(out), 9 * hh * ww)
    return StencilField2D._wrap(out, "vertex")


def diffusion_system_2d(K, w, tau: float) -> StencilField2D:
    """``A = I + tau sum_c K_c^T diag(w_c) K_c`` for a filter bank ``K`` on images.

    Parameters
    ----------
    K : Stencil2D or list of Stencil2D
        E.g. :func:`gradient_2d` (5-point result); filters within a 2 x 2 window give a
        9-point operator, wider ones are refused.
    w : array_like, shape (H, W) or (C, H, W)
        Nonnegative weights: one image for every filter (isotropic diffusion, e.g.
        ``g(|grad u|^2)``), or one image per filter.
    tau : float
        Time step > 0.
    """
    bank = as_bank(K)
    wa = as_array(w, "w", ndim=(2, 3))
    hh, ww = wa.shape[-2], wa.shape[-1]
    out = as_output((9, hh, ww))
    call(lib.pdb_diffusion_system_2d, hh, ww, *bank.c, ptr(wa), wa.size, as_float(tau, "tau"), ptr(out), out.size)
    return StencilField2D._wrap(out, "cell")


def _wrap(cls, coefficients, grid):
    obj = cls.__new__(cls)
    coefficients.flags.writeable = False
    obj.coefficients, obj.grid = coefficients, grid
    return obj


StencilField2D._wrap = classmethod(_wrap)


class Multigrid2D(Multigrid):
    """Geometric multigrid for a symmetric positive definite :class:`StencilField2D`
    (``pb.Multigrid(A)`` returns one for a 2D operator). Same methods as
    :class:`Multigrid` (``solve``, ``cycle``, ``unet_cycle``, ``aspreconditioner``,
    ``prolong``, ``restrict``); vectors are images (H, W), flat (H*W,) or batches.

    Parameters
    ----------
    smoother : str
        ``"red_black"`` (default), ``"gauss_seidel"`` (lexicographic: forward before,
        backward after), ``"gauss_seidel_forward"``, ``"symmetric_gauss_seidel"``, ``"jacobi"``,
        ``"alternating_line"`` (zebra line Gauss-Seidel with exact line solves: even rows, odd
        rows, even columns, odd columns; reversed after the correction, so symmetric: robust
        for Perona-Malik systems with strong jumps and large tau, best with ``cycle="W"``).
    transfer : {"auto", "matrix", "vertex", "cell"}
        ``"auto"``/``"matrix"``: Dendy's matrix-dependent interpolation (robust for jumping
        coefficients); ``"vertex"``/``"cell"``: bilinear with Dirichlet / mirrored boundary
        weights. Restriction ``R = P^T / 4``, Galerkin coarse operators ``R A P``.
    coarsest : int
        Coarsening (``floor(H/2) x floor(W/2)``) stops at a level with at most this many
        unknowns or a side below 2; that level is solved by banded LU.
    """

    def __init__(self, A, *, smoother: str = "red_black", omega=None, pre: int = 2, post: int = 2,
                 cycle: str = "V", coarsest: int = 64, max_levels=None, transfer: str = "auto"):
        if not isinstance(A, StencilField2D):
            raise PDEBlocksError(f"A must be a StencilField2D, got {type(A).__name__}")
        if isinstance(cycle, str):
            cycle = cycle.upper()
        om = 0.0 if omega is None else as_float(omega, "omega")
        levels = 0 if max_levels is None else as_int(max_levels, "max_levels")
        if max_levels is not None and levels <= 0:
            raise PDEBlocksError(f"max_levels must be at least 2, got {levels}")
        h, w = A.image_shape
        handle = ctypes.c_void_p()
        call(lib.pdb_mg2d_create, h, w, ptr(A.coefficients), as_choice(A.grid, _GRIDS, "grid"),
             as_choice(smoother, SMOOTHERS, "smoother"), om, as_int(pre, "pre"), as_int(post, "post"),
             as_choice(cycle, CYCLES, "cycle"), as_choice(transfer, TRANSFERS, "transfer"),
             as_int(coarsest, "coarsest"), levels, ctypes.addressof(handle))
        self._own(handle)
        self.A = A
        self.smoother, self.omega, self.pre, self.post, self.cycle_kind = smoother, omega, pre, post, cycle
        count, kind = ctypes.c_int64(), ctypes.c_int32()
        call(lib.pdb_mg2d_levels, self._h, None, None, 0, ctypes.addressof(count), ctypes.addressof(kind))
        hs, ws = np.zeros(count.value, dtype=np.int64), np.zeros(count.value, dtype=np.int64)
        call(lib.pdb_mg2d_levels, self._h, hs.ctypes.data, ws.ctypes.data, hs.size, ctypes.addressof(count), None)
        #: ``(H, W)`` per level, finest first
        self.shapes = [(int(a), int(b)) for a, b in zip(hs, ws)]
        self._levels = [a * b for a, b in self.shapes]
        self.transfer = _TRANSFER_NAMES[kind.value]

    def __repr__(self):
        return (f"Multigrid2D(shape={self.shapes[0]}, levels={len(self._levels)}, smoother={self.smoother!r}, "
                f"cycle={self.cycle_kind!r}, pre={self.pre}, post={self.post}, transfer={self.transfer!r})")

    def level_matrix(self, level: int) -> StencilField2D:
        """The operator of a level (0 = A, then the Galerkin operators ``R A P``)."""
        level = as_int(level, "level")
        h, w = ctypes.c_int64(), ctypes.c_int64()
        call(lib.pdb_mg2d_level_operator, self._h, level, ctypes.addressof(h), ctypes.addressof(w), None, 0)
        out = as_output((9, h.value, w.value))
        call(lib.pdb_mg2d_level_operator, self._h, level, ctypes.addressof(h), ctypes.addressof(w), ptr(out), out.size)
        return StencilField2D._wrap(out, self.A.grid)

    def _flat(self, v, name):
        """``(rows (B, n), original shape)`` of an image, a flat vector or a batch."""
        arr = as_array(v, name, ndim=(1, 2, 3))
        h, w = self.shapes[0]
        if arr.shape == (h, w) or arr.shape == (self.n,):
            return arr.reshape(1, self.n), arr.shape
        if (arr.ndim == 3 and arr.shape[1:] == (h, w)) or (arr.ndim == 2 and arr.shape[1] == self.n):
            return arr.reshape(-1, self.n), arr.shape
        raise PDEBlocksError(f"{name} has shape {arr.shape}; the hierarchy solves on {h}x{w} images")

    def _pair(self, x, b):
        xa, shape = self._flat(x, "x")
        ba, bshape = self._flat(b, "b")
        if shape != bshape:
            raise PDEBlocksError(f"x and b must have the same shape, got {shape} and {bshape}")
        return xa, ba, xa.shape[0], self.n, shape

    def cycle(self, x, b) -> np.ndarray:
        """One classical cycle from ``x`` on ``A x = b`` (images, flat vectors or batches)."""
        xa, ba, batch, n, shape = self._pair(x, b)
        out = as_output(xa.shape)
        call(lib.pdb_mg_cycle, self._h, ptr(xa), ptr(ba), batch, n, ptr(out))
        return out.reshape(shape)

    def unet_cycle(self, x, b) -> np.ndarray:
        """One cycle in the three-channel U-net form: ``(x_hat, b, r_hat)`` stacked on a new
        leading axis of each input (shape ``(3, H, W)`` for images); ``x_hat`` equals
        :meth:`cycle`'s result."""
        xa, ba, batch, n, shape = self._pair(x, b)
        out = as_output((batch, 3, n))
        for i in range(batch):
            call(lib.pdb_mg_unet_cycle, self._h, ptr(xa[i]), ptr(ba[i]), n, ptr(out[i]))
        if len(shape) == 1 or shape == self.shapes[0]:
            return out[0].reshape((3,) + shape)
        return out.reshape((batch, 3) + shape[1:])

    def solve(self, b, x0=None, **options):
        """:meth:`Multigrid.solve` on images: ``b`` (and ``x0``) of shape (H, W), (H*W,) or a
        batch; ``x`` has b's shape."""
        ba, shape = self._flat(b, "b")
        x0a = None if x0 is None else self._flat(x0, "x0")[0]
        single = ba.shape[0] == 1 and (len(shape) == 1 or shape == self.shapes[0])
        x, info = super().solve(ba[0] if single else ba, None if x0a is None else (x0a[0] if single else x0a),
                                **options)
        return x.reshape(shape), info


def as_field(A):
    """Whether ``A`` is a 2D operator (for dispatch)."""
    return isinstance(A, StencilField2D)


def cg_2d(A, b, *, preconditioner=None, tol: float = 1e-10, maxiter=None, x0=None):
    """Preconditioned conjugate gradients for a symmetric positive definite
    :class:`StencilField2D` (:func:`pdeblocks.cg` dispatches here): ``z = M r`` is one
    cycle of ``preconditioner`` (a :class:`Multigrid2D`, ``"multigrid"`` to build one, or
    None) from zero, which must be a symmetric cycle (pre == post, not
    ``gauss_seidel_forward``, not an F-cycle). Stops when the *true* residual
    ``||b - A x|| <= tol ||b||`` (checked whenever the recursive one gets there), at a
    breakdown (``p^T A p <= 0`` or ``r^T z <= 0``), or after ``maxiter`` iterations.
    Returns ``x`` (b's shape) and an info dict as :func:`pdeblocks.cg`."""
    owned = None
    if isinstance(preconditioner, str):
        if preconditioner != "multigrid":
            raise PDEBlocksError(f"unknown preconditioner {preconditioner!r} (known: None, 'multigrid', a Multigrid2D)")
        preconditioner = owned = Multigrid2D(A)
    if preconditioner is not None:
        if not isinstance(preconditioner, Multigrid2D) or preconditioner.shapes[0] != A.image_shape:
            raise PDEBlocksError("preconditioner must be a Multigrid2D built for an operator of A's shape")
        if preconditioner.pre != preconditioner.post or preconditioner.smoother == "gauss_seidel_forward" \
                or preconditioner.cycle_kind == "F":
            raise PDEBlocksError("a CG preconditioner must be a symmetric cycle: pre = post, a symmetric smoother "
                                 "(not gauss_seidel_forward) and a V- or W-cycle")
    bb = as_array(b, "b", ndim=(1, 2))
    if bb.size != A.n:
        raise PDEBlocksError(f"b has shape {bb.shape}; A acts on {A.image_shape} images")
    shape, bf = bb.shape, bb.reshape(-1)
    if not np.all(np.isfinite(bf)):
        raise PDEBlocksError("b has non-finite entries")
    maxiter = min(max(A.n, 100), 1_000_000) if maxiter is None else as_int(maxiter, "maxiter")
    if maxiter < 0:
        raise PDEBlocksError(f"maxiter must be nonnegative, got {maxiter}")
    tol = as_float(tol, "tol")
    try:
        x = np.zeros(A.n) if x0 is None else as_array(x0, "x0", ndim=(1, 2)).reshape(-1).copy()
        if x.size != A.n:
            raise PDEBlocksError(f"x0 has {x.size} values, expected {A.n}")
        precondition = (lambda r: r.copy()) if preconditioner is None else (
            lambda r: preconditioner.cycle(np.zeros(A.n), r))
        r = bf - A.matvec(x)
        reference = float(np.linalg.norm(bf)) or float(np.linalg.norm(r))
        history = [float(np.linalg.norm(r))]
        z = precondition(r)
        p, rz, its, converged, breakdown = z.copy(), float(r @ z), 0, history[0] <= tol * reference, False
        while not converged and its < maxiter:
            if rz <= 0:
                breakdown = True
                break
            q = A.matvec(p)
            pq = float(p @ q)
            if pq <= 0:
                breakdown = True
                break
            alpha = rz / pq
            x += alpha * p
            r -= alpha * q
            its += 1
            history.append(float(np.linalg.norm(r)))
            if history[-1] <= tol * reference:   # confirm with the true residual, else restart from it
                r = bf - A.matvec(x)
                history[-1] = float(np.linalg.norm(r))
                if history[-1] <= tol * reference:
                    converged = True
                    break
                z = precondition(r)
                p, rz = z.copy(), float(r @ z)
                continue
            z = precondition(r)
            rz_new = float(r @ z)
            p = z + (rz_new / rz) * p
            rz = rz_new
    finally:
        if owned is not None:
            owned.close()
    res = np.array(history)
    rel = res / reference if reference > 0 else np.zeros_like(res)
    factor = float((res[-1] / res[0]) ** (1.0 / its)) if its > 0 and res[0] > 0 else float("nan")
    word = "converged" if converged else ("breakdown" if breakdown else "not converged")
    message = f"{word}: relative residual {rel[-1]:.3g} (tol {tol:g}) after {its} iterations"
    return x.reshape(shape), {"residuals": res, "relative_residuals": rel, "convergence_factor": factor,
                              "iterations": its, "converged": bool(converged), "message": message}

"""Accelerated and implicit schemes (paper Sec. 2.6-2.7) and diffusing to a stopping time.

* :func:`fsi` -- fast semi-iterative cycles (eq. 7): diffusion blocks with a second,
  weighted skip connection; a cycle of length L reaches time ``tau L(L+1)/3``.
* :func:`fed_step_sizes`, :func:`fed` -- fast explicit diffusion (Grewenig et al. 2010).
* :func:`implicit` -- the implicit scheme (eq. 8) solved by fixed-point sweeps (eq. 9):
  a recurrent network.
* :func:`semi_implicit` -- semi-implicit diffusion: one banded SPD solve per step
  (direct or multigrid), unconditionally stable.
* :func:`evolve` -- reach diffusion time T with any of them, step sizes chosen safely.
"""
from __future__ import annotations

import ctypes
import math

import numpy as np

from . import _abi
from ._args import as_choice, as_float, as_int, as_signals, as_stencil, finish, history_buffer, renamed
from ._lib import F64, call, codes, lib, as_output, ptr, PDEBlocksError
from .diffusivities import as_diffusivity
from .progress import reporting
from .image_schemes import evolve_2d, fed_2d, fsi_2d, implicit_2d, is_bank

__all__ = ["fsi", "fed_step_sizes", "fed", "implicit", "contraction_tau", "semi_implicit", "evolve", "SCHEMES", "ORDERINGS"]

_fsi = lib.pdb_fsi
_fed_step_sizes = lib.pdb_fed_step_sizes
_fed = lib.pdb_fed
_contraction_tau = lib.pdb_contraction_tau
_implicit = lib.pdb_implicit
_evolve = lib.pdb_evolve
_semi = lib.pdb_semi_implicit

UNCHECKED = _abi.PDB_UNCHECKED
MAX_CYCLE_LENGTH = _abi.PDB_MAX_CYCLE_LENGTH
_REPORT_LENGTH = _abi.PDB_EVOLVE_REPORT_LENGTH
_SEMI_SOLVERS = codes("PDB_SEMI_")           # {"direct": ..., "multigrid": ...}
_UPDATES = codes("PDB_UPDATE_", {"step": "PER_STEP", "cycle": "PER_CYCLE"})
_UPDATE_NAMES = {code: name for name, code in _UPDATES.items()}
#: FED step orders (values: ``PDB_FED_ORDER_*``); ``reorder=True`` means ``"leja"``.
ORDERINGS = codes("PDB_FED_ORDER_")
_ORDERING_NAMES = {code: name for name, code in ORDERINGS.items()}
#: Scheme names accepted by :func:`evolve` (values: ``PDB_SCHEME_*``).
SCHEMES = codes("PDB_SCHEME_")
# PDB_EVOLVE_HAS_* bits, keyed by the Python option name.
_OPTION_BITS = codes("PDB_EVOLVE_HAS_", {"tau": "TAU", "cycles": "CYCLES", "reorder": "ORDERING", "update": "UPDATE",
                                         "iterations": "ITERATIONS", "tol": "TOL", "contraction": "CONTRACTION"})


def _update_code(update) -> int:
    return as_choice(update, _UPDATES, "update")


def _ordering_code(reorder) -> int:
    if reorder is True or reorder is False or isinstance(reorder, np.bool_):
        return ORDERINGS["leja"] if reorder else ORDERINGS["plain"]
    if isinstance(reorder, str) and reorder in ORDERINGS:
        return ORDERINGS[reorder]
    raise PDEBlocksError(f"reorder must be True, False or one of {', '.join(ORDERINGS)}, got {reorder!r}")


def _cycles(fn, name, f, K, g, tau, cycle_length, cycles, extra, update, check_stability, record_every, progress):
    """The call both cycle schemes make: ``fn(f, batch, n, K, g, tau, L, cycles, *extra, update,
    flags, record_every, history, history size, out)``; ``tau`` is ``(its name, value)``."""
    K = as_stencil(K)
    g = as_diffusivity(g)
    arr, batch, n, squeeze = as_signals(f)
    tau = as_float(tau[1], tau[0])
    cycle_length, cycles = as_int(cycle_length, "cycle_length"), as_int(cycles, "cycles")
    record_every = as_int(record_every, "record_every")
    code = _update_code(update)
    out = as_output(arr.shape)
    history = history_buffer(arr, cycles, record_every)
    flags = 0 if check_stability else UNCHECKED
    call(fn if progress is None else reporting(progress, name, "step", fn),
         ptr(arr), batch, n, *K._c, *g._c, tau, cycle_length, cycles, *extra, code, flags,
         record_every, ptr(history), 0 if history is None else history.size, ptr(out))
    return finish(out, history, squeeze)


def fsi(f, K, g, tau, cycle_length, cycles, *, check_stability=True, record_every=0, update="step", progress=None,
        **image):
    """FSI cycles of diffusion blocks (eq. 7, Hafner et al. 2016).

    Images: with ``K`` a :class:`Stencil2D` or a list of them, ``f`` is (H, W) or (B, H, W) and
    ``coupling="isotropic"|"channelwise"`` may be given (see :mod:`pdeblocks.image_schemes`).

    ``u_{l+1} = a_l (u_l - tau K^T Phi(K u_l)) + (1 - a_l) u_{l-1}``,
    ``a_l = (4l+2)/(2l+3)``, ``l = 0..L-1``, ``u_{-1} = u_0``. One cycle of length L
    reaches diffusion time ``tau L(L+1)/3`` with L block evaluations.

    Parameters
    ----------
    f : array_like, shape (N,) or (batch, N)
        Initial signal(s); never modified.
    K : Stencil
    g : Diffusivity or str
    tau : float
        Inner step size; above ``stable_tau(K, g, N)`` it raises :class:`UnstableError`
        unless ``check_stability=False``.
    cycle_length : int
        L, between 1 and ``MAX_CYCLE_LENGTH``.
    cycles : int
        Number of cycles (>= 0).
    record_every : int
        If > 0, also return the states after cycles ``0, r, 2r, ...``.
    update : {"step", "cycle"}
        ``"step"`` re-evaluates Phi at every inner step (eq. 7). ``"cycle"`` freezes the
        diffusivity ``g((K u)^2)`` at the start of each cycle, which makes every cycle a
        polynomial in a fixed symmetric matrix: Euclidean stability is then a theorem
        for every diffusivity (with ``"step"`` it is only observed, and can fail).
    progress : None, bool, callable or Progress
        Progress reports in inner steps x rows (``cycles * L`` per row), and
        cancellation (:class:`CancelledError`); ``True`` shows a tqdm bar. See
        :mod:`pdeblocks.progress`.

    Returns
    -------
    u : ndarray, same shape as f
    history : ndarray, shape (cycles // record_every + 1, *f.shape)
        Only when ``record_every > 0``: ``(u, history)`` is returned.
    """
    if is_bank(K):
        return fsi_2d(f, K, g, tau, cycle_length, cycles, check_stability=check_stability, record_every=record_every,
                      update=update, progress=progress, **image)
    return _cycles(_fsi, "fsi", f, K, g, ("tau", tau), cycle_length, cycles, (), update, check_stability,
                   record_every, progress)


def fed_step_sizes(cycle_length, tau_max, *, reorder=False) -> np.ndarray:
    """The step sizes of one FED cycle (Grewenig, Weickert, Bruhn 2010).

    ``tau_i = tau_max / (2 cos^2(pi (2i+1) / (4L+2)))``, ``i = 0..L-1``; they sum to
    ``tau_max L(L+1)/3``.

    Parameters
    ----------
    cycle_length : int
        L, between 1 and ``MAX_CYCLE_LENGTH``.
    tau_max : float
        The explicit stability bound the cycle is built for (> 0).
    reorder : bool or {"plain", "kappa", "leja"}
        False (``"plain"``): increasing order, as the formula gives them. True
        (``"leja"``): a Leja ordering of the roots ``1/tau_i`` -- the largest step first,
        then always the root with the largest product of distances to those already
        taken (L <= 8192). ``"kappa"``: the kappa-cycle of Gentzsch and Schlueter with
        kappa = L // 2 (modulus p the smallest prime > L; position j = 1..p-1 takes index
        ``(j kappa mod p) - 1`` if it is < L). Why reorder: a rounding error made after
        step k is amplified by the product of the remaining factors ``1 - tau_i z`` over
        the spectrum; in increasing order that reaches ~3e8 for L = 20 and ~2e23 for
        L = 50. Leja keeps it below ~80 (L <= 300, measured); the kappa-cycle is usually
        as good but fails for some L (~6e7 at L = 200).

    Returns
    -------
    ndarray, shape (L,)
    """
    L = as_int(cycle_length, "cycle_length")
    tau_max = as_float(tau_max, "tau_max")
    # Allocate only for a valid length; otherwise the library reports the bad length.
    out = as_output(L) if 1 <= L <= MAX_CYCLE_LENGTH else None
    call(_fed_step_sizes, L, tau_max, _ordering_code(reorder), ptr(out), 0 if out is None else out.size)
    return out


def fed(f, K, g, tau_max, cycle_length, cycles, *, check_stability=True, reorder=True, update="cycle",
        record_every=0, progress=None, **image):
    """FED cycles (Grewenig, Weickert, Bruhn 2010) of diffusion blocks.

    Images: with ``K`` a :class:`Stencil2D` or a list of them, ``f`` is (H, W) or (B, H, W) and
    ``coupling="isotropic"|"channelwise"`` may be given (see :mod:`pdeblocks.image_schemes`).

    Each cycle takes the steps ``u <- u - tau_i K^T Phi(K u)`` with the step sizes of
    :func:`fed_step_sizes` and reaches time ``tau_max L(L+1)/3``; in the linear case it
    equals an FSI cycle with ``tau = tau_max``.

    Parameters
    ----------
    f : array_like, shape (N,) or (batch, N)
        Initial signal(s); never modified.
    K : Stencil
    g : Diffusivity or str
    tau_max : float
        Above ``stable_tau(K, g, N)`` it raises :class:`UnstableError` unless
        ``check_stability=False``.
    cycle_length, cycles : int
    reorder : bool or {"plain", "kappa", "leja"}
        Step order (default True = Leja; see :func:`fed_step_sizes`).
    update : {"cycle", "step"}
        ``"cycle"`` (default, as Grewenig et al. do) freezes ``g((K u)^2)`` at each
        cycle's start: Euclidean-stable for every diffusivity. ``"step"`` evaluates Phi
        at every step; single FED steps reach ~0.2 L^2 tau_max, and nonlinear
        diffusion then typically becomes unstable.
    record_every : int
        If > 0, also return the states after cycles ``0, r, 2r, ...``.
    progress : None, bool, callable or Progress
        Progress reports in inner steps x rows (``cycles * L`` per row), and
        cancellation (:class:`CancelledError`); ``True`` shows a tqdm bar. See
        :mod:`pdeblocks.progress`.

    Returns
    -------
    u : ndarray, same shape as f (or ``(u, history)`` when ``record_every > 0``)
    """
    if is_bank(K):
        return fed_2d(f, K, g, tau_max, cycle_length, cycles, check_stability=check_stability, reorder=reorder,
                      update=update, record_every=record_every, progress=progress, **image)
    return _cycles(_fed, "fed", f, K, g, ("tau_max", tau_max), cycle_length, cycles, (_ordering_code(reorder),),
                   update, check_stability, record_every, progress)


def contraction_tau(K, g, n) -> float:
    """``1 / (L ||K||_2^2)``: the fixed-point sweeps of :func:`implicit` contract for
    tau strictly below it (L = Lipschitz constant of Phi). At most half of
    :func:`stable_tau`. Never above the true bound (``||K||^2`` is certified)."""
    K = as_stencil(K)
    g = as_diffusivity(g)
    out = F64()
    call(_contraction_tau, *K._c, *g._c, as_int(n, "n"), ctypes.addressof(out))
    return out.value


def implicit(f, K, g, tau, steps, iterations, *, tol=0.0, check_contraction=True, return_info=False, progress=None,
             **image):
    """The implicit scheme (eq. 8) solved by fixed-point sweeps (eq. 9): a recurrent network.

    Images: with ``K`` a :class:`Stencil2D` or a list of them, ``f`` is (H, W) or (B, H, W) and
    ``coupling="isotropic"|"channelwise"`` may be given (see :mod:`pdeblocks.image_schemes`).

    Each step solves ``x = u^k - tau K^T Phi(K x)`` by sweeps
    ``x <- u^k - tau K^T Phi(K x)`` started at ``x = u^k``; one sweep is one explicit step.

    Parameters
    ----------
    f : array_like, shape (N,) or (batch, N)
        Initial signal(s); never modified.
    K : Stencil
    g : Diffusivity or str
    tau : float
        Must satisfy the contraction condition ``tau L ||K||^2 < 1`` (see
        :func:`contraction_tau`); otherwise :class:`UnstableError` names the bound,
        unless ``check_contraction=False``.
    steps : int
        Time steps (>= 0).
    iterations : int
        Sweeps per step (>= 1): exactly that many when ``tol == 0``, at most that many
        otherwise.
    tol : float
        >= 0. A step stops at the first sweep whose update ``max|x_new - x|`` is <= tol.
        Not reaching it is not an error: see ``return_info``.
    return_info : bool
        Also return a dict with ``sweeps`` (summed over the steps; the largest over the
        batch), ``residual`` (the largest final update of any step), ``tol`` and
        ``converged`` (``residual <= tol``; for ``tol == 0`` whether the residual is finite).
    progress : None, bool, callable or Progress
        Progress reports in time steps x rows (value: the last step's final update),
        and cancellation (:class:`CancelledError`); ``True`` shows a tqdm bar. See
        :mod:`pdeblocks.progress`.

    Returns
    -------
    u : ndarray, same shape as f (or ``(u, info)`` when ``return_info``)
    """
    if is_bank(K):
        return implicit_2d(f, K, g, tau, steps, iterations, tol=tol, check_contraction=check_contraction,
                           return_info=return_info, progress=progress, **image)
    K = as_stencil(K)
    g = as_diffusivity(g)
    arr, batch, n, squeeze = as_signals(f)
    tau, tol = as_float(tau, "tau"), as_float(tol, "tol")
    steps, iterations = as_int(steps, "steps"), as_int(iterations, "iterations")
    out = as_output(arr.shape)
    sweeps, residual = ctypes.c_int64(), F64()
    flags = 0 if check_contraction else UNCHECKED
    call(_implicit if progress is None else reporting(progress, "implicit", "step", _implicit, "update"),
         ptr(arr), batch, n, *K._c, *g._c, tau, steps, iterations, tol, flags, ptr(out),
         ctypes.addressof(sweeps), ctypes.addressof(residual))
    u = out[0] if squeeze else out
    if not return_info:
        return u
    info = {"sweeps": sweeps.value, "residual": residual.value, "tol": tol,
            "converged": math.isfinite(residual.value) and (tol == 0 or residual.value <= tol)}
    return u, info


def semi_implicit(f, K, g, tau: float, steps: int, *, solver: str = "direct", tol: float = 1e-10,
                  maxiter: int | None = None, progress=None, max_cycles: int | None = None) -> np.ndarray:
    """Semi-implicit nonlinear diffusion: ``(I + tau K^T G(u^k) K) u^{k+1} = u^k``.

    ``G(u) = diag(g(|K u|^2))`` is lagged, so each step is one SPD linear system. The
    scheme is unconditionally stable (``||u^{k+1}|| <= ||u^k||`` for every tau > 0); for a
    forward-difference K it also keeps ``min f <= u <= max f``.

    Parameters
    ----------
    f : array_like, shape (N,) or (batch, N)
        Initial signal(s); never modified. Images (H, W) or (B, H, W) with ``K`` a filter
        bank (e.g. ``gradient_2d(h)``): isotropic lagged diffusivity ``g(sum_c (K_c u)^2)``,
        solvers ``"direct"`` (sparse LU), ``"multigrid"`` (2D multigrid to ``tol``) and
        ``"aos"``; see :mod:`pdeblocks.semi_implicit_2d`.
    K : Stencil (or a 2D filter bank for images)
    g : Diffusivity or str
    tau : float
        Time step > 0; may be far above the explicit bound.
    steps : int
    solver : {"direct", "multigrid", "aos"}
        Banded LU (exact, O(N)) or V(2,2) Gauss-Seidel multigrid cycles from ``u^k``
        to a relative residual ``tol`` (at most ``maxiter`` per step, default 100; ``max_cycles`` is its deprecated name; else
        :class:`NotConvergedError`). ``"aos"``: images (H, W) or (B, H, W) with
        ``K = gradient_2d(h)``, additive operator splitting (:func:`pdeblocks.eed.aos`).
    progress : None, bool, callable or Progress
        Progress reports in steps x rows (multigrid: the last step's relative residual
        as ``value``), and cancellation (:class:`CancelledError`); ``True`` shows a tqdm
        bar. See :mod:`pdeblocks.progress`.

    Returns
    -------
    ndarray, same shape as f
    """
    if isinstance(solver, str) and solver == "aos":  # images, K = gradient_2d(h): pdeblocks.eed.aos
        from .eed import aos
        return aos(f, K, g, tau, steps, progress=progress)
    if is_bank(K):   # images: pdeblocks.semi_implicit_2d
        from .semi_implicit_2d import semi_implicit_2d
        return semi_implicit_2d(f, K, g, tau, steps, solver=solver, tol=tol,
                                maxiter=maxiter if max_cycles is None else max_cycles,
                                progress=progress)
    K = as_stencil(K)
    g = as_diffusivity(g)
    limit_name = "maxiter" if max_cycles is None else "max_cycles"   # the name the caller used
    max_cycles = renamed("semi_implicit", "max_cycles", "maxiter", max_cycles, maxiter, 100)
    method = as_choice(solver, _SEMI_SOLVERS, "solver")
    arr, batch, n, squeeze = as_signals(f)
    out = as_output(arr.shape)
    cycles = ctypes.c_int64()
    fn = _semi if progress is None else reporting(
        progress, "semi-implicit", "step", _semi, "residual" if method == _abi.PDB_SEMI_MULTIGRID else None)
    call(fn, ptr(arr), batch, n, *K._c, *g._c, as_float(tau, "tau"), as_int(steps, "steps"), method,
         as_float(tol, "tol"), as_int(max_cycles, limit_name), ctypes.addressof(cycles), ptr(out))
    return out[0] if squeeze else out


def evolve(f, K, g, T, *, scheme="fsi", progress=None, **options):
    """Diffuse ``f`` to time ``T``: ``du/dt = -K^T Phi(K u)``, ``u(0) = f``.

    Images: with ``K`` a :class:`Stencil2D` or a list of them, ``f`` is (H, W) or (B, H, W) and
    ``coupling="isotropic"|"channelwise"`` may be given (see :mod:`pdeblocks.image_schemes`).

    The library chooses the step size (never above the stability bound; for
    ``"implicit"`` the contraction bound) and the step or cycle counts so that the
    steps add up to T exactly, and reports what it chose.

    Parameters
    ----------
    f : array_like, shape (N,) or (batch, N)
        Initial signal(s); never modified.
    K : Stencil
    g : Diffusivity or str
    T : float
        Stopping time, >= 0.
    scheme : {"fsi", "fed", "explicit", "implicit"}
    **options
        All optional; an option the scheme does not use is an error.

        ``tau``
            Largest step to use (FSI: inner tau; FED: tau_max). Default: the bound.
        ``cycles`` (fsi, fed)
            Number of cycles M; each cycle's length L is the smallest whose cycle reaches
            T/M (Grewenig et al.'s cycle-time rule), and ``tau = 3 (T/M) / (L(L+1))``.
            Default ``max(1, min(5, floor(T / (2 tau_bound))))``.
        ``update`` (fsi, fed)
            ``"step"`` or ``"cycle"``; default ``"step"`` for FSI (eq. 7), ``"cycle"`` for FED.
        ``reorder`` (fed)
            Step order, as in :func:`fed_step_sizes`; default True (Leja).
        ``iterations`` (implicit)
            Sweeps per step (maximum); default 100.
        ``tol`` (implicit)
            Stop a step when its update is <= tol; default ``1e-3 tau max|K^T Phi(K f)|``
            (a thousandth of the first step's change).
        ``contraction`` (implicit)
            tau as a fraction q in (0, 1) of the contraction bound; default 0.5.
        ``check_stability``
            False allows a ``tau`` above the bound.
    progress : None, bool, callable or Progress
        Progress reports in the units of the scheme (steps x rows; FSI, FED: inner
        steps x rows), and cancellation (:class:`CancelledError`); ``True`` shows a
        tqdm bar. See :mod:`pdeblocks.progress`.

    Returns
    -------
    u : ndarray, same shape as f
    info : dict
        ``scheme``, ``T``, ``tau``, ``tau_bound``, ``time`` (the steps' sum),
        ``block_evaluations`` (per signal), and ``steps`` (explicit, implicit) or
        ``cycles``, ``cycle_length``, ``update`` (fsi, fed), ``ordering`` (fed),
        ``iterations``, ``tol``, ``residual``, ``converged`` (implicit).

    Examples
    --------
    >>> import numpy as np, pdeblocks
    >>> f = np.repeat([0.0, 1.0], 100) + 0.05 * np.random.default_rng(0).standard_normal(200)
    >>> K = pdeblocks.DifferenceOperator([0, 1])            # forward difference, h = 1
    >>> g = pdeblocks.Diffusivity("perona_malik", 0.1)
    >>> u, info = pdeblocks.evolve(f, K, g, 50.0)           # FSI: 5 cycles of length 8
    >>> info["cycles"], info["cycle_length"], info["block_evaluations"]
    (5, 8, 40)
    """
    if is_bank(K):
        return evolve_2d(f, K, g, T, scheme=scheme, progress=progress, **options)
    K = as_stencil(K)
    g = as_diffusivity(g)
    as_choice(scheme, SCHEMES, "scheme")
    check_stability = options.pop("check_stability", True)
    mask, values = _option_values(options)
    arr, batch, n, squeeze = as_signals(f)
    T = as_float(T, "T")
    out = as_output(arr.shape)
    report = as_output(_REPORT_LENGTH)
    flags = 0 if check_stability else UNCHECKED
    fn = _evolve if progress is None else reporting(
        progress, f"evolve ({scheme})", "step", _evolve, "update" if scheme == "implicit" else None)
    call(fn, ptr(arr), batch, n, *K._c, *g._c, T, SCHEMES[scheme], mask, *values, flags, ptr(out), ptr(report),
         report.size)
    return (out[0] if squeeze else out), _info(scheme, T, report)


def _option_values(options):
    """``(set mask, (tau, cycles, ordering, update, iterations, tol, contraction))`` of evolve's options."""
    unknown = sorted(set(options) - set(_OPTION_BITS))
    if unknown:
        raise PDEBlocksError(f"unknown option(s) {', '.join(unknown)} (known: {', '.join(_OPTION_BITS)}, "
                             "check_stability)")
    mask = 0
    for name in options:
        mask |= _OPTION_BITS[name]
    tau = as_float(options["tau"], "tau") if "tau" in options else 0.0
    cycles = as_int(options["cycles"], "cycles") if "cycles" in options else 0
    ordering = _ordering_code(options["reorder"]) if "reorder" in options else 0
    update = _update_code(options["update"]) if "update" in options else 0
    iterations = as_int(options["iterations"], "iterations") if "iterations" in options else 0
    tol = as_float(options["tol"], "tol") if "tol" in options else 0.0
    contraction = as_float(options["contraction"], "contraction") if "contraction" in options else 0.0
    return mask, (tau, cycles, ordering, update, iterations, tol, contraction)


def _info(scheme, T, report):
    """evolve's info dict from the report array."""
    info = {"scheme": scheme, "T": T, "tau": float(report[_abi.PDB_EVOLVE_REPORT_TAU]),
            "tau_bound": float(report[_abi.PDB_EVOLVE_REPORT_TAU_BOUND]),
            "time": float(report[_abi.PDB_EVOLVE_REPORT_TIME_REACHED]),
            "block_evaluations": int(report[_abi.PDB_EVOLVE_REPORT_BLOCK_EVALUATIONS])}
    if scheme in ("fsi", "fed"):
        info["cycles"] = int(report[_abi.PDB_EVOLVE_REPORT_STEPS])
        info["cycle_length"] = int(report[_abi.PDB_EVOLVE_REPORT_CYCLE_LENGTH])
        info["update"] = _UPDATE_NAMES[int(report[_abi.PDB_EVOLVE_REPORT_UPDATE])]
        if scheme == "fed":
            info["ordering"] = _ORDERING_NAMES[int(report[_abi.PDB_EVOLVE_REPORT_ORDERING])]
    else:
        info["steps"] = int(report[_abi.PDB_EVOLVE_REPORT_STEPS])
    if scheme == "implicit":
        info["iterations"] = int(report[_abi.PDB_EVOLVE_REPORT_ITERATIONS])
        info["tol"] = float(report[_abi.PDB_EVOLVE_REPORT_TOL])
        info["residual"] = float(report[_abi.PDB_EVOLVE_REPORT_RESIDUAL])
        info["converged"] = math.isfinite(info["residual"]) and (info["tol"] == 0 or info["residual"] <= info["tol"])
    return info

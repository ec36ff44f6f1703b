"""2D multigrid: convergence factors and time to a relative residual of 1e-8, against
PyAMG (smoothed aggregation, setup + solve) and scipy's spsolve, in one run.

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=python python bench/multigrid_2d.py [N]

About 2 minutes on 2 cores (spsolve and PyAMG at 1023^2 take most of it); not part of
`make bench` (bench/suite.py).
"""
import sys
import time

import numpy as np
import scipy.sparse.linalg as spla

import pdeblocks as pb


def timed(f):
    t = time.perf_counter()
    out = f()
    return out, time.perf_counter() - t


def per_row(f, rows, small=1, large=9, repeats=3):
    """Seconds per batch row of ``f(batch)``: the slope ``(T(large) - T(small)) / (large - small)``
    of best-of-``repeats`` timings. A per-call cost (argument checks, the 9n-coefficient
    validation of ``pdb_stencil_field_matvec``) cancels; a per-row cost stays."""
    def best(k):
        batch = rows(k)
        return min(timed(lambda: f(*batch))[1] for _ in range(repeats))
    return (best(large) - best(small)) / (large - small)


def cycle_cost(A, mg, b):
    """One V(2,2) cycle in fine-grid operator applications, both measured in the library as
    the per-row slope over batches (:func:`per_row`): ``pdb_mg_cycle`` on (k, H, W) batches
    against ``pdb_stencil_field_matvec`` (``A x``) on (k, H, W) batches. The cycle's slope still
    includes its per-row finite checks of x and b (2 reads per pixel), and a residual
    ``b - A x`` reads b besides ``A x``: both make the ratio an upper bound."""
    rng = np.random.default_rng(1)
    x1 = rng.standard_normal(b.shape)
    t_cycle = per_row(mg.cycle, lambda k: (np.repeat(x1[None], k, 0), np.repeat(b[None], k, 0)))
    t_apply = per_row(A.matvec, lambda k: (np.repeat(x1[None], k, 0),))
    return t_cycle, t_apply


def mesh_independence(rng, sizes=(63, 127, 255, 511, 1023, 2047, 4095)):
    """Poisson, random b, x0 = 0, to a relative residual 1e-8: the factor per cycle, the
    cycles, and setup / solve seconds per million unknowns, per size. 4095^2 (16.8 M
    unknowns) takes about 15 s and 4 GB (the 9-coefficient field alone is 1.2 GB)."""
    print("Poisson V(2,2) red-black, matrix-dependent transfer, random b: factor per size "
          "(mesh independence); seconds per million unknowns")
    for n in sizes:
        A = pb.poisson_2d((n, n))
        b = rng.standard_normal((n, n))
        mg, t_setup = timed(lambda: pb.Multigrid(A))
        (_, info), t_solve = timed(lambda: mg.solve(b, tol=1e-8))
        mega = n * n / 1e6
        print(f"  {n:5d}^2  factor {info['convergence_factor']:.3f}  cycles {info['cycles']:2d}  "
              f"setup {t_setup / mega:.3f} s/M  solve {t_solve / mega:.3f} s/M  ({len(mg.shapes)} levels)", flush=True)
        del A, b, mg


def pm_weights(u, lam):
    gx = np.diff(u, axis=1, append=u[:, -1:])
    gy = np.diff(u, axis=0, append=u[-1:, :])
    return np.clip(1 / (1 + (gx ** 2 + gy ** 2) / lam ** 2), 1e-6, 1)


#: The rows of the Perona-Malik table: (label, Multigrid options, precondition CG with it).
PM_ROWS = (("red_black V(2,2), bilinear (cell)", dict(transfer="cell"), False),
           ("red_black V(2,2)", dict(), False),
           ("alternating_line V(2,2)", dict(smoother="alternating_line"), False),
           ("alternating_line V(1,1)", dict(smoother="alternating_line", pre=1, post=1), False),
           ("alternating_line W(2,2)", dict(smoother="alternating_line", cycle="W"), False),
           ("CG + red_black V(2,2)", dict(), True),
           ("CG + alternating_line W(2,2)", dict(smoother="alternating_line", cycle="W"), True))


def perona_malik(rng):
    """Factor per cycle (per CG iteration for the CG rows) on I + tau K^T diag(w) K, 512^2,
    and the time per cycle / iteration on the last system."""
    import skimage.data
    cam = skimage.data.camera().astype(float) / 255
    lines = np.ones((512, 512))
    lines[:, 5::23] = 1e-6
    lines[7::19, :] = 1e-6
    systems = []
    for name, w in (("cam .05", pm_weights(cam, 0.05)), ("cam .01", pm_weights(cam, 0.01)), ("lines", lines)):
        for tau in (1e2, 1e4):
            systems.append((f"{name} {tau:.0e}", pb.diffusion_system(pb.gradient_2d(), w, tau),
                            rng.standard_normal(w.shape)))
    print("Perona-Malik systems (weights in [1e-6, 1], 512^2), factor per cycle / CG iteration, "
          "matrix-dependent transfer unless noted; ms per cycle on the last system")
    print(f"  {'':30s}" + "".join(f"{name:>14s}" for name, _, _ in systems) + "      ms")
    for label, options, cg in PM_ROWS:
        factors = []
        for _, A, b in systems:
            mg = pb.Multigrid(A, **options)
            if cg:
                (_, info), t = timed(lambda: pb.cg(A, b, preconditioner=mg, tol=1e-8, maxiter=200))
                steps = info["iterations"]
            else:
                (_, info), t = timed(lambda: mg.solve(b, tol=1e-8, maxiter=60))
                steps = info["cycles"]
            factors.append(info["convergence_factor"])
        print(f"  {label:30s}" + "".join(f"{f:14.3f}" for f in factors) + f"{1e3 * t / max(steps, 1):8.1f}",
              flush=True)


def main(N=1023):
    rng = np.random.default_rng(0)
    mesh_independence(rng)
    perona_malik(rng)
    print(f"Poisson {N}^2, b = 1, time to relative residual 1e-8, setup included (best of {REPEATS} "
          "setup + solve runs each; the first pdeblocks run of a process also pays first-touch page faults)")
    A = pb.poisson_2d((N, N))
    b = np.ones((N, N))
    ours = None
    for threads in (1, pb.get_num_threads()) if pb.get_num_threads() > 1 else (1,):
        pb.set_num_threads(threads)
        t_setup, t_solve, cycles = best_setup_solve(lambda: pb.Multigrid(A), lambda mg: mg.solve(b, tol=1e-8)[1]["cycles"])
        print(f"  pdeblocks, {threads} thread(s): setup {t_setup:.3f} s + solve {t_solve:.3f} s ({cycles} cycles) "
              f"= {t_setup + t_solve:.3f} s")
        ours = t_setup + t_solve
    pb.set_num_threads(0)
    mg = pb.Multigrid(A)
    t_cycle, t_apply = cycle_cost(A, mg, b)
    print(f"  one V(2,2) cycle {1e3 * t_cycle:.1f} ms = {t_cycle / t_apply:.1f} x one fine A x ({1e3 * t_apply:.2f} ms; "
          "per-row slopes over batches 1 and 9, validation excluded; target <= 12)")
    S = A.to_scipy().tocsr()
    try:
        import pyamg
        ta, tb, its = best_setup_solve(lambda: pyamg.smoothed_aggregation_solver(S),
                                       lambda ml: len(ml_residuals(ml, b.ravel())) - 1)
        print(f"  PyAMG SA: setup {ta:.3f} s + solve {tb:.3f} s ({its} iterations) = {ta + tb:.3f} s   "
              f"ratio {(ta + tb) / ours:.1f}x")
    except ImportError:
        print("  PyAMG not installed")
    ts = min(timed(lambda: spla.spsolve(S.tocsc(), b.ravel()))[1] for _ in range(2))
    print(f"  scipy spsolve (best of 2): {ts:.3f} s   ratio {ts / ours:.1f}x")


REPEATS = 3


def best_setup_solve(setup, solve, repeats=REPEATS):
    """``(setup s, solve s, solve's result)`` of the run with the smallest setup + solve."""
    best = None
    for _ in range(repeats):
        obj, t_setup = timed(setup)
        out, t_solve = timed(lambda: solve(obj))
        if best is None or t_setup + t_solve < best[0] + best[1]:
            best = (t_setup, t_solve, out)
    return best


def ml_residuals(ml, b):
    residuals = []
    ml.solve(b, tol=1e-8, residuals=residuals)
    return residuals


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1023)

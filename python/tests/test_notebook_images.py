"""The images notebook (examples/notebooks/images.ipynb) runs headlessly and shows what it claims.

Executed by notebook_runner.py; its last cell writes ``images.json`` (key numbers) and
``images.npz`` (the image it starts from and a few results) to ``PDEBLOCKS_NOTEBOOK_OUT``.
The assertions recompute what they check with numpy/SciPy, independently of the notebook's
code: the test image from scikit-image, linear diffusion by the discrete cosine transform,
lambda_max in closed form, FED step sizes from their formula.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from notebook_runner import NOTEBOOKS, assert_ran_cleanly_with_plots, assert_stored_without_outputs, run_notebook

skimage_data = pytest.importorskip("skimage.data", reason="needs scikit-image (python/requirements-dev.txt)")
scipy_fft = pytest.importorskip("scipy.fft", reason="needs SciPy")

NOTEBOOK = NOTEBOOKS / "images.ipynb"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """(notebook with outputs, summary dict, arrays) of one headless run."""
    nb, out_dir = run_notebook(NOTEBOOK, tmp_path_factory)
    with np.load(out_dir / "images.npz") as z:
        arrays = dict(z)
    return nb, json.loads((out_dir / "images.json").read_text()), arrays


@pytest.fixture(scope="module")
def u0():
    """The cameraman in [0, 1], averaged over 2 x 2 blocks (recomputed here)."""
    camera = skimage_data.camera().astype(np.float64) / 255.0
    return camera.reshape(256, 2, 256, 2).mean(axis=(1, 3))


def _rms(a, b):
    return float(np.sqrt(np.mean((a - b) ** 2)))


def _total_variation(u):
    return float(np.abs(np.diff(u, axis=0)).sum() + np.abs(np.diff(u, axis=1)).sum())


def _neumann_eigenvalues(h, w):
    """Eigenvalues of Kx^T Kx + Ky^T Ky for gradient_2d on the DCT-II basis, shape (h, w)."""
    ly = 4 * np.sin(np.pi * np.arange(h) / (2 * h)) ** 2
    lx = 4 * np.sin(np.pi * np.arange(w) / (2 * w)) ** 2
    return ly[:, None] + lx[None, :]


def test_notebook_is_stored_without_outputs():
    assert_stored_without_outputs(NOTEBOOK)


def test_every_cell_runs_without_error_and_plots_render(executed):
    assert_ran_cleanly_with_plots(executed[0], min_plots=5)


def test_the_notebook_starts_from_the_cameraman(executed, u0):
    np.testing.assert_allclose(executed[2]["u0"], u0, rtol=0, atol=1e-15)


def test_scale_spaces_keep_the_mean_and_never_increase_the_norm(executed, u0):
    s, arrays = executed[1]["scale_space"], executed[2]
    assert s["times"][0] == 0
    for name in ("linear", "perona_malik", "eed"):
        images = arrays[f"scale_space_{name}"]
        assert images.shape == (len(s["times"]), 256, 256)
        np.testing.assert_array_equal(images[0], u0)                  # t = 0 is the image
        for u in images:
            assert u.mean() == pytest.approx(u0.mean(), abs=1e-12)   # mirrored boundary
            assert np.linalg.norm(u) <= np.linalg.norm(u0) * (1 + 1e-14)
        assert s["means"][name] == pytest.approx([u.mean() for u in images], abs=1e-15)


def test_linear_fed_scale_space_is_the_fed_polynomial_in_the_cosine_basis(executed, u0):
    # A linear FED cycle multiplies the DCT coefficient of eigenvalue mu by prod_i (1 - tau_i mu),
    # tau_i = tau / (2 cos^2(pi (2i + 1) / (4L + 2))) (Grewenig et al.); FED reorders, the product is the same.
    s, images = executed[1]["scale_space"], executed[2]["scale_space_linear"]
    mu = _neumann_eigenvalues(*u0.shape)
    coefficients = scipy_fft.dctn(u0, norm="ortho")
    for t, plan, u in zip(s["times"], s["fed_plans"], images):
        assert plan["time"] == pytest.approx(t, rel=1e-12)
        L = plan["cycle_length"]
        steps = plan["tau"] / (2 * np.cos(np.pi * (2 * np.arange(L) + 1) / (4 * L + 2)) ** 2)
        assert plan["cycles"] * steps.sum() == pytest.approx(t, rel=1e-12)
        factor = np.prod([1 - tau_i * mu for tau_i in steps], axis=0) ** plan["cycles"]
        np.testing.assert_allclose(u, scipy_fft.idctn(factor * coefficients, norm="ortho"), rtol=0, atol=1e-11)


def test_perona_malik_keeps_edges_and_eed_differs_from_it(executed):
    s, arrays = executed[1]["scale_space"], executed[2]
    lin, pm, eed = (arrays[f"scale_space_{n}"] for n in ("linear", "perona_malik", "eed"))
    for k in range(1, len(s["times"])):
        assert _total_variation(pm[k]) > 2 * _total_variation(lin[k])    # edges survive
        assert s["rms_eed_vs_pm"][k] == pytest.approx(_rms(eed[k], pm[k]), rel=1e-12)
        assert s["rms_eed_vs_pm"][k] > 0.02                                # a different filter
    assert s["rms_eed_vs_pm"][0] == 0


def test_stability_bound_is_the_largest_eigenvalue(executed, u0):
    st = executed[1]["stability"]
    H, W = u0.shape
    lam = 4 * math.cos(math.pi / (2 * H)) ** 2 + 4 * math.cos(math.pi / (2 * W)) ** 2
    assert st["same_matrices"] is True
    assert st["lam_formula"] == pytest.approx(lam, rel=1e-15)
    assert st["lam_eigsh"] == pytest.approx(lam, rel=1e-10)
    # certified: never below the true value, and sharp
    assert st["lam_library"] >= max(lam, st["lam_eigsh"])
    assert st["lam_library"] <= lam * (1 + 1e-6)
    assert st["tau_star"] * st["lam_library"] <= 2.0
    assert st["tau_star"] == pytest.approx(2.0 / lam, rel=1e-6)


def test_the_top_mode_shows_the_bound_is_sharp_and_larger_steps_are_refused(executed, u0):
    st = executed[1]["stability"]
    H, W = u0.shape
    lam = 4 * math.cos(math.pi / (2 * H)) ** 2 + 4 * math.cos(math.pi / (2 * W)) ** 2
    for factor in (1.0, 1.01):
        expected = abs(1 - factor * st["tau_star"] * lam) ** 100      # unit eigenvector, 100 steps
        assert st["mode_growth"][str(factor)] == pytest.approx(expected, rel=1e-6)
    assert st["mode_growth"]["1.0"] <= 1.0 < 7 < st["mode_growth"]["1.01"]
    assert st["refused"] == {"1.0": False, "1.000000001": True, "1.01": True}


def test_norm_never_grows_at_the_bound_and_explodes_above_it(executed, u0):
    norms = {k: np.array(v) for k, v in executed[1]["stability"]["norms"].items()}
    assert set(norms) == {"linear_1.0", "linear_1.5", "perona_malik_1.0", "perona_malik_1.5"}
    for n in norms.values():
        assert len(n) == 101 and n[0] == pytest.approx(np.linalg.norm(u0), rel=1e-14)
    for name in ("linear_1.0", "perona_malik_1.0"):
        assert np.max(norms[name][1:] / norms[name][:-1]) <= 1 + 1e-13     # Theorem 2
    assert norms["linear_1.5"][-1] > 1e10 * norms["linear_1.5"][0]


def test_fsi_and_fed_reach_the_same_time_with_fewer_steps_and_close_results(executed, u0):
    summary, arrays = executed[1], executed[2]
    sch, T = summary["schemes"], summary["schemes_T"]
    tau_star = summary["stability"]["tau_star"]
    for name, row in sch.items():
        assert row["time"] == pytest.approx(T, rel=1e-12), name
    assert sch["explicit"]["steps"] == math.ceil(T / tau_star)
    explicit = arrays["schemes_explicit"]
    for name in ("fsi", "fed"):
        assert 5 * sch[name]["steps"] < sch["explicit"]["steps"]
        u = arrays[f"schemes_{name}"]
        assert sch[name]["rms_vs_explicit"] == pytest.approx(_rms(u, explicit), rel=1e-12)
        assert sch[name]["rms_vs_explicit"] < 0.02                   # 2% of the grey range
        assert u.mean() == pytest.approx(u0.mean(), abs=1e-12)
        assert np.linalg.norm(u) <= np.linalg.norm(u0)
    for name in ("aos_2", "aos_10"):
        assert sch[name]["rms_vs_explicit"] < 0.02
    assert sch["explicit"]["rms_error"] < sch["fsi"]["rms_error"] < sch["fed"]["rms_error"]


def test_nonlinear_denoisers_beat_linear_diffusion_on_the_noisy_uint8_image(executed):
    d = executed[1]["denoise"]
    assert 19.5 < d["psnr_noisy"] < 21.5                   # noise sigma = 25/255: about 20.2 dB
    for name in ("linear", "perona_malik", "eed"):
        assert d[name]["psnr"] > d["psnr_noisy"] + 5, name
    assert d["perona_malik"]["psnr"] > d["linear"]["psnr"] + 0.5
    assert d["eed"]["psnr"] > d["linear"]["psnr"] + 0.5


def _poisson_matrix(n):
    """The 5-point Dirichlet Poisson matrix on n x n interior points (Kronecker sum, h = 1)."""
    import scipy.sparse as sp
    T = sp.diags([-np.ones(n - 1), 2 * np.ones(n), -np.ones(n - 1)], [-1, 0, 1])
    return (sp.kron(sp.identity(n), T) + sp.kron(T, sp.identity(n))).tocsr()


def _perona_malik_system(u, lam, tau):
    """I + tau (Dx^T W Dx + Dy^T W Dy), W = diag(exp(-|grad u|^2 / (2 lam^2))), forward
    differences with a zero last row/column (mirror), assembled with SciPy from the formulas."""
    import scipy.sparse as sp
    h, w = u.shape

    def forward(n):
        return sp.diags([np.r_[-np.ones(n - 1), 0.0], np.ones(n - 1)], [0, 1])

    Dx, Dy = sp.kron(sp.identity(h), forward(w)), sp.kron(forward(h), sp.identity(w))
    s2 = (Dx @ u.ravel()) ** 2 + (Dy @ u.ravel()) ** 2
    G = sp.diags(np.exp(-s2 / (2 * lam ** 2)))
    return (sp.identity(h * w) + tau * (Dx.T @ G @ Dx + Dy.T @ G @ Dy)).tocsr()


def test_multigrid_solutions_have_the_reported_residuals_on_independently_assembled_systems(executed, u0):
    mg, arrays = executed[1]["multigrid"], executed[2]
    checks = ((_poisson_matrix(255), arrays["multigrid_poisson_b"], arrays["multigrid_poisson_x"],
               mg["poisson"]["V(2,2) red–black"]),
              (_perona_malik_system(u0, mg["lam"], mg["tau"]), u0, arrays["multigrid_perona_malik_x"],
               mg["perona_malik"]["CG + V(2,2) lines"]))
    for S, b, x, run in checks:
        rel = np.linalg.norm(b.ravel() - S @ x.ravel()) / np.linalg.norm(b)
        assert rel <= mg["tol"]
        assert rel == pytest.approx(run["relative_residuals"][-1], rel=1e-3)


def test_multigrid_curves_support_what_the_text_says(executed):
    mg = executed[1]["multigrid"]
    tol, maxiter = mg["tol"], mg["maxiter"]
    for system in ("poisson", "perona_malik"):
        for label, run in mg[system].items():
            rel = run["relative_residuals"]
            assert rel[0] == pytest.approx(1.0, rel=1e-12), (system, label)       # from x = 0
            assert len(rel) == run["iterations"] + 1
            assert run["factor"] == pytest.approx(rel[-1] ** (1 / run["iterations"]), rel=1e-9)
    p = mg["poisson"]
    assert p["V(2,2) red–black"]["factor"] < 0.1 and p["V(2,2) red–black"]["iterations"] <= 11
    assert p["CG + V(2,2) red–black"]["iterations"] < p["V(2,2) red–black"]["iterations"]
    assert p["PyAMG SA"]["iterations"] > p["V(2,2) red–black"]["iterations"]
    pm = mg["perona_malik"]
    for label in ("V(2,2) red–black", "V(2,2) lines"):                      # stand-alone cycles stall
        assert 0.8 < pm[label]["factor"] < 1 and pm[label]["iterations"] == maxiter
    assert pm["V(2,2) lines"]["factor"] < pm["V(2,2) red–black"]["factor"]
    assert pm["PyAMG SA"]["factor"] > pm["V(2,2) red–black"]["factor"]
    for label in ("CG + V(2,2) red–black", "CG + V(2,2) lines"):            # CG reaches tol in a few dozen
        assert pm[label]["relative_residuals"][-1] <= tol and pm[label]["iterations"] <= 60

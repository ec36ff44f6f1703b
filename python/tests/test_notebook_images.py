"""The images notebook (examples/notebooks/images.ipynb) runs headlessly and shows what it claims.

Executed by notebook_runner.py; its last cell writes ``images.json`` (key numbers) and
``images.npz`` (the image it starts from and a few results) to ``PDEBLOCKS_NOTEBOOK_OUT``.
The assertions recompute what they check with numpy/SciPy, independently of the notebook's
code: the test image from scikit-image, linear diffusion by the discrete cosine transform,
lambda_max in closed form, FED step sizes from their formula; for the learned denoiser
(sections 6 and 7) the fluxes from a numpy transcription of the mixture formula, the step
sizes against a Gershgorin bound of a numpy-assembled Gram matrix, the PSNRs on the test
images and noise regenerated here, and the outputs against a network rebuilt from the stored
parameters.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from notebook_runner import NOTEBOOKS, assert_ran_cleanly_with_plots, assert_stored_without_outputs, run_notebook

skimage_data = pytest.importorskip("skimage.data", reason="needs scikit-image (python/requirements-dev.txt)")
scipy_fft = pytest.importorskip("scipy.fft", reason="needs SciPy")
pytest.importorskip("torch", reason="needs torch for section 7 (python/requirements-dev.txt)")

import pdeblocks as pdb
from example_loader import load_example

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
    assert_ran_cleanly_with_plots(executed[0], min_plots=8)


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


# --- sections 6 and 7: the learned denoiser --------------------------------------------------

@pytest.fixture(scope="module")
def train_denoiser():
    """examples/train_denoiser.py (the notebook's network), to rebuild networks from parameters."""
    path = Path(__file__).resolve().parents[2] / "examples" / "train_denoiser.py"
    return load_example(path, "train_denoiser_for_notebook_test")


def _stage(p, k, stages, filters, size, terms):
    """Stage k of the packed vector (pdeblocks_image_layers.h): zero-mean filters, mixture
    weights a_j = e^alpha_j / (1 + sum e^alpha), contrasts lam_j = e^rho_j, tau, mu = softplus(m)."""
    per = filters * size * size + filters * 2 * terms + 2
    assert p.size == stages * per
    q = p[k * per:(k + 1) * per]
    w = q[:filters * size * size].reshape(filters, size, size)
    d = q[filters * size * size:-2].reshape(filters, 2 * terms)
    e = np.exp(np.clip(d[:, :terms], -25, 25))
    a = e / (1 + e.sum(axis=1, keepdims=True))
    return w - w.mean(axis=(1, 2), keepdims=True), a, np.exp(d[:, terms:]), q[-2], math.log1p(math.exp(q[-1]))


def _mirrored_convolution(w, h, wd):
    """The dense matrix of a centred k x k filter on h x wd images, half-sample mirror boundary."""
    def mirror(i, n):
        return -1 - i if i < 0 else (2 * n - 1 - i if i >= n else i)
    r = w.shape[0] // 2
    M = np.zeros((h * wd, h * wd))
    for i in range(h):
        for j in range(wd):
            for a in range(w.shape[0]):
                for b in range(w.shape[1]):
                    M[i * wd + j, mirror(i - r + a, h) * wd + mirror(j - r + b, wd)] += w[a, b]
    return M


def _gram(filters, h, wd):
    return sum(M.T @ M for M in (_mirrored_convolution(w, h, wd) for w in filters))


def _assert_stages_certified_on_every_size(p, arch):
    """Every stage's tau lies in [0, 2/(Lambda + mu)] (sup g < 1), Lambda the largest Gershgorin
    row sum of the Gram over 8..11 x 8..11 images; for 3x3 filters (reach R = 1, 4R + 1 < 8)
    8 x 8 already attains it, and Lambda bounds the true lambda_max. Returns the per-stage
    (tau, mu, Lambda, sup g)."""
    out = []
    for k in range(arch["stages"]):
        w, a, _, tau, mu = _stage(p, k, **arch)
        rows = {(h, wd): np.abs(_gram(w, h, wd)).sum(axis=1).max() for h in range(8, 12) for wd in range(8, 12)}
        Lam = max(rows.values())
        assert Lam <= rows[(8, 8)] * (1 + 1e-12)
        assert np.linalg.eigvalsh(_gram(w, 8, 8))[-1] <= Lam * (1 + 1e-12)
        assert a.sum(axis=1).max() < 1
        assert 0 <= tau <= 2 / (Lam + mu)
        out.append((tau, mu, Lam, float(a.sum(axis=1).max())))
    return out


def test_the_dense_matrix_here_is_the_library_convolution(executed):
    arch = executed[1]["learned"]["arch"]
    w = _stage(executed[2]["learned_parameters"], 0, **arch)[0]
    bank = pdb.stencil2d.bank_matrix([pdb.Stencil2D(k, offset=(-1, -1)) for k in w], (8, 9))
    np.testing.assert_allclose(bank, np.vstack([_mirrored_convolution(k, 8, 9) for k in w]), rtol=0, atol=1e-15)


def test_plotted_fluxes_are_s_times_the_mixture_of_the_stored_parameters(executed):
    le, arrays = executed[1]["learned"], executed[2]
    s, p = arrays["learned_s"], arrays["learned_parameters"]
    fluxes, library = arrays["learned_fluxes"], arrays["learned_library_fluxes"]
    assert fluxes.shape == library.shape == (len(le["shown_stages"]), le["arch"]["filters"], s.size)
    nonmonotone = []
    for r, k in enumerate(le["shown_stages"]):
        _, a, lam, _, _ = _stage(p, k, **le["arch"])
        for c in range(le["arch"]["filters"]):
            expected = s * sum(a[c, j] * np.exp(-s ** 2 / (2 * lam[c, j] ** 2)) for j in range(a.shape[1]))
            np.testing.assert_allclose(fluxes[r, c], expected, rtol=1e-13, atol=1e-16)
            np.testing.assert_allclose(library[r, c], expected, rtol=1e-12, atol=1e-15)
            nonmonotone.append(bool(np.any(np.diff(expected) < 0)))
    assert np.ravel(le["nonmonotone"]).tolist() == nonmonotone
    assert any(nonmonotone)                          # what the text points out (Sec. 2.5)


def test_trained_step_sizes_satisfy_theorem_2_on_every_image_size(executed):
    le, p = executed[1]["learned"], executed[2]["learned_parameters"]
    assert le["steps"] == len(le["losses"]) and np.all(np.isfinite(le["losses"]))
    assert np.mean(le["losses"][-20:]) < np.mean(le["losses"][:20])
    stages = _assert_stages_certified_on_every_size(p, le["arch"])
    for (tau, mu, Lam, _), reported in zip(stages, le["any_size"]):
        assert reported["tau"] == tau and reported["mu"] == pytest.approx(mu, rel=1e-14)
        assert Lam <= reported["Lambda"] <= Lam * (1 + 1e-12)     # the library's rounds up
    lam8 = [np.linalg.eigvalsh(_gram(_stage(p, k, **le["arch"])[0], 8, 8))[-1] for k in range(len(stages))]
    assert set(le["certified"]) >= {"8x8", "512x512", "1024x1024"} and all(le["certified"].values())
    for bounds in le["certificate_tau_bounds"].values():
        for (tau, mu, _, sup_g), bound, lam in zip(stages, bounds, lam8):
            assert tau <= bound <= 2 / (sup_g * lam + mu) * (1 + 1e-12)   # certified: never above the truth


def _test_images_with_noise(sigma):
    """(name, clean, noisy) of camera, coins, moon with the noise of train_denoiser.evaluate."""
    for i, name in enumerate(("camera", "coins", "moon")):
        clean = getattr(skimage_data, name)().astype(np.float64) / 255.0
        yield name, clean, clean + sigma * np.random.default_rng(i).standard_normal(clean.shape)


def _psnr(clean, x):
    return float(10 * np.log10(1.0 / np.mean((x - clean) ** 2)))


def test_reported_psnrs_are_those_of_the_stored_outputs_on_the_test_images(executed, train_denoiser):
    le, arrays = executed[1]["learned"], executed[2]
    assert le["sigma"] == 25 / 255
    net = train_denoiser.make_network(**le["arch"], seed=0)
    net.set_parameters(arrays["learned_parameters"])
    shipped = pdb.models.denoiser(25)
    for name, clean, noisy in _test_images_with_noise(le["sigma"]):
        psnr = le["psnr"][name]
        trained, from_shipped = arrays[f"learned_trained_{name}"], arrays[f"learned_shipped_{name}"]
        assert psnr["noisy"] == pytest.approx(_psnr(clean, noisy), rel=1e-12)
        assert psnr["trained"] == pytest.approx(_psnr(clean, trained), rel=1e-12)
        assert psnr["shipped"] == pytest.approx(_psnr(clean, from_shipped), rel=1e-12)
        np.testing.assert_array_equal(trained, net.predict(noisy))        # the stored parameters' output
        np.testing.assert_array_equal(from_shipped, shipped.predict(noisy))
        assert psnr["trained"] > psnr["noisy"] + 5 and psnr["shipped"] > psnr["noisy"] + 5, name


def test_torch_training_lowers_the_loss_keeps_the_certificate_and_equals_predict(executed, train_denoiser):
    tq, arrays, arch = executed[1]["torch"], executed[2], executed[1]["learned"]["arch"]
    losses, check = np.array(tq["losses"]), np.array(tq["check_losses"])
    assert losses.size == 40 and check.size == 41 and np.all(np.isfinite(losses)) and np.all(np.isfinite(check))
    assert losses[-1] < losses[0] and check[-1] < check[0]
    _assert_stages_certified_on_every_size(arrays["torch_parameters"], arch)
    net = train_denoiser.make_network(**arch, seed=0)
    net.set_parameters(arrays["torch_parameters"])
    expected = net.predict(arrays["torch_input"])
    np.testing.assert_array_equal(arrays["torch_output"], expected)
    np.testing.assert_array_equal(arrays["torch_output_no_grad"], expected)
    assert tq["bitwise_equal"] is True and tq["certified"] is True

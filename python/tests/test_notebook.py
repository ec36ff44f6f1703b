"""The tour notebook (examples/notebooks/tour.ipynb) runs headlessly and shows what it claims.

The notebook is executed headlessly (notebook_runner.py); its last cell writes its key numbers
to ``tour.json`` in ``PDEBLOCKS_NOTEBOOK_OUT``. Any cell error fails the test.
The assertions check those numbers against the paper's claims and against independent
numpy computations from the executed notebook's data.
"""
from __future__ import annotations

import json

import pytest

from notebook_runner import NOTEBOOKS, assert_ran_cleanly_with_plots, assert_stored_without_outputs, run_notebook

import pdeblocks as pdb

NOTEBOOK = NOTEBOOKS / "tour.ipynb"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """(notebook with outputs, summary dict) of one headless run of the tour."""
    nb, out_dir = run_notebook(NOTEBOOK, tmp_path_factory)
    return nb, json.loads((out_dir / "tour.json").read_text())


def test_notebook_is_stored_without_outputs():
    assert_stored_without_outputs(NOTEBOOK)


def test_every_cell_runs_without_error_and_plots_render(executed):
    assert_ran_cleanly_with_plots(executed[0], min_plots=7)


def test_perona_malik_keeps_the_edge_that_linear_diffusion_blurs(executed):
    s = executed[1]["scale_space"]
    assert s["T"] == pytest.approx(200.0, rel=1e-3)
    assert s["edge_perona_malik"] > 0.8 * s["edge_clean"]        # the 0.4 jump survives
    assert s["edge_linear"] < 0.25 * s["edge_clean"]             # ... and is blurred away linearly
    assert s["rms_perona_malik"] < 0.5 * s["rms_noisy"] < s["rms_linear"]


def test_lipschitz_table_matches_the_grid_and_the_monotonicity_of_each_flux(executed):
    table = executed[1]["lipschitz"]
    assert set(table) == set(pdb.DIFFUSIVITIES)
    for name, row in table.items():
        # The library's L is a supremum: never below the grid maximum, and close to it.
        assert row["library"] >= row["grid"] * (1 - 1e-12)
        assert row["library"] == pytest.approx(row["grid"], rel=1e-3)
    assert table["linear"]["library"] == pytest.approx(1.0)
    assert table["weickert"]["library"] > 2.0
    monotone = {name for name, row in table.items() if row["monotone"]}
    assert monotone == {"linear", "charbonnier"}                   # Sec. 2.5: PM-type fluxes are not


def test_fsi_reaches_the_stopping_time_with_far_fewer_block_evaluations(executed):
    sch = executed[1]["schemes"]
    assert set(sch) == {"explicit", "fsi", "fed", "implicit"}
    for name, row in sch.items():
        assert row["time"] == pytest.approx(200.0, rel=1e-12), name
        assert row["max_error"] < 1e-2, name                      # all close to the fine reference
    assert sch["fsi"]["block_evaluations"] * 4 < sch["explicit"]["block_evaluations"]
    assert sch["fed"]["block_evaluations"] * 4 < sch["explicit"]["block_evaluations"]
    assert sch["fsi"]["rms_error"] < 2 * sch["explicit"]["rms_error"]


def test_norm_never_grows_at_the_bound_and_grows_above_it(executed):
    st = executed[1]["stability"]
    for name in ("linear", "perona_malik"):
        assert st[f"{name}_1.0"]["max_ratio"] <= 1 + 1e-12       # Theorem 2
        assert st[f"{name}_1.5"]["max_ratio"] > 1
    assert st["linear_1.5"]["norm_last"] > 1e10 * st["linear_1.5"]["norm_first"]


def test_multigrid_converges_independently_of_n_and_the_unet_equals_the_cycle(executed):
    m = executed[1]["multigrid"]
    assert len(m["factors"]) == 12
    for key, factor in m["factors"].items():
        assert 0 < factor < 0.15, key
    assert m["unet_vs_cycle"] <= 1e-12
    assert m["residual_channel"] <= 1e-12


def test_trained_network_learns_and_is_certified(executed):
    net = executed[1]["network"]
    assert net["certified"] is True
    assert net["norms_ok"] is True
    assert net["loss_last"] < 0.5 * net["loss_first"]
    assert net["psnr_learned"] > net["psnr_noisy"] + 5
    # Competitive with the best Perona-Malik filter, although that one is tuned on the test set.
    assert net["psnr_learned"] > net["psnr_perona_malik"] - 0.5
    assert net["rebuild_error"] < 1e-12                          # the decoded parameters are the network

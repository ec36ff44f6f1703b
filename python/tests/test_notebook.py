"""The tour notebook (examples/notebooks/tour.ipynb) runs headlessly and shows what it claims.

The notebook is executed with nbclient in a python3 kernel started from this interpreter,
with ``PYTHONPATH`` pointing at the source tree's ``python/`` (so the kernel imports the same
pdeblocks as this test) and ``PDEBLOCKS_NOTEBOOK_OUT`` at a temporary directory, where the
notebook's last cell writes its key numbers to ``tour.json``. Any cell error fails the test.
The assertions check those numbers against the paper's claims and against independent
numpy computations from the executed notebook's data.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="needs nbformat (python/requirements-dev.txt)")
nbclient = pytest.importorskip("nbclient", reason="needs nbclient (python/requirements-dev.txt)")
pytest.importorskip("ipykernel", reason="needs ipykernel (python/requirements-dev.txt)")

import pdeblocks as pdb

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "examples" / "notebooks" / "tour.ipynb"


def _kernel_manager(spec_dir: Path):
    """A python3 kernel of this very interpreter (not whatever 'python3' kernelspec is installed)."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    kernel = spec_dir / "python3"
    kernel.mkdir()
    (kernel / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (test)", "language": "python"}))
    specs = KernelSpecManager(kernel_dirs=[str(spec_dir)], ensure_native_kernel=False)
    return KernelManager(kernel_name="python3", kernel_spec_manager=specs)


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """(notebook with outputs, summary dict) of one headless run of the tour."""
    out_dir = tmp_path_factory.mktemp("tour")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    env = dict(os.environ)
    python_dir = str(Path(pdb.__file__).resolve().parents[1])  # the pdeblocks this test imported
    env["PYTHONPATH"] = os.pathsep.join(p for p in (python_dir, env.get("PYTHONPATH")) if p)
    env["PDEBLOCKS_NOTEBOOK_OUT"] = str(out_dir)
    env.pop("MPLBACKEND", None)  # the kernel's inline backend (Agg rendering to PNG outputs)
    km = _kernel_manager(tmp_path_factory.mktemp("kernels"))
    client = nbclient.NotebookClient(nb, km=km, timeout=300, allow_errors=False,
                                     resources={"metadata": {"path": str(out_dir)}})
    # Run from a temporary directory: the notebook must not depend on the working directory
    # (it finds the package through PYTHONPATH here, like an installed package).
    client.execute(env=env)
    return nb, json.loads((out_dir / "tour.json").read_text())


def test_notebook_is_stored_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "the notebook has no code cells"
    assert all(not c.outputs and c.execution_count is None for c in code), \
        "store tour.ipynb without outputs (clear them before committing)"


def test_every_cell_runs_without_error_and_plots_render(executed):
    nb, _ = executed
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code)
    for c in code:
        for out in c.outputs:
            assert out.output_type != "error", f"cell raised {out.get('ename')}: {out.get('evalue')}"
            if out.output_type == "stream":
                assert out.name != "stderr" or "Warning" not in out.text, f"cell warned:\n{out.text}"
    images = sum("image/png" in out.get("data", {}) for c in code for out in c.outputs)
    plotting_cells = sum("plt.show()" in c.source for c in code)
    assert plotting_cells >= 7
    assert images == plotting_cells, f"{plotting_cells} cells call plt.show() but {images} PNG outputs"


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

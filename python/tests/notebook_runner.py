"""Running the example notebooks headlessly (shared by test_notebook*.py).

A notebook is executed with nbclient in a python3 kernel started from this interpreter, with
``PYTHONPATH`` pointing at the source tree's ``python/`` (so the kernel imports the same
pdeblocks as the tests) and ``PDEBLOCKS_NOTEBOOK_OUT`` at a temporary directory, where its
last cell writes its key numbers. It runs from that directory: a notebook must not depend on
the working directory (it finds the package through PYTHONPATH, like an installed package).
Any cell error fails the run.
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

NOTEBOOKS = Path(__file__).resolve().parents[2] / "examples" / "notebooks"


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


def run_notebook(path: Path, tmp_path_factory, timeout: int = 300):
    """``(notebook with outputs, output directory)`` of one headless run of ``path``."""
    out_dir = tmp_path_factory.mktemp(path.stem)
    nb = nbformat.read(path, as_version=4)
    env = dict(os.environ)
    python_dir = str(Path(pdb.__file__).resolve().parents[1])  # the pdeblocks the tests imported
    env["PYTHONPATH"] = os.pathsep.join(p for p in (python_dir, env.get("PYTHONPATH")) if p)
    env["PDEBLOCKS_NOTEBOOK_OUT"] = str(out_dir)
    env.pop("MPLBACKEND", None)  # the kernel's inline backend (Agg rendering to PNG outputs)
    km = _kernel_manager(tmp_path_factory.mktemp("kernels"))
    client = nbclient.NotebookClient(nb, km=km, timeout=timeout, allow_errors=False,
                                     resources={"metadata": {"path": str(out_dir)}})
    client.execute(env=env)
    return nb, out_dir


def assert_stored_without_outputs(path: Path) -> None:
    """The committed notebook is valid and has no outputs (they are produced by running it)."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{path.name} has no code cells"
    assert all(not c.outputs and c.execution_count is None for c in code), \
        f"store {path.name} without outputs (clear them before committing)"


def assert_ran_cleanly_with_plots(nb, min_plots: int) -> None:
    """Every code cell ran, none raised or warned on stderr, and each ``plt.show()`` cell
    produced one PNG (at least ``min_plots`` of them)."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code)
    for c in code:
        for out in c.outputs:
            assert out.output_type != "error", f"cell raised {out.get('ename')}: {out.get('evalue')}"
            if out.output_type == "stream":
                assert out.name != "stderr" or "Warning" not in out.text, f"cell warned:\n{out.text}"
    images = sum("image/png" in out.get("data", {}) for c in code for out in c.outputs)
    plotting_cells = sum("plt.show()" in c.source for c in code)
    assert plotting_cells >= min_plots
    assert images == plotting_cells, f"{plotting_cells} cells call plt.show() but {images} PNG outputs"

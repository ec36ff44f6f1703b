"""examples/denoise_image.py: six denoisers of one test image side by side; the rows are the
library calls they name (the learned row is pdeblocks.denoise.learned), and the figure is written."""
from pathlib import Path

import numpy as np
import pytest

import pdeblocks as pdb
from pdeblocks import datasets as D
from pdeblocks.metrics import psnr
from example_loader import load_example

pytest.importorskip("skimage")
pytest.importorskip("bm3d")
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "denoise_image.py"


@pytest.fixture(scope="module")
def example():
    return load_example(EXAMPLE, "denoise_image")


def test_six_panels_with_the_learned_row_from_the_shipped_model(example, tmp_path, capsys):
    out = tmp_path / "fig.png"
    results = example.main(["--image", "coins", "--crop", "64", "--sigma", "25", "--out", str(out)])
    assert [r[0] for r in results] == ["noisy", "TV", "Perona-Malik", "EED", "learned (certified)", "BM3D"]
    clean = example.B.center_crop(D.load_image("coins"), 64)
    noisy = results[0][1]
    assert np.array_equal(noisy, example.B.noisy_image("example", clean, 25))
    assert np.array_equal(results[4][1], pdb.denoise.learned(noisy, 25))
    scores = {m: psnr(clean, u) for m, u, _, _ in results}
    for method in ("TV", "Perona-Malik", "EED", "learned (certified)", "BM3D"):
        assert scores[method] > scores["noisy"] + 3, method
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "figure:" in capsys.readouterr().out

"""examples/denoise_benchmark.py --quick: the baselines rank as they must (TV beats the noisy
image, BM3D beats TV), tuning picks the best grid setting, and a learned model gets a row."""
import math
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("skimage")
pytest.importorskip("bm3d")

import pdeblocks as pb
from pdeblocks import datasets as D
from pdeblocks.metrics import psnr
from tiny_denoiser import TinyDenoiser
from example_loader import load_example

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "denoise_benchmark.py"
ARGS = ["--quick", "--images", "camera", "--sigmas", "25"]


@pytest.fixture(scope="module")
def bench():
    return load_example(EXAMPLE, "denoise_benchmark")


@pytest.fixture(scope="module")
def rows(bench):
    return {r["method"]: r for r in bench.main(ARGS + ["--no-learned"])}


def test_quick_run_has_every_baseline_row(rows):
    assert list(rows) == ["noisy", "TV", "PM", "EED", "BM3D"]
    for r in rows.values():
        assert r["sigma"] == 25 and r["image"] == "camera" and math.isfinite(r["psnr"]) and -1 <= r["ssim"] <= 1


def test_noisy_psnr_is_that_of_the_noise_level(rows):
    # unclipped Gaussian noise of sigma = 25/255 on [0, 1]: PSNR = -20 log10(25/255) = 20.17 dB
    assert rows["noisy"]["psnr"] == pytest.approx(-20 * np.log10(25 / 255), abs=0.2)


def test_tv_pm_and_eed_beat_the_noisy_image_and_bm3d_beats_tv(rows):
    for method in ("TV", "PM", "EED"):
        assert rows[method]["psnr"] > rows["noisy"]["psnr"] + 3, method
        assert rows[method]["ssim"] > rows["noisy"]["ssim"], method
    assert rows["BM3D"]["psnr"] > rows["TV"]["psnr"]
    assert rows["BM3D"]["ssim"] > rows["TV"]["ssim"]


def test_tv_weight_is_at_least_as_good_as_every_initial_grid_weight(bench, rows):
    from skimage.restoration import denoise_tv_chambolle
    clean = bench.center_crop(D.load_image("camera"), bench.QUICK_SIZE)
    noisy = bench.noisy_image("camera", clean, 25)
    grid = [psnr(clean, denoise_tv_chambolle(noisy, weight=f * 25 / 255)) for f in bench.GRIDS[True]["tv"]]
    assert rows["TV"]["psnr"] >= max(grid) - 1e-12
    weight = float(rows["TV"]["setting"].split("=")[1])
    assert rows["TV"]["psnr"] == pytest.approx(psnr(clean, denoise_tv_chambolle(noisy, weight=weight)), abs=1e-3)


def test_grid_search_extends_towards_the_optimum(bench):
    # a unimodal score peaking at 10: the grid 1, 2, 4 extends upwards and finds 8 or 16
    calls = []

    def score(v):
        calls.append(v)
        return (-abs(np.log(v / 10)),)
    best, _ = bench.grid_search(score, (1.0, 2.0, 4.0), extend=6)
    assert best == 8.0 and calls == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert bench.grid_search(score, (1.0, 2.0, 4.0), extend=0)[0] == 4.0


def test_noise_is_seeded_per_image_and_sigma(bench):
    clean = np.full((8, 8), 0.5)
    a = bench.noisy_image("camera", clean, 25)
    assert np.array_equal(a, bench.noisy_image("camera", clean, 25))
    assert not np.array_equal(a, bench.noisy_image("moon", clean, 25))
    assert not np.array_equal(a, bench.noisy_image("camera", clean, 15))


def test_learned_row_and_speed_ratio_with_a_model(bench, capsys):
    capsys.readouterr()
    model = TinyDenoiser()
    rows = bench.main(ARGS + ["--model", "tiny.pdbnet"], load_model=lambda path: model)
    learned = [r for r in rows if r["method"] == "learned"]
    assert len(learned) == 1
    clean = bench.center_crop(D.load_image("camera"), bench.QUICK_SIZE)
    expected = psnr(clean, model.predict(bench.noisy_image("camera", clean, 25)))
    assert learned[0]["psnr"] == pytest.approx(expected, abs=1e-12)
    assert "faster" in capsys.readouterr().out


def test_learned_row_defaults_to_the_shipped_model_nearest_to_sigma(bench, capsys):
    if not pb.models.available():
        pytest.skip("no shipped model")
    rows = [r for r in bench.main(ARGS) if r["method"] == "learned"]
    clean = bench.center_crop(D.load_image("camera"), bench.QUICK_SIZE)
    expected = psnr(clean, pb.denoise.learned(bench.noisy_image("camera", clean, 25), 25))
    assert len(rows) == 1 and rows[0]["setting"] == "shipped sigma=25"
    assert rows[0]["psnr"] == pytest.approx(expected, abs=1e-12)
    assert "faster" in capsys.readouterr().out


def test_learned_row_is_skipped_without_image_network(bench, monkeypatch, capsys):
    monkeypatch.delattr(pb, "ImageNetwork", raising=False)
    monkeypatch.setattr(bench, "run", lambda images, sigmas, **kw: [] if kw["model"] is None else 1 / 0)
    monkeypatch.setattr(bench, "summary", lambda rows: "")
    bench.main(ARGS + ["--model", "missing.pdbnet"])
    assert "learned row skipped" in capsys.readouterr().out

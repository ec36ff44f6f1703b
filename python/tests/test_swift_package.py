"""Swift users: examples/swift-consumer depends on this package by path, builds and runs."""
from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import pdeblocks as pdb
from c_examples import build_c_example
from synthetic_image import HEIGHT, PERONA_MALIK, WIDTH, psnr, synthetic_image

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "examples" / "swift-consumer"

pytestmark = pytest.mark.slow


def gaussian_noise(seed: int, count: int) -> np.ndarray:
    """The example's generator (Box-Muller over a 64-bit LCG), transcribed independently."""
    state, mask = seed, (1 << 64) - 1

    def uniform() -> float:
        nonlocal state
        state = (state * 6364136223846793005 + 1442695040888963407) & mask
        return ((state >> 11) + 0.5) / 9007199254740992.0

    out = []
    for _ in range(count):
        u, v = uniform(), uniform()
        out.append(math.sqrt(-2 * math.log(u)) * math.cos(2 * math.pi * v))
    return np.array(out)


@pytest.fixture(scope="module")
def example(tmp_path_factory) -> tuple[str, Path]:
    """The example's output, and the raw denoised image it wrote (`Denoise --raw FILE`)."""
    swift = os.environ.get("SWIFT") or shutil.which("swift")
    if swift is None:
        pytest.skip("the Swift toolchain is not on PATH")
    scratch = tmp_path_factory.mktemp("swift-consumer")
    command = [swift, "build", "--package-path", str(PACKAGE), "--scratch-path", str(scratch)]
    built = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-4000:]
    bindir = subprocess.run(command + ["--show-bin-path"], capture_output=True, text=True, check=True).stdout.strip()
    raw = scratch / "image.f64"
    run = subprocess.run([str(Path(bindir) / "Denoise"), "--raw", str(raw)], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout, raw


@pytest.fixture(scope="module")
def output(example) -> str:
    return example[0]


def table(output: str) -> dict[str, tuple[int, float, float]]:
    rows = {}
    for line in output.splitlines():
        cells = line.split()
        if len(cells) == 4 and cells[0] in ("noisy", "linear", "denoised"):
            rows[cells[0]] = (int(cells[1]), float(cells[2]), float(cells[3]))
    return rows


def test_swift_example_denoises_below_the_noise_level(output):
    rows = table(output)
    assert set(rows) == {"noisy", "linear", "denoised"}, output
    noisy, linear, denoised = rows["noisy"], rows["linear"], rows["denoised"]
    assert denoised[2] < 0.2 * noisy[2]          # Perona-Malik removes most of the noise
    assert denoised[2] < linear[2]               # ... and keeps the edges that linear diffusion blurs
    assert denoised[1] <= noisy[1] and linear[1] <= noisy[1]  # Theorem 2: the norm does not grow
    assert "refused" in output and "stability bound" in output


def test_swift_example_agrees_with_the_python_binding(output):
    """The same evolution through the C ABI from Python gives the printed errors."""
    rows = table(output)
    n, stop = 512, 1e-3
    x = np.arange(n)
    clean = np.where(x < n // 3, 0.0, np.where(x < 2 * n // 3, 1.0, 0.3))
    noisy = clean + 0.1 * gaussian_noise(7, n)
    K = pdb.DifferenceOperator([0, 1], h=1 / n)
    for name, kind, lam in (("linear", "linear", 1.0), ("denoised", "perona_malik", 60.0)):
        steps = rows[name][0]
        assert steps == math.ceil(stop / pdb.stable_tau(K, pdb.Diffusivity(kind, lam), n))
        u = pdb.explicit(noisy, K, pdb.Diffusivity(kind, lam), stop / steps, steps)
        assert abs(np.sqrt(np.mean((u - clean) ** 2)) - rows[name][2]) <= 1e-6
        assert abs(np.linalg.norm(u) - rows[name][1]) <= 1e-6
    assert abs(np.sqrt(np.mean((noisy - clean) ** 2)) - rows["noisy"][2]) <= 1e-6


def test_swift_example_denoises_the_synthetic_image_with_the_array_api(output):
    line = re.search(r"^image 64x80, .*\((\d+) cycles of length (\d+)\): PSNR noisy ([\d.]+) dB, denoised ([\d.]+) dB$",
                     output, re.M)
    assert line, output
    clean, noisy = synthetic_image()
    lam, t = PERONA_MALIK["lam"], PERONA_MALIK["t"]
    u, info = pdb.evolve(noisy, pdb.gradient_2d(), pdb.Diffusivity("perona_malik", lam), t, scheme="fed")
    assert (int(line[1]), int(line[2])) == (info["cycles"], info["cycle_length"])
    assert abs(float(line[3]) - psnr(noisy, clean)) <= 0.005 and abs(float(line[4]) - psnr(u, clean)) <= 0.005
    assert float(line[4]) > float(line[3]) + 10


def test_swift_c_and_python_give_the_same_image(example, tmp_path):
    """Cross-language agreement: the Swift array API (the package built from source by the
    consumer), the C example (examples/denoise_image.c) and Python, each on its own copy of
    the seeded synthetic image, give the same denoised image (C and Python share the library
    binary: bit for bit; Swift is a separate debug build: to 1e-12 relative)."""
    _, raw = example
    swift = np.fromfile(raw).reshape(HEIGHT, WIDTH)
    done = subprocess.run([str(build_c_example("denoise_image", tmp_path)), "--raw", str(tmp_path / "c.f64")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    c = np.fromfile(tmp_path / "c.f64").reshape(HEIGHT, WIDTH)
    _, noisy = synthetic_image()
    python, _ = pdb.evolve(noisy, pdb.gradient_2d(), pdb.Diffusivity("perona_malik", PERONA_MALIK["lam"]),
                           PERONA_MALIK["t"], scheme="fed")
    np.testing.assert_array_equal(c, python)
    assert np.max(np.abs(swift - python)) <= 1e-12 * np.max(np.abs(python))

"""Swift users: examples/swift-consumer depends on this package by path, builds and runs."""
from __future__ import annotations

import math
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import pdeblocks as pdb

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
def output(tmp_path_factory) -> str:
    swift = os.environ.get("SWIFT") or shutil.which("swift")
    if swift is None:
        pytest.skip("the Swift toolchain is not on PATH")
    scratch = tmp_path_factory.mktemp("swift-consumer")
    command = [swift, "build", "--package-path", str(PACKAGE), "--scratch-path", str(scratch)]
    built = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-4000:]
    bindir = subprocess.run(command + ["--show-bin-path"], capture_output=True, text=True, check=True).stdout.strip()
    run = subprocess.run([str(Path(bindir) / "Denoise")], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


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

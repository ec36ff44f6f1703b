"""The learned-denoiser example runs (short configuration) and prints its table."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_learned_denoiser_quick_run_prints_the_table_and_is_certified(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "learned_denoiser.py"), "--quick",
                          "--save", str(tmp_path / "net.pdbnet")],
                         capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    for row in ["noisy input", "best linear diffusion", "best Perona-Malik", "learned network"]:
        assert row in text
    assert "certified (Theorem 2, n = 256): yes" in text
    assert "||output|| <= ||input|| on every test signal: yes" in text
    assert (tmp_path / "net.pdbnet").stat().st_size > 0

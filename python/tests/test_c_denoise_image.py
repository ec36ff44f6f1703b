"""examples/denoise_image.c: the C image denoiser builds with -Werror against the header,
reads P5/P2 PGM files (8- and 16-bit), gives bit for bit the result of the Python call with
the same parameters (both reach the same library kernel), and refuses malformed files with
a message and exit code 1, never a crash."""
import subprocess
from pathlib import Path

import numpy as np
import pytest

import pdeblocks as pdb
from c_examples import build_c_example
from synthetic_image import EED, HEIGHT, PERONA_MALIK, WIDTH, psnr, synthetic_image


@pytest.fixture(scope="module")
def example(tmp_path_factory) -> Path:
    return build_c_example("denoise_image", tmp_path_factory.mktemp("denoise_image"))


def run(exe, *args, cwd=None):
    return subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, timeout=120, cwd=cwd)


def pgm_bytes(samples: np.ndarray, maxval: int, magic: str = "P5") -> bytes:
    h, w = samples.shape
    header = f"{magic}\n# written by the test\n{w} {h}\n{maxval}\n".encode()
    if magic == "P2":
        return header + "\n".join(" ".join(str(v) for v in row) for row in samples).encode() + b"\n"
    return header + samples.astype(">u1" if maxval < 256 else ">u2").tobytes()


def read_p5(path: Path) -> tuple[np.ndarray, int]:
    """An independent reader of the example's output (its own header layout: 'P5\\nW H\\nM\\n')."""
    data = path.read_bytes()
    magic, size, maxval, raster = data.split(b"\n", 3)
    assert magic == b"P5"
    w, h = map(int, size.split())
    maxval = int(maxval)
    dtype = ">u1" if maxval < 256 else ">u2"
    assert len(raster) == w * h * np.dtype(dtype).itemsize
    return np.frombuffer(raster, dtype=dtype).reshape(h, w).astype(np.int64), maxval


def noisy_camera(maxval: int, shape=(96, 128), seed=0) -> tuple[np.ndarray, np.ndarray]:
    """A crop of skimage's camera on 0..maxval and its noisy copy (noise 25 on the 0-255 scale)."""
    data = pytest.importorskip("skimage.data")
    clean = data.camera()[200:200 + shape[0], 220:220 + shape[1]].astype(float) / 255.0
    noisy = clean + np.random.default_rng(seed).normal(0, 25 / 255, shape)
    return clean, np.floor(np.clip(noisy, 0, 1) * maxval + 0.5).astype(np.int64)


def perona_malik(f, lam, t):
    return pdb.evolve(f, pdb.gradient_2d(), pdb.Diffusivity("perona_malik", lam), t, scheme="fed")[0]


def test_synthetic_run_improves_the_psnr_and_reports_a_refused_step(example):
    done = run(example)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = {line.split()[0]: float(line.split()[2]) for line in done.stdout.splitlines() if "PSNR" in line}
    clean, noisy = synthetic_image()
    assert abs(rows["noisy"] - psnr(noisy, clean)) < 0.01  # the C generator is the transcribed one
    assert rows["denoised"] > rows["noisy"] + 10
    assert "err_unstable (-4)" in done.stdout and "stability bound" in done.stdout


@pytest.mark.parametrize("mode", ["perona_malik", "eed"])
def test_synthetic_result_is_bitwise_the_python_call(example, tmp_path, mode):
    raw = tmp_path / "u.f64"
    args = ["--eed", EED["sigma"]] if mode == "eed" else []
    done = run(example, *args, "--raw", raw)
    assert done.returncode == 0, done.stdout + done.stderr
    u = np.fromfile(raw).reshape(HEIGHT, WIDTH)
    clean, noisy = synthetic_image()
    if mode == "eed":
        expected = pdb.eed(noisy, EED["lam"], EED["sigma"], EED["t"], scheme="fed")
    else:
        expected = perona_malik(noisy, PERONA_MALIK["lam"], PERONA_MALIK["t"])
    np.testing.assert_array_equal(u, expected)
    assert psnr(u, clean) > psnr(noisy, clean) + 10


@pytest.mark.parametrize("magic, maxval", [("P5", 255), ("P5", 65535), ("P5", 1000), ("P2", 255), ("P2", 4095)])
def test_pgm_in_pgm_out_equals_python_before_and_after_quantisation(example, tmp_path, magic, maxval):
    clean, samples = noisy_camera(maxval)
    (tmp_path / "in.pgm").write_bytes(pgm_bytes(samples, maxval, magic))
    lam, t = 0.08, 6.0
    done = run(example, "--raw", "u.f64", "in.pgm", "out.pgm", lam, t, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{samples.shape[1]} x {samples.shape[0]}, maxval {maxval}" in done.stdout
    expected = perona_malik(samples / maxval, lam, t)
    np.testing.assert_array_equal(np.fromfile(tmp_path / "u.f64").reshape(samples.shape), expected)
    written, written_max = read_p5(tmp_path / "out.pgm")
    assert written_max == maxval
    np.testing.assert_array_equal(written, np.floor(np.clip(expected, 0, 1) * maxval + 0.5))
    assert psnr(written / maxval, clean) > psnr(samples / maxval, clean) + 3


def test_eed_on_a_pgm_equals_pdb_eed(example, tmp_path):
    clean, samples = noisy_camera(255, shape=(40, 56), seed=1)
    (tmp_path / "in.pgm").write_bytes(pgm_bytes(samples, 255))
    done = run(example, "--eed", 1.5, "--raw", "u.f64", "in.pgm", "out.pgm", 0.03, 4, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    expected = pdb.eed(samples / 255, 0.03, 1.5, 4.0, scheme="fed")
    np.testing.assert_array_equal(np.fromfile(tmp_path / "u.f64").reshape(samples.shape), expected)


MALFORMED = {
    "empty": (b"", "not a PGM file"),
    "ppm": (b"P6\n2 2\n255\n" + bytes(12), "not a PGM file"),
    "missing height": (b"P5\n3", "end of file before the height"),
    "letters": (b"P5\n3 x\n255\n" + bytes(6), "height is not a decimal number"),
    "maxval 0": (b"P5\n3 2\n0\n" + bytes(6), "maxval 0 is outside 1..65535"),
    "maxval 65536": (b"P5\n3 2\n65536\n" + bytes(12), "maxval 65536 is outside 1..65535"),
    "zero width": (b"P5\n0 2\n255\n", "at least 1"),
    "huge": (b"P5\n100000 100000\n255\n" + bytes(16), "too large"),
    "enormous number": (b"P5\n" + b"9" * 40 + b" 2\n255\n", "out of range"),
    "truncated 8-bit": (b"P5\n3 2\n255\n" + bytes(5), "truncated PGM"),
    "truncated 16-bit": (b"P5\n3 2\n65535\n" + bytes(11), "truncated PGM"),
    "no raster": (b"P5\n3 2\n255", "no raster"),
    "sample above maxval": (b"P5\n2 1\n100\n\x05\xc8", "exceeds maxval 100"),
    "ascii truncated": (b"P2\n3 2\n10\n1 2 3 4 5", "end of file before the sample"),
    "ascii above maxval": (b"P2\n2 1\n10\n3 11\n", "exceeds maxval 10"),
    "ascii garbage": (b"P2\n2 1\n10\n3 x\n", "not a decimal number"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_pgm_exits_1_with_a_message_and_writes_nothing(example, tmp_path, name):
    content, message = MALFORMED[name]
    (tmp_path / "in.pgm").write_bytes(content)
    done = run(example, "--raw", "u.f64", "in.pgm", "out.pgm", cwd=tmp_path)
    assert done.returncode == 1, (done.returncode, done.stderr)  # a status, not a signal
    assert "in.pgm: " in done.stderr and message in done.stderr, done.stderr
    assert not (tmp_path / "out.pgm").exists() and not (tmp_path / "u.f64").exists()


def test_missing_file_and_unwritable_output_exit_1(example, tmp_path):
    done = run(example, tmp_path / "absent.pgm", tmp_path / "out.pgm")
    assert done.returncode == 1 and "cannot open for reading" in done.stderr
    (tmp_path / "in.pgm").write_bytes(pgm_bytes(np.zeros((2, 2), dtype=np.int64), 255))
    done = run(example, tmp_path / "in.pgm", tmp_path / "no such dir" / "out.pgm")
    assert done.returncode == 1 and "cannot open for writing" in done.stderr


@pytest.mark.parametrize("args", [["only-input.pgm"], ["a", "b", "0"], ["a", "b", "nan"], ["a", "b", "0.1", "-1"],
                                  ["--eed", "-1"], ["--bogus"], ["a", "b", "1", "2", "3"]])
def test_bad_command_lines_exit_2_with_usage(example, args):
    done = run(example, *args)
    assert done.returncode == 2 and "usage: denoise_image" in done.stderr, done.stderr


def test_library_refusal_is_reported_with_its_status_name(example, tmp_path):
    # A stopping time that needs more than the library's step budget is a library error (exit 1).
    (tmp_path / "in.pgm").write_bytes(pgm_bytes(np.arange(12).reshape(3, 4), 255))
    done = run(example, tmp_path / "in.pgm", tmp_path / "out.pgm", 0.1, 1e300)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "pdb_evolve_2d" in done.stderr and "err_invalid (-2)" in done.stderr, done.stderr
    assert not (tmp_path / "out.pgm").exists()


def test_a_shipped_model_on_a_pgm_equals_its_python_predict(example, tmp_path):
    clean, samples = noisy_camera(255, shape=(64, 72), seed=2)
    (tmp_path / "in.pgm").write_bytes(pgm_bytes(samples, 255))
    model = pdb.models.model_path(25)
    done = run(example, "--model", model, "--raw", "u.f64", "in.pgm", "out.pgm", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    net = pdb.models.denoiser(25)
    assert f"{len(net)} blocks, {net.parameter_count} parameters" in done.stdout
    expected = net.predict(samples / 255)
    np.testing.assert_array_equal(np.fromfile(tmp_path / "u.f64").reshape(samples.shape), expected)
    written, _ = read_p5(tmp_path / "out.pgm")
    np.testing.assert_array_equal(written, np.floor(np.clip(expected, 0, 1) * 255 + 0.5))
    assert psnr(written / 255, clean) > psnr(samples / 255, clean) + 5


def test_a_missing_or_foreign_model_file_exits_1_and_writes_nothing(example, tmp_path):
    (tmp_path / "in.pgm").write_bytes(pgm_bytes(np.zeros((9, 9), dtype=np.int64), 255))
    (tmp_path / "bad.pdbnet").write_bytes(b"not a network")
    for model in ("absent.pdbnet", "bad.pdbnet"):
        done = run(example, "--model", model, "in.pgm", "out.pgm", cwd=tmp_path)
        assert done.returncode == 1 and "pdb_image_network_load" in done.stderr, done.stderr
        assert not (tmp_path / "out.pgm").exists()


def test_eed_and_model_together_is_a_usage_error(example):
    done = run(example, "--eed", "1", "--model", "x.pdbnet", "a", "b")
    assert done.returncode == 2 and "exclude each other" in done.stderr

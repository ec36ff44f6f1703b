"""examples/symmetric_vs_free.py (issue 16, item 6) in its quick configuration: the table's rows,
parameter counts against the block formulas, and the certificate's inequality on the trained
diffusion networks (no block increases the norm) — the free networks carry no such guarantee."""
import pytest

from example_loader import load_example


@pytest.fixture(scope="module")
def rows():
    return load_example("symmetric_vs_free.py").main(["--quick"])


def test_three_networks_per_task_at_equal_depth(rows):
    assert [r["task"] for r in rows] == ["1D signals"] * 3 + ["images, sigma 25"] * 3
    assert [r["network"][:3] for r in rows] == ["(a)", "(b)", "(c)"] * 2


def test_parameter_counts_follow_the_block_formulas(rows):
    example = load_example("symmetric_vs_free.py")
    s, im = example.CONFIGS["quick"]
    # 1D: diffusion C k + 2 J C + 1 (filters, mixture weights and contrasts, tau); free 2 C k + C + 1
    D, C, k, J = s["depth"], s["channels"], s["taps"], s["terms"]
    a, b, c = rows[:3]
    assert a["parameters"] == D * (C * k + 2 * J * C + 1)
    assert c["parameters"] == D * (2 * C * k + C + 1) and c["channels"] == C
    assert b["parameters"] == D * (2 * b["channels"] * k + b["channels"] + 1)
    for other in range(1, 64):   # (b)'s width is the nearest count to (a)'s
        assert abs(b["parameters"] - a["parameters"]) <= abs(D * (2 * other * k + other + 1) - a["parameters"])
    # images: diffusion C k^2 + 2 J C + 1; free 2 C k^2 + C
    D, C, k, J = im["depth"], im["channels"], im["size"], im["terms"]
    a, b, c = rows[3:]
    assert a["parameters"] == D * (C * k * k + 2 * J * C + 1)
    assert c["parameters"] == D * (2 * C * k * k + C)
    assert b["parameters"] == D * (2 * b["channels"] * k * k + b["channels"])


def test_trained_diffusion_networks_are_certified_and_never_increase_the_norm(rows):
    for r in rows:
        if r["network"].startswith("(a)"):
            assert r["certified"] and 0 < r["ratio"] <= 1 + 1e-12, r
        else:
            assert not r["certified"], r
        assert r["psnr"] > 10, r

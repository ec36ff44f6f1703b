"""Network memory (issue 12, item 12) and learnable-diffusivity bounds.

- Inference (predict) keeps no tape: its memory is O(n), independent of the number L of
  implicit sweeps / FSI steps (measured as the growth of ru_maxrss in a fresh subprocess).
- A recorded forward pass whose tape exceeds the handle's tape limit is refused before
  allocating, with a message naming the bytes needed (computed here from the documented
  layout) and the limit; nothing is written.
- Learnable diffusivity logits of any size keep a_j > 0, sum a_j < 1 (sup g < 1), so the
  outputs and gradients stay finite and the stability certificate holds.
"""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import pdeblocks as pdb

PYTHON_DIR = Path(__file__).resolve().parents[1]

RSS = """
import resource, sys, numpy as np, pdeblocks as pdb
L, n, kind = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
step = pdb.DiffusionBlock([pdb.Stencil([-1.0, 1.0])], ["perona_malik"], 0.1)
block = pdb.ImplicitBlock(step, L) if kind == "implicit" else pdb.FSIBlock(step, L)
net = pdb.Network([block, block], threads=1)
x = np.random.default_rng(0).normal(size=(1, n))
net.predict(x[:, :64])                                   # library loaded and warmed up
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
y = net.predict(x)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((after - before) * 1024, int(np.isfinite(y).all()))
"""


def _rss_growth(L, n, kind):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(PYTHON_DIR) + os.pathsep + env.get("PYTHONPATH", "")
    r = subprocess.run([sys.executable, "-c", RSS, str(L), str(n), kind], capture_output=True, text=True,
                       timeout=300, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    growth, finite = map(int, r.stdout.split())
    assert finite == 1
    return growth


@pytest.mark.parametrize("kind", ["implicit", "fsi"])
def test_inference_memory_is_bounded_by_n_not_by_the_number_of_sweeps(kind):
    n = 262144
    # output row + two signals + one block's scratch (2n) = 5n values, plus slack for the
    # allocator: 16 n float64 values. The old tape-based inference took (L - 1) n values per block.
    bound = 16 * 8 * n
    for L in (2, 200):
        assert _rss_growth(L, n, kind) <= bound, (L, kind)


def _implicit_net(L):
    step = pdb.DiffusionBlock([pdb.Stencil([-1.0, 1.0])], ["perona_malik"], 0.1)
    return pdb.Network([pdb.ImplicitBlock(step, L), step], threads=1)


def test_a_forward_pass_above_the_tape_limit_is_refused_naming_the_bytes():
    net = _implicit_net(200)
    batch, n = 3, 1000
    needed = 8 * batch * ((n + 199 * n) + n)     # documented: every block's input + (L-1) n per implicit block
    net.tape_limit = needed - 1
    x = np.random.default_rng(0).normal(size=(batch, n))
    with pytest.raises(pdb.PDEBlocksError) as err:
        net.forward(x)
    assert err.value.status == -2
    assert f"needs {needed} bytes" in str(err.value) and f"limit of {needed - 1} bytes" in str(err.value)
    net.tape_limit = needed                        # exactly enough
    y = net.forward(x)
    np.testing.assert_array_equal(y, net.predict(x))


def test_the_default_tape_limit_refuses_the_16_gib_tape_of_2000_sweeps_at_n_2_20():
    net = _implicit_net(2000)
    assert net.tape_limit == pdb.Network.DEFAULT_TAPE_LIMIT == 1 << 32
    x = np.zeros((1, 1 << 20))
    with pytest.raises(pdb.PDEBlocksError, match=f"needs {8 * (2000 + 1) * (1 << 20)} bytes of tape"):
        net.forward(x)


@pytest.mark.parametrize("bad", [0, -1, (1 << 34) + 1])
def test_an_invalid_tape_limit_is_refused(bad):
    net = _implicit_net(2)
    with pytest.raises(pdb.PDEBlocksError, match="tape limit must be in"):
        net.tape_limit = bad
    assert net.tape_limit == pdb.Network.DEFAULT_TAPE_LIMIT


def _mixture_weights(net):
    """The weights a_j of each learnable diffusivity, read from describe() (shortest
    round-trip decimal of the library's float64 values)."""
    out = []
    for line in net.describe().splitlines():
        text = line.split("learnable(a=[", 1)[1].split("]", 1)[0]
        out.append([float(v) for v in text.split(",")])
    return out


@pytest.mark.parametrize("logits", [[800.0, -800.0], [-800.0, 800.0], [800.0, 800.0], [1e300, -1e300],
                                    [40.0, 0.0], [-750.0, -760.0]])
def test_extreme_learnable_logits_keep_the_bounds_and_finite_gradients(logits):
    K = pdb.Stencil([-1.0, 1.0])
    net = pdb.Network([pdb.DiffusionBlock([K], [pdb.LearnableDiffusivity([0.3, 0.2], [0.5, 1.0])], 0.4)] * 2)
    p = net.parameters
    for _, sl in net.block_slices():               # per block: 2 stencil weights, 2 logits, 2 log-contrasts, tau
        p[sl.start + 2:sl.start + 4] = logits
    net.set_parameters(p)
    for a in _mixture_weights(net):                # documented: a_j > 0, sum a_j < 1, strictly
        assert all(v > 0 for v in a) and sum(a) < 1, a
    x = np.random.default_rng(4).normal(size=(2, 50))
    y = net.forward(x)
    gi, gp = net.backward(y)
    assert np.isfinite(y).all() and np.isfinite(gi).all() and np.isfinite(gp).all()
    # Theorem 2 with sup g = sum a_j < 1: tau = 0.4 <= 2/(sup g ||K||^2) since ||K||^2 < 4
    assert net.certificate(50).certified
    assert np.linalg.norm(y, axis=1).max() <= np.linalg.norm(x, axis=1).max() * (1 + 1e-12)

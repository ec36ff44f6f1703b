"""pdb.explicit on images against a dense numpy transcription of DESIGN.md "Images", and
against medpy's anisotropic_diffusion."""
import numpy as np
import pytest

import pdeblocks as pdb
from pdeblocks.stencil2d import Stencil2D, gradient_2d
from image_reference import matrix, step
from reference_diffusivities import REFERENCE

KINDS = list(REFERENCE)
SIZES = [(1, 1), (1, 6), (6, 1), (2, 2), (2, 5), (5, 2), (4, 7), (9, 6)]


def banks():
    return {
        "gradient": gradient_2d(),
        "gradient_h": gradient_2d(0.5),
        "offsets": [Stencil2D([[0.5, -1.0, 0.25], [0.0, 1.0, -0.75]], offset=(-1, -1)),
                    Stencil2D([[1.0], [-2.0], [1.0]], offset=(-1, 0)),
                    Stencil2D([[-1.0, 1.0]], offset=(1, 2))],
    }


def dense(bank, h, w):
    return [matrix(k.weights, k.offset, h, w) for k in bank]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("coupling", ["isotropic", "channelwise"])
def test_explicit_matches_dense_transcription(kind, coupling):
    rng = np.random.default_rng(1)
    for name, bank in banks().items():
        for h, w in SIZES:
            f = rng.standard_normal((2, h, w))
            gs = [(kind, 0.4)]
            g = pdb.Diffusivity(kind, 0.4)
            if coupling == "channelwise" and name == "offsets":
                gs = [(kind, 0.3), ("perona_malik", 0.7), (kind, 1.1)]
                g = [pdb.Diffusivity(k, lam) for k, lam in gs]
            u, hist = pdb.explicit(f, bank, g, 0.02, 3, coupling=coupling, record_every=1)
            mats = dense(bank, h, w)
            for b in range(2):
                x = f[b].reshape(-1)
                for k in range(3):
                    x = step(x, x, mats, gs, coupling, 0.02)
                    np.testing.assert_allclose(hist[k + 1, b].reshape(-1), x, rtol=0, atol=1e-12)
                np.testing.assert_allclose(u[b].reshape(-1), x, rtol=0, atol=1e-12)


def test_single_image_shape_and_input_unchanged():
    f = np.random.default_rng(2).random((5, 8))
    keep = f.copy()
    u = pdb.explicit(f, gradient_2d(), "perona_malik", 0.1, 4)
    assert u.shape == (5, 8) and np.array_equal(f, keep)
    batched = pdb.explicit(f[None], gradient_2d(), "perona_malik", 0.1, 4)
    assert np.array_equal(batched[0], u)


def test_one_stencil_is_a_bank_of_one():
    f = np.random.default_rng(3).random((6, 5))
    k = Stencil2D([[1.0, -2.0, 1.0]], offset=(0, -1))
    assert np.array_equal(pdb.explicit(f, k, "charbonnier", 0.05, 3), pdb.explicit(f, [k], "charbonnier", 0.05, 3))


@pytest.mark.parametrize("option,kind,lam", [(1, "perona_malik", lambda k: k / np.sqrt(2)),
                                             (2, "perona_malik_rational", lambda k: k)])
def test_channelwise_gradient_equals_medpy_anisotropic_diffusion(option, kind, lam):
    smoothing = pytest.importorskip("medpy.filter.smoothing")
    rng = np.random.default_rng(4)
    img = (rng.random((23, 31)) * 0.3 + np.where(np.arange(31) > 15, 0.6, 0.0)).astype(np.float32)
    kappa, gamma, niter = 0.2, 0.15, 10
    ref = smoothing.anisotropic_diffusion(img, niter=niter, kappa=kappa, gamma=gamma, option=option)
    u = pdb.explicit(img.astype(np.float64), gradient_2d(), pdb.Diffusivity(kind, lam(kappa)), gamma, niter,
                     coupling="channelwise")
    np.testing.assert_allclose(u, ref, rtol=0, atol=2e-6)  # medpy computes in float32


def test_one_d_stencil_keeps_its_meaning():
    f = np.random.default_rng(5).random(40)
    K = pdb.Stencil([-1.0, 1.0], 0)
    u = pdb.explicit(f, K, "perona_malik", 0.1, 5)
    assert u.shape == (40,)

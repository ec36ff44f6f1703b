"""pdb.denoise.eed: uint8/uint16 scaled to [0, 1], float used as is, float64 returned."""
import numpy as np
import pytest

import pdeblocks as pdb


def test_uint8_is_scaled_by_1_over_255():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (20, 24), dtype=np.uint8)
    out = pdb.denoise.eed(img, 0.05, 1.0, 2.0)
    assert out.dtype == np.float64 and out.shape == img.shape
    np.testing.assert_array_equal(out, pdb.eed(img / 255.0, 0.05, 1.0, 2.0, scheme="fed"))
    np.testing.assert_array_equal(pdb.denoise.eed(img, 0.05, 1.0, 0.0), img / 255.0)
    assert 0.0 <= out.min() and out.max() <= 1.0


def test_uint16_is_scaled_by_1_over_65535():
    img = (np.arange(12 * 10, dtype=np.uint16) * 500).reshape(12, 10)
    np.testing.assert_array_equal(pdb.denoise.eed(img, 0.05, 1.0, 0.0), img / 65535.0)
    np.testing.assert_array_equal(pdb.denoise.eed(img, 0.05, 1.0, 1.5),
                                  pdb.eed(img / 65535.0, 0.05, 1.0, 1.5, scheme="fed"))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_is_used_as_is(dtype):
    img = np.random.default_rng(1).uniform(-3, 300, (3, 9, 8)).astype(dtype)
    out = pdb.denoise.eed(img, 10.0, 1.0, 3.0, scheme="explicit")
    assert out.dtype == np.float64 and out.shape == img.shape
    np.testing.assert_array_equal(out, pdb.eed(img.astype(np.float64), 10.0, 1.0, 3.0))


def test_other_dtypes_are_refused():
    with pytest.raises(pdb.PDEBlocksError, match="uint8, uint16 or floating"):
        pdb.denoise.eed(np.zeros((4, 4), dtype=np.int32), 0.1, 1.0, 1.0)
    with pytest.raises(pdb.PDEBlocksError, match="uint8, uint16 or floating"):
        pdb.denoise.eed(np.zeros((4, 4), dtype=bool), 0.1, 1.0, 1.0)

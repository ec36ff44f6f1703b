"""TwoLevelUNet on images (TwoLevelUNet2D, python/pdeblocks/unet.py): the transfers are the
tensor products of the 1D U-net's (checked through the 1D network itself on unit vectors), the
chains against dense numpy matrices and the image diffusion block, and bad input."""
import numpy as np
import pytest

import pdeblocks as pb
from pdeblocks import PDEBlocksError, Stencil2D, TwoLevelUNet, TwoLevelUNet2D
from image_reference import matrix


def two_grid_map(n, transfer):
    """The n x n matrix P R of the 1D U-net: U(e_j) - e_j with empty chains."""
    net = TwoLevelUNet(transfer=transfer)
    eye = np.eye(n)
    return np.stack([net.forward(eye[j]) - eye[j] for j in range(n)], axis=1)


@pytest.mark.parametrize("transfer", ["cell", "vertex"])
@pytest.mark.parametrize("shape", [(5, 6), (8, 8), (2, 7), (9, 4)])
def test_linear_chains_are_the_composition_with_kronecker_two_grid_correction(transfer, shape):
    H, W = shape
    rng = np.random.default_rng(1)
    f = rng.standard_normal((3, H, W))
    A = Stencil2D(rng.standard_normal((3, 3)) / 9, offset=(-1, -1))
    C = Stencil2D(rng.standard_normal((2, 3)) / 6, offset=(0, -1))
    net = TwoLevelUNet([A], [], [C], transfer=transfer)
    assert isinstance(net, TwoLevelUNet2D) and isinstance(net, TwoLevelUNet)
    M = np.kron(two_grid_map(H, transfer), two_grid_map(W, transfer))
    mA, mC = matrix(A.weights, A.offset, H, W), matrix(C.weights, C.offset, H, W)
    expected = np.stack([(mC @ ((np.eye(H * W) + M) @ (mA @ x.reshape(-1)))).reshape(H, W) for x in f])
    np.testing.assert_allclose(net.forward(f), expected, rtol=0, atol=1e-13 * np.abs(expected).max())
    np.testing.assert_allclose(net(f[0]), expected[0], rtol=0, atol=1e-13 * np.abs(expected).max())


def test_diffusion_blocks_are_the_isotropic_image_diffusion_block():
    H, W = 10, 7
    x = np.random.default_rng(2).standard_normal((H, W))
    bank = pb.gradient_2d()
    net = TwoLevelUNet([(list(bank), "perona_malik", 0.2)], [], [(bank[0], "charbonnier", 0.1)])
    M = np.kron(two_grid_map(H, "cell"), two_grid_map(W, "cell"))
    u = pb.DiffusionBlock2D(list(bank), pb.Diffusivity("perona_malik", 1.0), 0.2).forward(x)
    u = u + (M @ u.reshape(-1)).reshape(H, W)
    u = pb.DiffusionBlock2D([bank[0]], pb.Diffusivity("charbonnier", 1.0), 0.1).forward(u)
    np.testing.assert_allclose(net.forward(x), u, rtol=0, atol=1e-13)


def test_bad_input_raises():
    K = Stencil2D([[1.0, -1.0]])
    net = TwoLevelUNet([K])
    with pytest.raises(PDEBlocksError):
        net.forward(np.ones((1, 5)))                     # a side below 2
    with pytest.raises(PDEBlocksError):
        net.forward(np.full((3, 3), np.nan))
    with pytest.raises(PDEBlocksError):
        net.forward(np.ones(5))                          # 1-D
    with pytest.raises(PDEBlocksError):
        TwoLevelUNet([K], transfer="matrix")
    with pytest.raises(PDEBlocksError):
        TwoLevelUNet([(K, "perona_malik", -1.0)])        # negative tau
    with pytest.raises(PDEBlocksError):
        TwoLevelUNet([K, pb.Stencil([1.0, -1.0])])       # a 1D block among 2D ones

"""A small real image denoiser for the trainer and benchmark tests: two 2D diffusion-reaction
blocks (pdeblocks.image_blocks.DiffusionBlock2D) chained with f = the noisy input, exposing the
protocol of pdeblocks.train.fit: ``parameters``, ``set_parameters``, ``loss_and_gradient``
(loss ½·mean((out − clean)²), gradient by chaining the blocks' backward passes), ``predict``."""
import numpy as np

from pdeblocks import Stencil2D, gradient_2d
from pdeblocks.image_blocks import DiffusionBlock2D


class TinyDenoiser:
    def __init__(self, tau=0.1, lam=0.1, mu=0.05, blocks=2):
        kx, ky = gradient_2d(1.0)
        diag = Stencil2D([[-1.0, 0.0], [0.0, 1.0]])
        self.blocks = [DiffusionBlock2D([kx, ky, diag], "perona_malik_rational", tau, mu) for _ in range(blocks)]
        for b in self.blocks:
            b.parameters = b.parameters * 1.0   # identical blocks at start
        self.sizes = [b.parameters.size for b in self.blocks]

    @property
    def parameters(self):
        return np.concatenate([b.parameters for b in self.blocks])

    def set_parameters(self, p):
        p = np.asarray(p, dtype=np.float64)
        assert p.size == sum(self.sizes)
        for b, part in zip(self.blocks, np.split(p, np.cumsum(self.sizes)[:-1])):
            b.parameters = part

    def predict(self, x):
        u = np.asarray(x, dtype=np.float64)
        for b in self.blocks:
            u = b.forward(u, x)
        return u

    def loss_and_gradient(self, noisy, clean):
        out = self.predict(noisy)
        r = out - clean
        loss = 0.5 * np.mean(r * r)
        g = r / r.size
        grads = []
        for b in reversed(self.blocks):
            g, _, gp = b.backward(g)
            grads.append(gp)
        return loss, np.concatenate(grads[::-1])

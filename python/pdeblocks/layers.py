"""Trainable layers (paper Sec. 2): the blocks (:mod:`pdeblocks.blocks`) and networks (:mod:`pdeblocks.network`).

Blocks are light descriptions; a :class:`Network` turns a list of them into a library
handle that runs forward and backward passes (vector-Jacobian products for the input and
every parameter), exposes all parameters as one flat float64 vector for any optimiser,
certifies Euclidean stability (Theorem 2) and saves/loads networks.

Example
-------
>>> import numpy as np, pdeblocks as pb
>>> K = pb.Stencil([-1.0, 1.0])
>>> net = pb.Network([pb.DiffusionBlock([K], [pb.LearnableDiffusivity([0.5], [0.1])], 0.2)] * 3)
>>> x = np.random.default_rng(0).normal(size=(8, 64))
>>> y = net.forward(x)
>>> grad_in, grad_params = net.backward(y - x)      # gradient of 0.5*||y - x||^2
>>> net.set_parameters(net.parameters - 1e-3 * grad_params)
>>> net.certificate(64).certified
True
"""
from __future__ import annotations

from .blocks import (LearnableDiffusivity, FluxActivation, TransposedStencil, BoundedTau, ResidualBlock,
                     DiffusionBlock, FSIBlock, ImplicitBlock)
from .network import Network, Certificate, BlockCertificate
from .optim import Adam  # re-exported: the package imports its training helpers from here

__all__ = ["LearnableDiffusivity", "FluxActivation", "TransposedStencil", "BoundedTau",
           "ResidualBlock", "DiffusionBlock", "FSIBlock", "ImplicitBlock",
           "Network", "Certificate", "BlockCertificate", "Adam"]

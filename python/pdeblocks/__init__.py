"""PDEBlocks: numerical PDE schemes as neural-network building blocks.

After Alt, Peter, Weickert, Schrader, "Translating Numerical Concepts for PDEs into
Neural Architectures" (SSVM 2021): explicit diffusion schemes as ResNet blocks with
a Euclidean stability bound, nonmonotone activations from diffusivities, FSI and
implicit schemes, and multigrid cycles as U-nets. A ctypes wrapper of libpdeblocks.
"""
from ._lib import PDEBlocksError, UnstableError, NotConvergedError, CancelledError, BusyError, OutOfMemoryError, lib as _lib
from ._lib import get_include
from .operators import Stencil, DifferenceOperator
from .stencil2d import Stencil2D, gradient_2d, filter_bank_norm_squared
from .diffusivities import Diffusivity, DIFFUSIVITIES
from .schemes import stable_tau, explicit
from .accelerated import fsi, fed_step_sizes, fed, implicit, contraction_tau, semi_implicit, evolve
from .threads import set_num_threads, get_num_threads
from .banded import BandedMatrix
from .gallery import poisson_1d, diffusion_system
from .multigrid import Multigrid
from .multigrid_2d import StencilField2D, poisson_2d, Multigrid2D
from .krylov import cg
from .unet import TwoLevelUNet, TwoLevelUNet2D
from .blocks import LearnableDiffusivity, FluxActivation, TransposedStencil, BoundedTau, ResidualBlock, DiffusionBlock, FSIBlock, ImplicitBlock
from .network import Network, Certificate, BlockCertificate
from .rbf_diffusivity import RBFDiffusivity
from .image_blocks import DiffusionBlock2D
from .image_network import FSIBlock2D, ImageNetwork, ResidualBlock2D
from .optim import Adam
from .progress import Progress
from .eed import eed
from . import denoise, models
from .any_size_bound import lambda_max_any_size, stable_tau_any_size
from ._build_info import build_info


def _version() -> str:
    return _lib.pdb_version_string().decode()


__version__ = _version()

__all__ = [
    "__version__", "build_info", "PDEBlocksError", "UnstableError", "NotConvergedError", "CancelledError", "BusyError", "OutOfMemoryError", "Progress",
    "Stencil", "DifferenceOperator", "Stencil2D", "gradient_2d", "filter_bank_norm_squared", "Diffusivity", "DIFFUSIVITIES",
    "stable_tau", "explicit",
    "fsi", "fed_step_sizes", "fed", "implicit", "contraction_tau", "evolve",
    "get_include", "set_num_threads", "get_num_threads",
    "BandedMatrix", "poisson_1d", "diffusion_system", "Multigrid", "StencilField2D", "poisson_2d", "Multigrid2D", "cg", "semi_implicit", "TwoLevelUNet", "TwoLevelUNet2D",
    "LearnableDiffusivity", "FluxActivation", "TransposedStencil", "BoundedTau", "ResidualBlock",
    "DiffusionBlock", "FSIBlock", "ImplicitBlock", "Network", "Certificate", "BlockCertificate", "Adam",
    "DiffusionBlock2D", "RBFDiffusivity", "ImageNetwork", "ResidualBlock2D", "FSIBlock2D",
    "eed", "denoise", "models", "lambda_max_any_size", "stable_tau_any_size",
]

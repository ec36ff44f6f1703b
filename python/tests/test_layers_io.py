"""Saving/loading networks, and bad input: clear errors, nothing modified, no leaks."""
import ctypes
import os

import numpy as np
import pytest

import pdeblocks as pb
from pdeblocks import (BoundedTau, DiffusionBlock, Diffusivity, FSIBlock, ImplicitBlock, LearnableDiffusivity,
                       Network, PDEBlocksError, ResidualBlock, Stencil)

from test_layers import CONFIGS

PDB_ERR_IO = -7


def live_handles():
    c = ctypes.c_int64()
    pb._lib.pdb_live_handles(ctypes.byref(c))
    return c.value


@pytest.mark.parametrize("name", ["chain", "diffusion-bounded-tau", "fsi-bounded", "implicit-bounded",
                                  "residual-flux-weickert", "residual-relu"])
def test_save_load_gives_bit_identical_parameters_and_outputs(tmp_path, name):
    net = Network(CONFIGS[name])
    rng = np.random.default_rng(1)
    net.set_parameters(net.parameters + 1e-3 * rng.normal(size=net.parameter_count))
    path = tmp_path / "net.pdbnet"
    net.save(path)
    loaded = Network.load(path)
    x = rng.normal(size=(4, 33))
    assert np.array_equal(loaded.parameters, net.parameters)
    assert np.array_equal(loaded.forward(x), net.forward(x))
    assert loaded.describe() == net.describe()
    assert [k for k, _ in loaded.block_slices()] == [k for k, _ in net.block_slices()]


def saved_bytes(tmp_path):
    path = tmp_path / "net.pdbnet"
    Network(CONFIGS["chain"]).save(path)
    return path, path.read_bytes()


def test_loading_a_corrupted_file_is_a_clear_error(tmp_path):
    path, data = saved_bytes(tmp_path)
    for position in (30, len(data) // 2, len(data) - 12):
        bad = bytearray(data)
        bad[position] ^= 0x10
        path.write_bytes(bytes(bad))
        with pytest.raises(PDEBlocksError, match="corrupted") as e:
            Network.load(path)
        assert e.value.status == PDB_ERR_IO


@pytest.mark.parametrize("keep", [0, 5, 24, 100, -1])
def test_loading_a_truncated_file_is_a_clear_error(tmp_path, keep):
    path, data = saved_bytes(tmp_path)
    path.write_bytes(data[:keep] if keep >= 0 else data[:-1])
    with pytest.raises(PDEBlocksError, match="truncated") as e:
        Network.load(path)
    assert e.value.status == PDB_ERR_IO


def test_loading_a_foreign_or_missing_file_is_a_clear_error(tmp_path):
    path = tmp_path / "foreign.bin"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(PDEBlocksError, match="bad magic"):
        Network.load(path)
    with pytest.raises(PDEBlocksError, match="cannot open"):
        Network.load(tmp_path / "missing.pdbnet")
    _, data = saved_bytes(tmp_path)
    bad = bytearray(data)
    bad[8] = 7                                           # version 7
    path.write_bytes(bytes(bad))
    with pytest.raises(PDEBlocksError, match="version"):
        Network.load(path)


def test_file_with_valid_checksum_but_invalid_content_is_refused(tmp_path):
    """Recompute the checksum after planting a NaN step size: the content check still holds."""
    import struct
    path, data = saved_bytes(tmp_path)
    payload = bytearray(data[24:-8])
    # version 2: u32 network type (0), then the first block (diffusion): u32 count, u32 kind,
    # u32 L, u32 mode, f64 tau
    assert data[8:12] == struct.pack("<I", 2) and payload[0:4] == struct.pack("<I", 0)
    payload[20:28] = struct.pack("<d", float("nan"))
    body = data[:24] + bytes(payload)
    h = 0xCBF29CE484222325
    for b in body:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    path.write_bytes(body + struct.pack("<Q", h))
    with pytest.raises(PDEBlocksError, match="invalid content"):
        Network.load(path)


def test_saving_to_an_unwritable_place_is_a_clear_error(tmp_path):
    with pytest.raises(PDEBlocksError, match="cannot open"):
        Network(CONFIGS["fsi"]).save(tmp_path / "missing-dir" / "net.pdbnet")


def test_bad_inputs_raise_clear_errors_and_modify_nothing():
    net = Network(CONFIGS["chain"])
    p0 = net.parameters
    x = np.random.default_rng(2).normal(size=(2, 20))
    x0 = x.copy()
    cases = [
        (lambda: net.set_parameters(p0[:-1]), "parameters, got"),
        (lambda: net.set_parameters(np.where(np.arange(p0.size) == 3, np.nan, p0)), "non-finite"),
        (lambda: net.forward(np.where(np.arange(20) == 4, np.inf, x)), "non-finite"),
        (lambda: net.forward(x[:, :1]), "signal length n must be at least 2"),
        (lambda: net.forward(np.zeros((2, 3, 4))), "dimensions"),
        (lambda: net.forward(x.astype(complex)), "real numeric"),
        (lambda: net.certificate(1), "at least 2"),
        (lambda: net.project_stable(20, margin=1.5), "margin"),
    ]
    for fn, message in cases:
        with pytest.raises(PDEBlocksError, match=message):
            fn()
    assert np.array_equal(net.parameters, p0) and np.array_equal(x, x0)
    # log-contrast out of range: refused, parameters unchanged
    huge = p0.copy()
    huge[6] = 1e4                                        # log(lambda) of block 0, filter 0
    with pytest.raises(PDEBlocksError, match="block 0"):
        net.set_parameters(huge)
    assert np.array_equal(net.parameters, p0)


def test_backward_needs_a_matching_recorded_forward_pass():
    net = Network(CONFIGS["diffusion-learnable"])
    x = np.zeros((2, 16))
    with pytest.raises(PDEBlocksError, match="no recorded forward"):
        net.backward(x)
    net.forward(x)
    with pytest.raises(PDEBlocksError, match="differs"):
        net.backward(np.zeros((3, 16)))
    net.set_parameters(net.parameters)                   # parameters changed: record dropped
    net._last = (2, 16, False)                           # even bypassing the Python check
    with pytest.raises(PDEBlocksError, match="no recorded forward pass"):
        net.backward(x)
    net.predict(x)                                       # inference records nothing
    with pytest.raises(PDEBlocksError, match="no recorded forward pass"):
        net.backward(x)


@pytest.mark.parametrize("make, message", [
    (lambda: Network([]), "at least one block"),
    (lambda: Network([DiffusionBlock([], "linear", 0.1)]), "at least one filter"),
    (lambda: Network([DiffusionBlock(Stencil([1.0]), LearnableDiffusivity([0.6, 0.5], [1, 1]), 0.1)]), "sum to less than 1"),
    (lambda: Network([DiffusionBlock(Stencil([1.0]), LearnableDiffusivity([0.5], [-1.0]), 0.1)]), "contrast 0"),
    (lambda: Network([DiffusionBlock(Stencil([1.0]), LearnableDiffusivity([0.0], [1.0]), 0.1)]), "positive"),
    (lambda: Network([DiffusionBlock(Stencil([1.0]), "linear", BoundedTau(1.0))]), "fraction"),
    (lambda: Network([DiffusionBlock(Stencil([1.0]), "linear", float("nan"))]), "tau"),
    (lambda: Network([FSIBlock(DiffusionBlock(Stencil([1.0]), "linear", 0.1), 0)]), "cycle length"),
    (lambda: Network([ImplicitBlock(DiffusionBlock(Stencil([1.0]), "linear", 0.1), 10**9)]), "iterations"),
    (lambda: Network([ResidualBlock([Stencil([1.0])], [Stencil([1.0])], sigma1="softplus")]), "unknown sigma1"),
    (lambda: Network([ResidualBlock([Stencil([1.0])], [], )]), "W1 has 1"),
    (lambda: Network([DiffusionBlock(Stencil([1.0]), Diffusivity("perona_malik", 0.5), 0.1)] * 2, threads=-1), "threads"),
])
def test_invalid_networks_are_refused_without_leaking_handles(make, message):
    before = live_handles()
    with pytest.raises(PDEBlocksError, match=message):
        make()
    import gc
    gc.collect()
    assert live_handles() == before


def test_networks_release_their_handles():
    before = live_handles()
    nets = [Network(CONFIGS["chain"]) for _ in range(5)]
    assert live_handles() == before + 5
    del nets
    import gc
    gc.collect()
    assert live_handles() == before

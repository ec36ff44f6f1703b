"""pdeblocks.dask on images: explicit / FSI / FED on an image chunked 4x4 (halo exchange by
map_overlap, rounds of steps or cycles) equal the local call bit for bit, also on a 2-process
cluster; step_reach is the width the chunk-edge mirror spoils; bad input is refused at once."""
from __future__ import annotations

import numpy as np
import pytest

import pdeblocks as pdb
from pdeblocks.stencil2d import Stencil2D

da = pytest.importorskip("dask.array", reason="dask is not installed (pip install 'dask[array,distributed]')")
from pdeblocks.dask import explicit_image, fed_image, fsi_image, map_image, step_reach  # noqa: E402

COUPLINGS = ["isotropic", "channelwise"]
BANKS = {
    "gradient": pdb.gradient_2d(),
    "centred": [Stencil2D(np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]]) / 8, offset=(-1, -1)),
                Stencil2D(np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]]) / 8, offset=(-1, -1))],
    "offset": [Stencil2D([[0, 1, 0], [1, -4, 1], [0, 1, 0]], offset=(-1, -1)),
               Stencil2D([[1, -2, 1]], offset=(0, -3)), Stencil2D([[1], [0], [-1]], offset=(2, 0))],
    "shifted": [Stencil2D([[1, -1]], offset=(-4, 5)), Stencil2D([[2], [1]], offset=(1, 1))],
}
G = pdb.Diffusivity("perona_malik", 0.3)


@pytest.fixture(scope="module")
def image():
    """96 x 80, chunked 4 x 4 (24 x 20)."""
    y, x = np.mgrid[0:96, 0:80]
    f = np.sin(0.2 * y) * np.cos(0.15 * x) + 0.2 * np.random.default_rng(7).standard_normal((96, 80))
    return f, da.from_array(f, chunks=(24, 20))


def rounds(u, name):
    return sum(layer.startswith(f"pdeblocks-{name}-round") for layer in u.dask.layers)


def spoiled_width(f, run, axis):
    """Rows (axis 0) or columns (axis 1) next to the edge of a 20-wide window where one local run
    on the window differs from the run on the whole image: what the window's mirror spoils."""
    full = run(f)
    window = run(f[20:40] if axis == 0 else f[:, 20:40])
    ref = full[20:40] if axis == 0 else full[:, 20:40]
    bad = np.nonzero(np.any(window != ref, axis=1 - axis))[0]
    return max((min(i, 19 - i) + 1 for i in bad), default=0)


@pytest.mark.parametrize("bank", BANKS)
@pytest.mark.parametrize("coupling", COUPLINGS)
def test_step_reach_is_the_width_the_chunk_edge_mirror_spoils_in_one_step(bank, coupling):
    K = BANKS[bank]
    f = np.random.default_rng(8).random((60, 60))
    run = lambda a: pdb.explicit(a, K, G, 1e-2, 1, coupling=coupling, check_stability=False)  # noqa: E731
    assert step_reach(K, coupling) == (spoiled_width(f, run, 0), spoiled_width(f, run, 1))


@pytest.mark.parametrize("coupling", COUPLINGS)
def test_schemes_on_a_4x4_chunked_image_equal_the_local_call_bitwise(image, coupling):
    f, x = image
    K = pdb.gradient_2d()
    tau = pdb.stable_tau(K, G, f.shape)
    cases = [
        ("explicit", explicit_image(x, K, G, tau, 13, coupling=coupling), pdb.explicit(f, K, G, tau, 13, coupling=coupling), 13),
        ("explicit", explicit_image(x, K, G, tau, 13, coupling=coupling, steps_per_round=5),
         pdb.explicit(f, K, G, tau, 13, coupling=coupling), 3),
        ("fsi", fsi_image(x, K, G, tau, 3, 4, coupling=coupling), pdb.fsi(f, K, G, tau, 3, 4, coupling=coupling), 4),
        ("fsi", fsi_image(x, K, G, tau, 3, 4, coupling=coupling, update="cycle", cycles_per_round=3),
         pdb.fsi(f, K, G, tau, 3, 4, coupling=coupling, update="cycle"), 2),
        ("fed", fed_image(x, K, G, tau, 4, 5, coupling=coupling, cycles_per_round=2),
         pdb.fed(f, K, G, tau, 4, 5, coupling=coupling), 3),
        ("fed", fed_image(x, K, G, tau, 4, 3, coupling=coupling, reorder="kappa", update="step"),
         pdb.fed(f, K, G, tau, 4, 3, coupling=coupling, reorder="kappa", update="step"), 3),
    ]
    for name, u, local, n_rounds in cases:
        assert rounds(u, name) == n_rounds
        assert u.chunks == x.chunks
        assert np.array_equal(u.compute(scheduler="sync"), local), name
    assert not np.array_equal(cases[0][2], f)  # the run did change the image


@pytest.mark.parametrize("bank", ["centred", "offset", "shifted"])
@pytest.mark.parametrize("coupling", COUPLINGS)
def test_filter_banks_with_offsets_equal_the_local_call_bitwise(image, bank, coupling):
    f, x = image
    K = BANKS[bank]
    tau = 0.9 * pdb.stable_tau(K, G, f.shape)
    u = explicit_image(x, K, G, tau, 6, coupling=coupling, steps_per_round=2)
    assert np.array_equal(u.compute(scheduler="sync"), pdb.explicit(f, K, G, tau, 6, coupling=coupling))
    u = fed_image(x, K, G, tau, 2, 2, coupling=coupling)
    assert np.array_equal(u.compute(scheduler="sync"), pdb.fed(f, K, G, tau, 2, 2, coupling=coupling))


def test_batches_chunked_over_images_rows_and_columns_equal_the_local_call(image):
    f, _ = image
    batch = np.stack([f[:48, :40], f[48:, 40:], f[:48, 40:]])
    K, gs = pdb.gradient_2d(), [G, pdb.Diffusivity("charbonnier", 0.5)]
    local = pdb.explicit(batch, K, gs, 0.2, 7, coupling="channelwise")
    for chunks in [(2, 24, 20), (1, -1, -1), (3, 12, 40)]:
        u = explicit_image(batch, K, gs, 0.2, 7, coupling="channelwise", chunks=chunks)
        assert np.array_equal(u.compute(scheduler="sync"), local), chunks
    # integer images are converted to float64, as the local call does
    pixels = (np.clip(f, -1, 1) * 100 + 120).astype(np.uint8)
    u = fsi_image(da.from_array(pixels, chunks=(24, 20)), K, G, 0.2, 2, 3)
    assert np.array_equal(u.compute(scheduler="sync"), pdb.fsi(pixels, K, G, 0.2, 2, 3))


def test_map_image_uses_the_halo_it_is_given(image):
    f, x = image
    K = Stencil2D([[1, 2, 1], [2, -12, 2], [1, 2, 1]], offset=(-1, -1))
    assert np.array_equal(map_image(K.apply, x, halo=1).compute(scheduler="sync"), K.apply(f))
    no_halo = map_image(K.apply, x, halo=(0, 0)).compute(scheduler="sync")
    near_edge = np.zeros(f.shape, dtype=bool)  # the pixels next to an inner chunk edge
    near_edge[[23, 24, 47, 48, 71, 72], :] = near_edge[:, [19, 20, 39, 40, 59, 60]] = True
    np.testing.assert_array_equal(no_halo != K.apply(f), near_edge)


def test_step_size_is_checked_for_the_whole_image_at_once(image):
    f, x = image
    K = pdb.gradient_2d()
    whole, chunk = pdb.stable_tau(K, G, f.shape), pdb.stable_tau(K, G, (26, 22))
    tau = (whole + chunk) / 2  # stable for a chunk with its halo, not for the image
    assert whole < tau < chunk
    with pytest.raises(pdb.UnstableError, match="96×80"):
        explicit_image(x, K, G, tau, 3)
    with pytest.raises(pdb.UnstableError):
        pdb.explicit(f, K, G, tau, 3)
    u = fed_image(x, K, G, tau, 2, 2, check_stability=False)
    assert np.array_equal(u.compute(scheduler="sync"), pdb.fed(f, K, G, tau, 2, 2, check_stability=False))


def test_a_non_finite_pixel_is_named_in_the_whole_batch(image):
    f, _ = image
    batch = np.stack([f, f])
    batch[1, 50, 47] = np.nan
    u = explicit_image(da.from_array(batch, chunks=(1, 24, 20)), pdb.gradient_2d(), G, 0.2, 3)
    with pytest.raises(pdb.PDEBlocksError, match=r"at image 1, row 50, column 47$"):
        u.compute(scheduler="sync")


@pytest.mark.parametrize("bad, match", [
    (dict(halo=-1), "non-negative"), (dict(halo=1.5), "integer"), (dict(halo="2"), "integer"),
    (dict(halo=True), "integer"), (dict(halo=(1, 2, 3)), "pair"), (dict(halo=21), "smallest chunk"),
    (dict(x=np.zeros(5)), "shape"), (dict(x=np.zeros((2, 2, 2, 2))), "shape"),
    (dict(x=np.zeros((4, 4), dtype=complex)), "real numeric"), (dict(x=np.array([["a"]])), "real numeric"),
    (dict(fn="apply"), "callable"),
])
def test_map_image_refuses_bad_input_at_once(image, bad, match):
    args = dict(fn=pdb.gradient_2d()[0].apply, x=image[1], halo=1)
    args.update(bad)
    with pytest.raises(pdb.PDEBlocksError, match=match):
        map_image(args.pop("fn"), args.pop("x"), **args)


@pytest.mark.parametrize("call, match", [
    (lambda x, K: explicit_image(x, K, G, 0.1, -1), "steps"),
    (lambda x, K: explicit_image(x, K, G, 0.1, 3, coupling="diagonal"), "coupling"),
    (lambda x, K: explicit_image(x, K, [G, G], 0.1, 3), "diffusivit"),
    (lambda x, K: explicit_image(x, [], G, 0.1, 3), "Stencil2D"),
    (lambda x, K: explicit_image(x, K, G, 0.1, 30, steps_per_round=21), "smallest chunk"),
    (lambda x, K: explicit_image(x, K, G, 0.1, 3, steps_per_round=0), "positive"),
    (lambda x, K: fsi_image(x, K, G, 0.1, 0, 3), "cycle"),
    (lambda x, K: fsi_image(x, K, G, 0.1, 7, 3, cycles_per_round=3), "smallest chunk"),
    (lambda x, K: fed_image(x, K, G, 0.1, 3, 3, update="sometimes"), "update"),
    (lambda x, K: fed_image(x, K, G, float("nan"), 3, 3), "tau"),
])
def test_scheme_wrappers_refuse_bad_input_at_once(image, call, match):
    with pytest.raises(pdb.PDEBlocksError, match=match):
        call(image[1], pdb.gradient_2d())


def test_a_wrong_result_of_fn_is_reported_when_computing(image):
    _, x = image
    with pytest.raises(pdb.PDEBlocksError, match="keeps the shape"):
        map_image(lambda b: b[1:], x, halo=0).compute(scheduler="sync")
    with pytest.raises(pdb.PDEBlocksError, match="tuple"):
        map_image(pdb.explicit, x, pdb.gradient_2d(), G, 0.1, 2, halo=2, record_every=1).compute(scheduler="sync")


@pytest.mark.slow
def test_schemes_on_a_two_process_cluster_equal_the_local_call_bitwise(image):
    distributed = pytest.importorskip("dask.distributed", reason="dask.distributed is not installed")
    f, x = image
    K = pdb.gradient_2d()
    tau = pdb.stable_tau(K, G, f.shape)
    # Loopback only, random ports, no dashboard; the workers inherit PDEBLOCKS_LIBRARY.
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                                  scheduler_port=0, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client, distributed.get_task_stream(client) as stream:
        fed_u = fed_image(x, K, G, tau, 3, 3).compute()
        explicit_u = explicit_image(x, K, G, tau, 4, coupling="channelwise", steps_per_round=2).compute()
        workers = set(client.scheduler_info()["workers"])
    assert np.array_equal(fed_u, pdb.fed(f, K, G, tau, 3, 3))
    assert np.array_equal(explicit_u, pdb.explicit(f, K, G, tau, 4, coupling="channelwise"))
    # one task per chunk and round ran on the worker processes (dask fuses each call into its trim)
    names = [(str(t["key"][0]), t["worker"]) for t in stream.data if isinstance(t["key"], tuple)]
    ran = [w for k, w in names if k.startswith("pdeblocks-")] or [w for k, w in names if k.startswith("_trim-")]
    assert len(ran) == 16 * (3 + 2) and set(ran) <= workers

"""pdeblocks.dask: batches chunked along the batch axis, on a local 2-process Dask cluster,
give results bitwise equal to one local call."""
from __future__ import annotations

import numpy as np
import pytest

import pdeblocks as pdb

da = pytest.importorskip("dask.array", reason="dask is not installed (pip install 'dask[array,distributed]')")
from pdeblocks.dask import map_signals  # noqa: E402


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("dask.distributed", reason="dask.distributed is not installed")
    # Loopback only, random ports, no dashboard: safe next to other clusters on the machine.
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                                  scheduler_port=0, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(2021)
    n = 300
    f = np.cumsum(rng.standard_normal((45, n)), axis=1) / np.sqrt(n)
    K = pdb.DifferenceOperator([0, 1], h=1 / n)
    g = pdb.Diffusivity("perona_malik", lam=20.0)
    return f, K, g, pdb.stable_tau(K, g, n)


@pytest.mark.slow
def test_explicit_on_a_two_process_cluster_equals_the_local_computation_bitwise(client, problem):
    from dask.distributed import get_task_stream

    f, K, g, tau = problem
    before = f.copy()
    x = da.from_array(f, chunks=(8, 75))  # the signal axis is chunked too: map_signals joins it
    u = map_signals(pdb.explicit, x, K, g, 0.9 * tau, 40)
    assert u.chunks == (x.chunks[0], (f.shape[1],))
    with get_task_stream(client) as stream:
        remote = u.compute()
    local = pdb.explicit(f, K, g, 0.9 * tau, 40)
    assert remote.dtype == np.float64 and remote.shape == f.shape
    assert remote.tobytes() == local.tobytes()
    np.testing.assert_array_equal(f, before)
    # The chunks really ran on the worker processes, one task per batch chunk.
    workers = set(client.scheduler_info()["workers"])
    ran = [t for t in stream.data if t["key"][0].startswith("pdeblocks-explicit")]
    assert len(ran) == len(x.chunks[0]) and {t["worker"] for t in ran} <= workers


@pytest.mark.slow
def test_any_function_of_signals_runs_on_the_cluster(client, problem):
    f, K, _, _ = problem
    g = pdb.Diffusivity("weickert", lam=5.0)
    x = da.from_array(f, chunks=(10, -1))
    adjoint = map_signals(K.adjoint, x).compute()                  # a bound method (Stencil by value)
    assert adjoint.tobytes() == K.adjoint(f).tobytes()
    lipschitz_tau = pdb.stable_tau(K, g, f.shape[1], bound="lipschitz")
    u = map_signals(pdb.explicit, f, K=K, g=g, tau=lipschitz_tau, steps=5, batch_chunk=7).compute()
    assert u.tobytes() == pdb.explicit(f, K, g, lipschitz_tau, 5).tobytes()


def test_one_signal_and_numpy_input_are_accepted(problem):
    f, K, g, tau = problem
    u = map_signals(pdb.explicit, f[3], K, g, tau, 3)
    assert u.shape == (f.shape[1],)
    assert u.compute(scheduler="synchronous").tobytes() == pdb.explicit(f[3], K, g, tau, 3).tobytes()


def test_bad_inputs_raise_pdeblocks_errors(problem):
    f, K, g, tau = problem
    with pytest.raises(pdb.PDEBlocksError, match="shape"):
        map_signals(pdb.explicit, da.zeros((2, 3, 4)), K, g, tau, 1)
    with pytest.raises(pdb.PDEBlocksError, match="real numeric"):
        map_signals(pdb.explicit, da.zeros((2, 4), dtype=complex), K, g, tau, 1)
    with pytest.raises(pdb.PDEBlocksError, match="batch_chunk"):
        map_signals(pdb.explicit, f, K, g, tau, 1, batch_chunk=0)
    with pytest.raises(pdb.PDEBlocksError, match="callable"):
        map_signals("explicit", f)
    # A function returning a tuple (history) or the wrong shape is reported when computing.
    with pytest.raises(pdb.PDEBlocksError, match="tuple"):
        map_signals(pdb.explicit, f, K, g, tau, 4, record_every=2).compute(scheduler="synchronous")
    with pytest.raises(pdb.PDEBlocksError, match="n_out"):
        map_signals(lambda b: b[:, :-1], f).compute(scheduler="synchronous")
    # Library errors surface unchanged (an unstable step size).
    with pytest.raises(pdb.UnstableError):
        map_signals(pdb.explicit, f, K, g, 3 * tau, 1).compute(scheduler="synchronous")


def test_n_out_declares_a_changed_signal_length(problem):
    f, *_ = problem
    u = map_signals(lambda b: b[:, ::2], da.from_array(f, chunks=(9, -1)), n_out=f.shape[1] // 2)
    assert u.shape == (f.shape[0], f.shape[1] // 2)
    np.testing.assert_array_equal(u.compute(scheduler="synchronous"), f[:, ::2])

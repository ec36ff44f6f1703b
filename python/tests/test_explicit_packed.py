"""pdeblocks.explicit through pdb_explicit_packed (include/pdeblocks_packed.h): the packed
struct has the C layout, and the packed path gives what the 15-argument entry gives, bit for
bit, for every input form, from many threads at once."""
import ctypes
import shutil
import struct
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

import pdeblocks as pdb
from pdeblocks._lib import lib
from pdeblocks.schemes import _EVOLVE_A_COPY, _pack_explicit_args

ROOT = Path(__file__).resolve().parents[2]
FIELDS = ["f", "batch", "n", "weights", "length", "offset", "kind", "lambda", "tau", "steps", "flags",
          "record_every", "history", "history_length", "out"]
FORMAT = "@PqqPqqiddqiqPqP"  # as in pdeblocks.schemes; checked against the struct here

# the unpacked entry point, on a ctypes function object of its own
_unpacked = ctypes.CDLL(lib._name).pdb_explicit
_unpacked.restype = ctypes.c_int32
P, I64, I32, F64 = ctypes.c_void_p, ctypes.c_int64, ctypes.c_int32, ctypes.c_double
_unpacked.argtypes = [P, I64, I64, P, I64, I64, I32, F64, F64, I64, I32, I64, P, I64, P]


def unpacked(f, K, g, tau, steps, check_stability=True, record_every=0):
    """pdb_explicit with its 15 arguments (a reference written without the wrapper's helpers)."""
    f2 = np.ascontiguousarray(f, dtype=np.float64).reshape(-1, np.shape(f)[-1])
    out = np.empty_like(f2)
    hist = np.empty((steps // record_every + 1,) + f2.shape) if record_every else None
    status = _unpacked(f2.ctypes.data, f2.shape[0], f2.shape[1], K.weights.ctypes.data, K.weights.size, K.offset,
                       g.kind, g.lam, tau, steps, 0 if check_stability else 1, record_every,
                       None if hist is None else hist.ctypes.data, 0 if hist is None else hist.size, out.ctypes.data)
    assert status == 0, lib.pdb_last_error()
    shape = np.shape(f)
    return out.reshape(shape) if hist is None else (out.reshape(shape), hist.reshape((-1,) + shape))


def test_the_python_struct_format_is_the_c_layout_of_pdb_explicit_args(tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    src = tmp_path / "layout.c"
    src.write_text('#include <stddef.h>\n#include <stdio.h>\n#include "pdeblocks.h"\nint main(void) {\n'
                   + "".join(f'    printf("%zu\\n", offsetof(pdb_explicit_args, {name}));\n' for name in FIELDS)
                   + '    printf("%zu\\n", sizeof(pdb_explicit_args));\n    return 0;\n}\n')
    exe = tmp_path / "layout"
    subprocess.run([cc, "-std=c11", f"-I{ROOT / 'include'}", str(src), "-o", str(exe)], check=True)
    c = [int(x) for x in subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.split()]
    codes = FORMAT[1:]
    assert len(codes) == len(FIELDS)
    # offset of field i under native alignment: size of the prefix through it, minus its own size
    py = [struct.calcsize("@" + codes[:i + 1]) - struct.calcsize("@" + codes[i]) for i in range(len(codes))]
    assert c[:-1] == py
    assert c[-1] == struct.calcsize(FORMAT)
    assert len(_pack_explicit_args(*range(len(FIELDS)))) == struct.calcsize(FORMAT)


def _problem(name="perona_malik"):
    K = pdb.DifferenceOperator([0.2, 1.0, 0.4])
    g = pdb.Diffusivity(name, 0.3)
    return K, g


@pytest.mark.parametrize("shape", [(2,), (64,), (_EVOLVE_A_COPY,), (_EVOLVE_A_COPY + 1,), (3, 50), (2, _EVOLVE_A_COPY),
                                   (1, 4000)])
def test_explicit_equals_the_unpacked_entry_bit_for_bit(shape, rng):
    K, g = _problem()
    f = rng.standard_normal(shape)
    tau = 0.9 * pdb.stable_tau(K, g, shape[-1])
    keep = f.copy()
    got = pdb.explicit(f, K, g, tau, 5)
    np.testing.assert_array_equal(f, keep)
    assert got.shape == f.shape and not np.shares_memory(got, f)
    assert np.array_equal(got.view(np.int64), unpacked(f, K, g, tau, 5).view(np.int64))
    assert not np.array_equal(got, f)
    u, h = pdb.explicit(f, K, g, tau, 5, record_every=2)
    ru, rh = unpacked(f, K, g, tau, 5, record_every=2)
    assert h.shape == rh.shape == (3,) + f.shape
    assert np.array_equal(u, ru) and np.array_equal(h, rh)
    np.testing.assert_array_equal(f, keep)


def test_every_input_form_gives_the_result_of_its_float64_copy(rng):
    K, g = _problem("charbonnier")
    base = rng.standard_normal((4, 40))
    tau = 3.0 * pdb.stable_tau(K, g, 40)  # above the bound: only with the opt-out
    want = unpacked(base, K, g, tau, 3, check_stability=False)
    readonly = base.copy()
    readonly.flags.writeable = False
    fortran = np.asfortranarray(base)
    strided = np.repeat(base, 2, axis=1)[:, ::2]
    for f in (readonly, fortran, strided, base.tolist()):
        got = pdb.explicit(f, K, g, tau, 3, check_stability=False)
        assert np.array_equal(got, want)
    ints = np.arange(30).reshape(3, 10) % 4
    assert np.array_equal(pdb.explicit(ints, K, g, 0.01, 2), unpacked(ints.astype(float), K, g, 0.01, 2))
    assert np.array_equal(pdb.explicit(base[1].astype(np.float32), K, g, 0.01, 2),
                          unpacked(base[1].astype(np.float32).astype(float), K, g, 0.01, 2))
    with pytest.raises(pdb.UnstableError, match="stability bound"):
        pdb.explicit(base, K, g, tau, 3)
    # numpy scalars and Python ints for the counts and tau, bool refused as before
    assert np.array_equal(pdb.explicit(base, K, g, np.float64(0.01), np.int32(3)), unpacked(base, K, g, 0.01, 3))
    assert np.array_equal(pdb.explicit(base, K, g, 1, 0, check_stability=False), base)  # int tau
    with pytest.raises(pdb.PDEBlocksError, match="steps must be an integer"):
        pdb.explicit(base, K, g, 0.01, True)
    with pytest.raises(pdb.PDEBlocksError, match="record_every = .* out of range"):
        pdb.explicit(base, K, g, 0.01, 3, record_every=-2**64)


@pytest.mark.parametrize("n", [16, _EVOLVE_A_COPY + 7])
def test_refused_calls_leave_the_input_alone_on_both_sides_of_the_copy_threshold(n):
    K, g = _problem()
    f = np.linspace(-1, 1, n)
    f[n // 2] = np.nan
    keep = f.copy()
    with pytest.raises(pdb.PDEBlocksError, match="non-finite") as e:
        pdb.explicit(f, K, g, 0.01, 3)
    assert e.value.status == -3
    np.testing.assert_array_equal(f, keep)
    f[n // 2] = 0.0
    with pytest.raises(pdb.UnstableError):
        pdb.explicit(f, K, g, 10.0, 3)
    with pytest.raises(pdb.PDEBlocksError, match="history_length|history"):
        pdb.explicit(f, K, g, 0.01, 10**15, record_every=1)
    np.testing.assert_array_equal(f[:3], keep[:3])


def test_concurrent_calls_from_many_threads_equal_the_serial_results(rng):
    K, g = _problem("perona_malik_rational")
    inputs = [rng.standard_normal(int(n)) for n in rng.integers(2, 300, size=16)]
    taus = [0.5 * pdb.stable_tau(K, g, f.size) for f in inputs]
    want = [unpacked(f, K, g, t, 4) for f, t in zip(inputs, taus)]
    bad = []
    start = threading.Barrier(8)

    def worker(k):
        start.wait()
        for rep in range(200):
            i = (k * 7 + rep) % len(inputs)
            got = pdb.explicit(inputs[i], K, g, taus[i], 4)
            if not np.array_equal(got, want[i]):
                bad.append((k, rep, i))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not bad

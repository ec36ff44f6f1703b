"""The aliasing contract of the C ABI ("Aliasing" in include/pdeblocks.h), called through ctypes.

For every entry point with an output array: an output overlapping an input or another output
(exactly, or partially by an offset) is refused with PDB_ERR_INVALID, a message naming both
arguments, and no byte of the caller's memory changed; where the header allows an output to
equal an input ("out may equal f"), the in-place call gives bit for bit the result of the call
into a separate buffer. The Python wrapper always passes fresh outputs, so only direct C
calls can reach these cases.

All buffers live in one float64 "arena" whose bytes are compared before and after a refused
call; the data are valid, so without the overlap each refused call would succeed.
"""
import ctypes
import struct

import numpy as np
import pytest

import pdeblocks as pdb
from pdeblocks._lib import lib

L = ctypes.CDLL(lib._name)  # our own function objects: argtypes declared here, not the wrapper's
P, I64, I32, F64 = ctypes.c_void_p, ctypes.c_int64, ctypes.c_int32, ctypes.c_double
L.pdb_last_error.restype = ctypes.c_char_p

SIGNATURES = {
    "pdb_stencil_apply": (P, I64, I64, P, I64, I64, P),
    "pdb_stencil_adjoint": (P, I64, I64, P, I64, I64, P),
    "pdb_stencil_matrix": (P, I64, I64, I64, P),
    "pdb_difference_operator": (P, I64, F64, P, I64, P, P),
    "pdb_diffusivity_g": (I32, F64, P, I64, P),
    "pdb_diffusivity_flux": (I32, F64, P, I64, P),
    "pdb_diffusivity_flux_derivative": (I32, F64, P, I64, P),
    "pdb_diffusivity_constants": (I32, F64, P, P),
    "pdb_explicit": (P, I64, I64, P, I64, I64, I32, F64, F64, I64, I32, I64, P, I64, P),
    "pdb_explicit_packed": (P,),
    "pdb_fsi": (P, I64, I64, P, I64, I64, I32, F64, F64, I64, I64, I32, I32, I64, P, I64, P),
    "pdb_fed": (P, I64, I64, P, I64, I64, I32, F64, F64, I64, I64, I32, I32, I32, I64, P, I64, P),
    "pdb_implicit": (P, I64, I64, P, I64, I64, I32, F64, F64, I64, I64, F64, I32, P, P, P),
    "pdb_evolve": (P, I64, I64, P, I64, I64, I32, F64, F64, I32, I32, F64, I64, I32, I32, I64, F64, F64, I32,
                   P, P, I64),
    "pdb_banded_matvec": (I64, I64, I64, P, P, I64, P),
    "pdb_banded_solve": (I64, I64, I64, P, P, I64, P, P),
    "pdb_diffusion_system": (P, I64, I64, P, I64, F64, P, I64),
    "pdb_mg_levels": (P, P, I64, P, P),
    "pdb_mg_level_matrix": (P, I64, P, P, P, I64),
    "pdb_mg_prolong": (P, I64, P, I64, P, I64),
    "pdb_mg_restrict": (P, I64, P, I64, P, I64),
    "pdb_mg_cycle": (P, P, P, I64, I64, P),
    "pdb_mg_unet_cycle": (P, P, P, I64, P),
    "pdb_mg_solve": (P, P, P, I64, F64, I64, P, P, I64, P, P, P),
    "pdb_cg": (I64, I64, I64, P, P, P, P, F64, I64, P, P, I64, P, P),
    "pdb_semi_implicit": (P, I64, I64, P, I64, I64, I32, F64, F64, I64, I32, F64, I64, P, P),
    "pdb_unet2_forward": (P, P, I64, I64, P),
    "pdb_network_forward": (P, P, I64, I64, I32, P),
    "pdb_network_backward": (P, P, I64, I64, P, P, I64),
    "pdb_network_block_info": (P, I64, P, P, P),
    "pdb_network_certificate": (P, I64, P, P),
    "pdb_network_block_certificate": (P, I64, I64, P, P, P, P, P, I64, P),
    "pdb_network_describe": (P, P, I64, P),
    "pdb_version": (P, P, P),
}
for _name, _args in SIGNATURES.items():
    getattr(L, _name).argtypes = list(_args)
    getattr(L, _name).restype = I32

PDB_ERR_INVALID = -2
PM = 1                 # PDB_DIFFUSIVITY_PERONA_MALIK
B, N = 2, 8            # (batch, n) of the signal cases
T = B * N


class Arena:
    """One float64 buffer holding every array of a call; `at(i)` is the address of slot i."""

    def __init__(self, size, seed=0):
        self.a = np.random.default_rng(seed).uniform(-1, 1, size)

    def at(self, i):
        return self.a.ctypes.data + 8 * i

    def put(self, i, values):
        values = np.asarray(values, dtype=np.float64)
        self.a[i:i + values.size] = values
        return self.at(i)

    def view(self, i, count):
        return self.a[i:i + count]


def message():
    return L.pdb_last_error().decode()


def assert_refused(arena, call, first, second, *more):
    """`call()` fails with PDB_ERR_INVALID naming `first` overlapping `second`; no byte changes."""
    memories = [arena.a] + list(more)
    before = [m.tobytes() for m in memories]
    status = call()
    assert status == PDB_ERR_INVALID, (status, message())
    text = message()
    assert text.startswith((f"{first} overlaps {second} (", f"{first} partially overlaps {second} (")), text
    assert [m.tobytes() for m in memories] == before, "a refused call changed memory"


def assert_ok(status):
    assert status == 0, message()


# ---- stencils ----------------------------------------------------------------------------

@pytest.mark.parametrize("name, arg", [("pdb_stencil_apply", "u"), ("pdb_stencil_adjoint", "v")])
def test_stencil_output_overlapping_its_input_or_weights_is_refused(name, arg):
    fn = getattr(L, name)
    a = Arena(3 * T)
    w = a.put(2 * T + 4, [-1.0, 1.0])
    u = a.at(0)
    # reference: separate memory gives K u
    out = np.empty(T)
    assert_ok(fn(w, 2, 0, u, B, N, out.ctypes.data))
    K = pdb.Stencil([-1.0, 1.0], 0)
    expected = (K.apply if name.endswith("apply") else K.adjoint)(a.view(0, T).reshape(B, N))
    np.testing.assert_allclose(out.reshape(B, N), expected, rtol=1e-15, atol=1e-15)
    assert_refused(a, lambda: fn(w, 2, 0, u, B, N, u), "out", arg)                  # out == u
    assert_refused(a, lambda: fn(w, 2, 0, u, B, N, a.at(3)), "out", arg)            # shifted by 3
    assert_refused(a, lambda: fn(w, 2, 0, a.at(T + 8), B, N, a.at(T + 2)), "out", arg)  # out just before u
    assert_refused(a, lambda: fn(w, 2, 0, u, B, N, a.at(2 * T + 5 - T)), "out", "weights")
    assert_ok(fn(w, 2, 0, u, B, N, a.at(T)))                                        # adjacent, disjoint: fine


def test_stencil_matrix_over_its_weights_is_refused():
    a = Arena(40)
    w = a.put(10, [-1.0, 1.0])
    assert_refused(a, lambda: L.pdb_stencil_matrix(w, 2, 0, 5, a.at(0)), "out", "weights")
    assert_ok(L.pdb_stencil_matrix(w, 2, 0, 3, a.at(0)))     # 9 values end before the weights


def test_difference_operator_outputs_overlapping_alphas_or_each_other_are_refused():
    a = Arena(16)
    alphas = a.put(0, [0.0, 1.0])
    length, offset = I64(), I64()
    assert_refused(a, lambda: L.pdb_difference_operator(alphas, 2, 1.0, a.at(1), 4, ctypes.addressof(length),
                                                        ctypes.addressof(offset)), "weights", "alphas")
    assert_refused(a, lambda: L.pdb_difference_operator(alphas, 2, 1.0, a.at(4), 4, a.at(6), a.at(12)),
                   "weights", "length")
    assert_refused(a, lambda: L.pdb_difference_operator(alphas, 2, 1.0, a.at(4), 4, a.at(10), a.at(10)),
                   "length", "offset")


# ---- diffusivities ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["pdb_diffusivity_g", "pdb_diffusivity_flux", "pdb_diffusivity_flux_derivative"])
def test_elementwise_diffusivity_in_place_equals_separate_and_partial_overlap_is_refused(name):
    fn = getattr(L, name)
    arg = "s2" if name.endswith("_g") else "s"
    a = Arena(40)
    a.a[:] = np.abs(a.a)                                   # s2 >= 0
    separate = np.empty(20)
    assert_ok(fn(PM, 0.7, a.at(0), 20, separate.ctypes.data))
    assert_refused(a, lambda: fn(PM, 0.7, a.at(0), 20, a.at(1)), "out", arg)     # out = s + 1: wrong order
    assert_refused(a, lambda: fn(PM, 0.7, a.at(1), 20, a.at(0)), "out", arg)
    assert_ok(fn(PM, 0.7, a.at(0), 20, a.at(0)))                                  # exactly in place
    assert np.array_equal(a.view(0, 20), separate)


def test_diffusivity_constants_into_one_address_are_refused():
    a = Arena(2)
    assert_refused(a, lambda: L.pdb_diffusivity_constants(4, 1.0, a.at(0), a.at(0)), "sup_g", "lipschitz")


def test_version_outputs_into_one_address_are_refused():
    a = Arena(2)
    assert_refused(a, lambda: L.pdb_version(a.at(0), a.at(0), a.at(1)), "major", "minor")


# ---- schemes -----------------------------------------------------------------------------------

W = [-1.0, 1.0]


def scheme_calls():
    """name -> call(arena, f, out, history_or_extra) for the scheme entry points (out may equal f)."""
    steps, every = 3, 1
    hist_len = (steps // every + 1) * T

    def explicit(a, f, out, hist=None):
        return L.pdb_explicit(f, B, N, a.w, 2, 0, PM, 0.5, 0.2, steps, 0, every if hist else 0, hist,
                              hist_len if hist else 0, out)

    def packed(a, f, out, hist=None):
        args = struct.pack("@PqqPqqiddqiqPqP", f, B, N, a.w, 2, 0, PM, 0.5, 0.2, steps, 0,
                           every if hist else 0, hist or 0, hist_len if hist else 0, out)
        buf = ctypes.create_string_buffer(args, len(args))
        return L.pdb_explicit_packed(ctypes.addressof(buf))

    def fsi(a, f, out, hist=None):
        return L.pdb_fsi(f, B, N, a.w, 2, 0, PM, 0.5, 0.2, 3, steps, 0, 0, every if hist else 0, hist,
                         hist_len if hist else 0, out)

    def fed(a, f, out, hist=None):
        return L.pdb_fed(f, B, N, a.w, 2, 0, PM, 0.5, 0.2, 3, steps, 2, 1, 0, every if hist else 0, hist,
                         hist_len if hist else 0, out)

    def implicit(a, f, out, sweeps=None):
        return L.pdb_implicit(f, B, N, a.w, 2, 0, PM, 0.5, 0.1, steps, 5, 0.0, 0, out, sweeps, None)

    def evolve(a, f, out, report=None):
        return L.pdb_evolve(f, B, N, a.w, 2, 0, PM, 0.5, 1.0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, out, report,
                            11 if report else 0)

    def semi(a, f, out, cycles=None):
        return L.pdb_semi_implicit(f, B, N, a.w, 2, 0, PM, 0.5, 1.0, steps, 0, 0.0, 0, cycles, out)

    return {"pdb_explicit": (explicit, "history"), "pdb_explicit_packed": (packed, "history"),
            "pdb_fsi": (fsi, "history"), "pdb_fed": (fed, "history"), "pdb_implicit": (implicit, "sweeps"),
            "pdb_evolve": (evolve, "report"), "pdb_semi_implicit": (semi, "cycles")}


def scheme_arena():
    a = Arena(12 * T)
    a.w = a.put(11 * T, W)
    return a


@pytest.mark.parametrize("name", list(scheme_calls()))
def test_scheme_in_place_equals_separate_output(name):
    call, _ = scheme_calls()[name]
    a = scheme_arena()
    separate = np.empty(T)
    assert_ok(call(a, a.at(0), separate.ctypes.data))
    assert_ok(call(a, a.at(0), a.at(0)))
    assert np.array_equal(a.view(0, T), separate)


@pytest.mark.parametrize("name", list(scheme_calls()))
def test_scheme_output_partially_overlapping_f_or_the_weights_is_refused(name):
    call, _ = scheme_calls()[name]
    a = scheme_arena()
    assert_refused(a, lambda: call(a, a.at(0), a.at(1)), "out", "f")              # one sample ahead
    assert_refused(a, lambda: call(a, a.at(N), a.at(0)), "out", "f")              # one row behind
    assert_refused(a, lambda: call(a, a.at(0), a.at(11 * T - T + 1)), "out", "weights")
    assert_ok(call(a, a.at(0), a.at(T)))                                          # adjacent: fine


@pytest.mark.parametrize("name", list(scheme_calls()))
def test_scheme_extra_output_overlapping_out_or_f_is_refused(name):
    call, extra = scheme_calls()[name]
    a = scheme_arena()
    f, out, spare = a.at(0), a.at(5 * T), a.at(T)
    assert_refused(a, lambda: call(a, f, out, out + 8), "out", extra)             # inside out
    assert_refused(a, lambda: call(a, f, out, f), extra, "f")                     # on f
    assert_refused(a, lambda: call(a, f, f, f + 16), "out", extra)                # in place, extra on f = out
    assert_ok(call(a, f, out, spare))


# ---- banded matrices and multigrid ---------------------------------------------------------------

def poisson_band(n):
    band = np.tile([-1.0, 2.0, -1.0], (n, 1))
    band[0, 0] = band[-1, 2] = 0.0
    return band.ravel()


def test_banded_matvec_output_overlapping_x_or_band_is_refused():
    n = N
    a = Arena(3 * n * B + 3 * n)
    band = a.put(2 * n * B, poisson_band(n))
    x = a.at(0)
    assert_refused(a, lambda: L.pdb_banded_matvec(n, 1, 1, band, x, B, x), "out", "x")          # out == x
    assert_refused(a, lambda: L.pdb_banded_matvec(n, 1, 1, band, x, B, a.at(1)), "out", "x")
    assert_refused(a, lambda: L.pdb_banded_matvec(n, 1, 1, band, x, B, a.at(n * B + 1)), "out", "band")
    out = np.empty(n * B)
    assert_ok(L.pdb_banded_matvec(n, 1, 1, band, x, B, out.ctypes.data))
    A = np.diag(2.0 * np.ones(n)) - np.diag(np.ones(n - 1), 1) - np.diag(np.ones(n - 1), -1)
    np.testing.assert_allclose(out.reshape(B, n), a.view(0, n * B).reshape(B, n) @ A.T, rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("rows", [1, 2])
def test_banded_solve_in_place_equals_separate_and_overlaps_are_refused(rows):
    n = N
    a = Arena(3 * n * rows + 3 * n + 2)
    band = a.put(2 * n * rows, poisson_band(n))
    b = a.at(0)
    separate = np.empty(n * rows)
    assert_ok(L.pdb_banded_solve(n, 1, 1, band, b, rows, separate.ctypes.data, None))
    assert_refused(a, lambda: L.pdb_banded_solve(n, 1, 1, band, b, rows, a.at(1), None), "out", "b")
    assert_refused(a, lambda: L.pdb_banded_solve(n, 1, 1, band, b, rows, a.at(2 * n * rows - 1), None),
                   "out", "band")
    assert_refused(a, lambda: L.pdb_banded_solve(n, 1, 1, band, b, rows, a.at(n * rows), a.at(n * rows + 2)),
                   "out", "strategy")
    assert_ok(L.pdb_banded_solve(n, 1, 1, band, b, rows, b, None))
    assert np.array_equal(a.view(0, n * rows), separate)


def test_diffusion_system_band_overlapping_the_weights_is_refused():
    n = 6
    a = Arena(4 * n)
    sw = a.put(0, W)
    w = a.put(2, np.ones(n))
    assert_refused(a, lambda: L.pdb_diffusion_system(sw, 2, 0, w, n, 0.5, a.at(1), 3 * n), "band", "weights")
    assert_refused(a, lambda: L.pdb_diffusion_system(sw, 2, 0, w, n, 0.5, a.at(n), 3 * n), "band", "w")


@pytest.fixture(scope="module")
def hierarchy():
    mg = pdb.Multigrid(pdb.poisson_1d(31), smoother="gauss_seidel")
    yield mg
    mg.close()


def test_multigrid_level_queries_into_overlapping_outputs_are_refused(hierarchy):
    h = hierarchy._h
    a = Arena(128)
    assert_refused(a, lambda: L.pdb_mg_levels(h, a.at(0), 8, a.at(3), None), "sizes", "count")
    assert_refused(a, lambda: L.pdb_mg_levels(h, a.at(0), 8, a.at(9), a.at(9)), "count", "transfer")
    assert_refused(a, lambda: L.pdb_mg_level_matrix(h, 0, a.at(0), a.at(1), a.at(1), 100), "ku", "band")
    assert_refused(a, lambda: L.pdb_mg_level_matrix(h, 0, a.at(0), a.at(0), a.at(2), 100), "kl", "ku")


def test_multigrid_transfers_with_overlapping_arrays_are_refused(hierarchy):
    h = hierarchy._h
    fine, coarse = hierarchy.levels[0], hierarchy.levels[1]
    a = Arena(2 * fine)
    assert_refused(a, lambda: L.pdb_mg_prolong(h, 0, a.at(0), coarse, a.at(coarse - 1), fine), "fine", "coarse")
    assert_refused(a, lambda: L.pdb_mg_restrict(h, 0, a.at(0), fine, a.at(fine - 1), coarse), "coarse", "fine")


def test_multigrid_cycle_in_place_of_x_equals_separate_and_other_overlaps_are_refused(hierarchy):
    h, n = hierarchy._h, 31
    a = Arena(4 * n)
    x, b = a.at(0), a.at(2 * n)
    separate = np.empty(n)
    assert_ok(L.pdb_mg_cycle(h, x, b, 1, n, separate.ctypes.data))
    assert_refused(a, lambda: L.pdb_mg_cycle(h, x, b, 1, n, b), "out", "b")            # out == b
    assert_refused(a, lambda: L.pdb_mg_cycle(h, x, b, 1, n, a.at(n + 2)), "out", "b")  # partially over b
    assert_refused(a, lambda: L.pdb_mg_cycle(h, x, b, 1, n, a.at(1)), "out", "x")      # x shifted
    assert_ok(L.pdb_mg_cycle(h, x, b, 1, n, x))
    assert np.array_equal(a.view(0, n), separate)


def test_multigrid_unet_cycle_output_over_its_inputs_is_refused(hierarchy):
    h, n = hierarchy._h, 31
    a = Arena(6 * n)
    assert_refused(a, lambda: L.pdb_mg_unet_cycle(h, a.at(0), a.at(n), n, a.at(0)), "out", "x")
    assert_refused(a, lambda: L.pdb_mg_unet_cycle(h, a.at(0), a.at(4 * n), n, a.at(2 * n)), "out", "b")
    assert_ok(L.pdb_mg_unet_cycle(h, a.at(0), a.at(n), n, a.at(2 * n)))


def solve_calls(hierarchy):
    """name -> (call(arena, b, x0, x, residuals, counter), counter name) for pdb_mg_solve and pdb_cg
    (x may equal x0); `counter` is the address of the cycle/iteration count (other scalars: slots 101, 102)."""
    n = 31
    band = np.ascontiguousarray(poisson_band(n))

    def mg(a, b, x0, x, res=None, counter=None):
        return L.pdb_mg_solve(hierarchy._h, b, x0, n, 1e-8, 8, x, res, 9 if res else 0,
                              counter or a.at(100), a.at(101), a.at(102))

    def cg(a, b, x0, x, res=None, counter=None):
        return L.pdb_cg(n, 1, 1, band.ctypes.data, b, x0, None, 1e-10, 40, x, res, 41 if res else 0,
                        counter or a.at(100), a.at(101))

    return {"pdb_mg_solve": (mg, "cycles"), "pdb_cg": (cg, "iterations")}


@pytest.mark.parametrize("name", ["pdb_mg_solve", "pdb_cg"])
def test_solver_x_may_equal_x0_but_overlaps_with_b_or_other_outputs_are_refused(hierarchy, name):
    call, counter = solve_calls(hierarchy)[name]
    n = 31
    a = Arena(160)
    b, x0, x = a.at(0), a.at(n), a.at(2 * n)
    separate = np.empty(n)
    assert_ok(call(a, b, x0, separate.ctypes.data))
    assert_refused(a, lambda: call(a, b, x0, b), "x", "b")
    assert_refused(a, lambda: call(a, b, x0, a.at(n - 3)), "x", "b")
    assert_refused(a, lambda: call(a, b, x0, a.at(n + 1)), "x", "x0")                # x0 shifted by one
    assert_refused(a, lambda: call(a, b, x0, x, a.at(2 * n + 5)), "x", "residuals")
    assert_refused(a, lambda: call(a, b, x0, x, None, x + 8), "x", counter)
    assert_ok(call(a, b, x0, x0))
    assert np.array_equal(a.view(n, n), separate)


def test_unet2_forward_in_place_equals_separate_and_partial_overlap_is_refused():
    K = pdb.Stencil(W, 0)
    net = pdb.TwoLevelUNet(pre=[(K, pdb.Diffusivity("perona_malik", 0.5), 0.2)], coarse=[K], post=[K])
    h = net._handle
    a = Arena(3 * T)
    separate = np.empty(T)
    assert_ok(L.pdb_unet2_forward(h, a.at(0), B, N, separate.ctypes.data))
    assert_refused(a, lambda: L.pdb_unet2_forward(h, a.at(0), B, N, a.at(N)), "out", "f")
    assert_ok(L.pdb_unet2_forward(h, a.at(0), B, N, a.at(0)))
    assert np.array_equal(a.view(0, T), separate)


# ---- networks ------------------------------------------------------------------------------------

@pytest.fixture
def network():
    K = pdb.Stencil(W, 0)
    return pdb.Network([pdb.DiffusionBlock([K], [pdb.Diffusivity("perona_malik", 0.5)], 0.1) for _ in range(2)])


def test_network_forward_output_overlapping_x_is_refused(network):
    h = network._h
    a = Arena(3 * T)
    assert_refused(a, lambda: L.pdb_network_forward(h, a.at(0), B, N, 0, a.at(0)), "out", "x")
    assert_refused(a, lambda: L.pdb_network_forward(h, a.at(0), B, N, 1, a.at(T - 1)), "out", "x")
    assert_ok(L.pdb_network_forward(h, a.at(0), B, N, 0, a.at(T)))


def test_network_backward_outputs_overlapping_grad_out_or_each_other_are_refused(network):
    h, m = network._h, network.parameter_count
    a = Arena(4 * T + m)
    assert_ok(L.pdb_network_forward(h, a.at(0), B, N, 0, a.at(T)))
    g, gi, gp = a.at(0), a.at(T), a.at(2 * T)
    assert_refused(a, lambda: L.pdb_network_backward(h, g, B, N, g, gp, m), "grad_in", "grad_out")
    assert_refused(a, lambda: L.pdb_network_backward(h, g, B, N, a.at(3 * T), a.at(T - 1), m),
                   "grad_params", "grad_out")
    assert_refused(a, lambda: L.pdb_network_backward(h, g, B, N, gi, a.at(2 * T - 1), m), "grad_in", "grad_params")
    assert_ok(L.pdb_network_backward(h, g, B, N, gi, gp, m))


def test_network_queries_into_overlapping_outputs_are_refused(network):
    h = network._h
    a = Arena(64)
    assert_refused(a, lambda: L.pdb_network_block_info(h, 0, a.at(0), a.at(0), a.at(1)), "kind", "parameter_offset")
    assert_refused(a, lambda: L.pdb_network_certificate(h, 16, a.at(0), a.at(0)), "certified", "first_failure")
    assert_refused(a, lambda: L.pdb_network_block_certificate(h, 0, 16, a.at(0), a.at(1), a.at(2), a.at(3),
                                                              a.at(2), 64, a.at(20)), "tau_bound", "reason")
    assert_refused(a, lambda: L.pdb_network_describe(h, a.at(0), 64, a.at(4)), "text", "length")
    assert_ok(L.pdb_network_describe(h, a.at(0), 64, a.at(8)))

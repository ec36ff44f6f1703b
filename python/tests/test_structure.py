"""Issue 13 (Python side): one vocabulary (maxiter, with the old names deprecated), one base
class for handle-owning objects, modules that hold one idea, every public name importable,
and a multigrid hierarchy usable as a SciPy preconditioner."""
import warnings
from pathlib import Path

import numpy as np
import pytest

import pdeblocks as pb
from pdeblocks import PDEBlocksError, _abi
from pdeblocks._handle import Handle

PACKAGE = Path(pb.__file__).resolve().parent


# ---------------------------------------------------------------- public names and modules

def test_every_name_in_all_resolves():
    for name in pb.__all__:
        assert getattr(pb, name) is not None, name


def test_names_moved_out_of_multigrid_and_layers_still_resolve_there():
    import pdeblocks.layers as layers
    import pdeblocks.multigrid as multigrid
    for name in ("BandedMatrix", "Multigrid"):
        assert getattr(multigrid, name) is getattr(pb, name)
    for name in ("poisson_1d", "diffusion_system", "cg", "semi_implicit", "TwoLevelUNet"):
        assert getattr(multigrid, name) is getattr(pb, name), name
    for name in layers.__all__:
        assert getattr(layers, name) is getattr(pb, name), name


def test_no_module_is_over_500_lines():
    sizes = {str(p.relative_to(PACKAGE)): len(p.read_text().splitlines())
             for p in PACKAGE.rglob("*.py") if p.name != "_abi.py"}
    assert max(sizes.values()) <= 500, sizes


def test_the_library_does_not_import_foundation():
    """Foundation drags 37 MB of ICU data into the shared library (60 MB stripped instead of
    10 MB); the core takes libm through Support/Platform.swift."""
    sources = PACKAGE.parents[1] / "Sources"
    importing = [str(p.relative_to(sources)) for p in sources.rglob("*.swift")
                 if any(line.strip() == "import Foundation" for line in p.read_text().splitlines())]
    assert importing == []


# ---------------------------------------------------------------- one vocabulary

def test_option_names_are_the_header_names_in_lower_case():
    from pdeblocks import accelerated, multigrid
    for name, code in multigrid.SMOOTHERS.items():
        assert getattr(_abi, "PDB_SMOOTHER_" + name.upper()) == code
    for name, code in multigrid.TRANSFERS.items():
        assert getattr(_abi, "PDB_MG_TRANSFER_" + name.upper()) == code
    for name, code in multigrid.CYCLES.items():
        assert getattr(_abi, "PDB_MG_CYCLE_" + name.upper()) == code
    for name, code in accelerated.ORDERINGS.items():
        assert getattr(_abi, "PDB_FED_ORDER_" + name.upper()) == code
    for code, name in enumerate(pb.DIFFUSIVITIES):
        assert getattr(_abi, "PDB_DIFFUSIVITY_" + name.upper()) == code
        assert pb.Diffusivity(name).kind == code


def _poisson_solve(**kw):
    mg = pb.Multigrid(pb.poisson_1d(63))
    return mg.solve(np.ones(63), tol=0.0, **kw)[1]


@pytest.mark.parametrize("call, old", [
    (lambda **kw: _poisson_solve(**kw)["cycles"], "max_cycles"),
    (lambda **kw: pb.cg(pb.poisson_1d(63), np.ones(63), tol=0.0, **kw)[1]["iterations"], "max_iter"),
])
def test_maxiter_and_its_deprecated_name(call, old):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert call(maxiter=3) == 3
    with pytest.warns(DeprecationWarning, match="maxiter"):
        assert call(**{old: 3}) == 3
    with pytest.raises(TypeError, match="deprecated"):
        call(maxiter=3, **{old: 3})


def test_semi_implicit_maxiter_and_its_deprecated_name():
    K = pb.DifferenceOperator([0, 1])
    f = np.repeat([0.0, 1.0], 32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        new = pb.semi_implicit(f, K, "perona_malik", 2.0, 3, solver="multigrid", tol=1e-8, maxiter=50)
    with pytest.warns(DeprecationWarning):
        old = pb.semi_implicit(f, K, "perona_malik", 2.0, 3, solver="multigrid", tol=1e-8, max_cycles=50)
    assert np.array_equal(new, old)


# ---------------------------------------------------------------- handles

def _handles():
    K = pb.Stencil([-1.0, 1.0])
    return [pb.Multigrid(pb.poisson_1d(31)), pb.TwoLevelUNet(),
            pb.Network([pb.DiffusionBlock([K], ["perona_malik"], 0.1)])]


def test_handle_owners_share_one_base_class():
    for cls in (pb.Multigrid, pb.TwoLevelUNet, pb.Network):
        assert issubclass(cls, Handle)


@pytest.mark.parametrize("index", range(3))
def test_close_context_manager_and_closed_guard(index):
    obj = _handles()[index]
    with obj as same:
        assert same is obj and not obj.closed
    assert obj.closed
    obj.close()   # idempotent
    use = {0: lambda: obj.solve(np.ones(31)), 1: lambda: obj.forward(np.ones(8)),
           2: lambda: obj.forward(np.ones(8))}[index]
    with pytest.raises(PDEBlocksError, match="has been closed"):
        use()


# ---------------------------------------------------------------- aspreconditioner

@pytest.mark.parametrize("method", ["cg", "gmres"])
def test_aspreconditioner_speeds_up_scipy_krylov_methods(method):
    spla = pytest.importorskip("scipy.sparse.linalg")
    A = pb.diffusion_system(pb.DifferenceOperator([0, 1]), np.linspace(1.0, 50.0, 1024), 4.0)
    b = np.random.default_rng(0).standard_normal(A.n)
    S = A.to_scipy()
    mg = pb.Multigrid(A)
    M = mg.aspreconditioner()
    assert M.shape == (A.n, A.n)
    # one cycle from a zero start per application
    np.testing.assert_array_equal(M @ b, mg.cycle(np.zeros(A.n), b))

    def run(M):
        count = [0]
        solver = getattr(spla, method)
        extra = {"restart": 50, "callback_type": "pr_norm"} if method == "gmres" else {}
        x, status = solver(S, b, M=M, rtol=1e-8, maxiter=2000,
                           callback=lambda *_: count.__setitem__(0, count[0] + 1), **extra)
        assert status == 0
        assert np.linalg.norm(b - S @ x) <= 1e-7 * np.linalg.norm(b)
        return count[0]

    with_mg, without = run(M), run(None)
    assert with_mg < without / 4, (with_mg, without)


# ---------------------------------------------------------------- the same names in Swift

ROOT = PACKAGE.parent.parent
SWIFT_NAMES = {   # Swift file, Python table (name -> code)
    "Sources/PDEBlocks/Multigrid/Smoother.swift": ("pdeblocks.multigrid", "SMOOTHERS"),
    "Sources/PDEBlocks/Multigrid/Transfer.swift": ("pdeblocks.multigrid", "TRANSFERS"),
    "Sources/PDEBlocks/Schemes/FEDOrdering.swift": ("pdeblocks.accelerated", "ORDERINGS"),
}


def _swift_codes_and_names(text):
    """{code: name} from an `enum X: Int32 { case a = 0 … var name: String { switch self {
    case .a: "name" … } } }` in Swift source."""
    import re
    raw = {case: int(code) for case, code in re.findall(r"^\s*case\s+(\w+)\s*=\s*(\d+)", text, flags=re.M)}
    body = text[text.index("var name: String"):]
    body = body[: body.index("\n    }\n")]
    names = dict(re.findall(r'case\s+\.(\w+)\s*:\s*"([^"]+)"', body))
    return {raw[case]: name for case, name in names.items()}


@pytest.mark.parametrize("path", sorted(SWIFT_NAMES))
def test_swift_option_names_equal_the_python_names(path):
    import importlib
    source = ROOT / path
    if not source.is_file():
        pytest.skip(f"{path} is not in this tree")
    module, table = SWIFT_NAMES[path]
    python = getattr(importlib.import_module(module), table)
    assert _swift_codes_and_names(source.read_text()) == {code: name for name, code in python.items()}

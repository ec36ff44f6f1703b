"""Loading a script of ``examples/`` as a module (the tests call its functions)."""
import importlib.util
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load_example(path, name: str | None = None):
    """The module of the example script ``path`` (a path, or a file name in ``examples/``),
    executed under ``name`` (default: the file's stem)."""
    path = Path(path)
    if not path.is_absolute():
        path = EXAMPLES / path
    spec = importlib.util.spec_from_file_location(name or path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

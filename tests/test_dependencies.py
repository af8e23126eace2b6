"""What a plain ``pip install`` needs: every import of the package is declared.

Each module the package's sources import is the standard library, the package
itself, a dependency of ``pyproject.toml`` (``[project] dependencies``), or an
optional one: imported inside ``try: ... except ImportError`` (which says what
to install), or in the few places listed below where it cannot be missing.
"""

import ast
import importlib.metadata
import io
import re
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from pyflakes.api import check
from pyflakes.reporter import Reporter

import haralick_learn

PACKAGE = Path(haralick_learn.__file__).parent
PYPROJECT = PACKAGE.parent / "pyproject.toml"

#: Unguarded imports of optional packages that cannot fail, and why.
CANNOT_BE_MISSING = {
    ("_maps.py", "dask"): "texture_maps of a Dask array: the input is one, so dask is installed",
    ("cli/maps.py", "dask"): "map -o X.zarr: _map checks dask and zarr (one line) before any work",
    ("_region_runs.py", "pyarrow"): "regions -o X.parquet: _regions checks pyarrow (one line) "
                                    "before any work",
    ("cli/maps.py", "nibabel"): "map --volume -o X.nii.gz: _map_volume checks its writer "
                                "(check_volume_reader) before any work",
    ("cli/maps.py", "nrrd"): "map --volume -o X.nrrd: _map_volume checks its writer "
                             "(check_volume_reader) before any work",
    ("datasets/_make_sample_images.py", "skimage"): "a maintainer's script, not imported",
}


def normalized(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pyproject():
    try:
        import tomllib
    except ImportError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    if not PYPROJECT.is_file():
        pytest.skip("no pyproject.toml beside the package (an installed copy)")
    with open(PYPROJECT, "rb") as f:
        return tomllib.load(f)["project"]


def guarded_by_import_error(handlers):
    """Whether one of a ``try``'s handlers catches ImportError (or ModuleNotFoundError)."""
    for handler in handlers:
        caught = handler.type
        names = caught.elts if isinstance(caught, ast.Tuple) else [caught]
        if any(isinstance(n, ast.Name) and n.id in ("ImportError", "ModuleNotFoundError")
               for n in names):
            return True
    return False


def imports(tree):
    """``(top-level module, line, guarded)`` of each absolute import in a module's tree."""
    found = []

    def visit(node, guarded):
        if isinstance(node, ast.Try):
            inner = guarded or guarded_by_import_error(node.handlers)
            for child in node.body:
                visit(child, inner)
            for child in node.handlers + node.orelse + node.finalbody:
                visit(child, guarded)
            return
        if isinstance(node, ast.Import):
            found.extend((alias.name.split(".")[0], node.lineno, guarded) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            found.append((node.module.split(".")[0], node.lineno, guarded))
        for child in ast.iter_child_nodes(node):
            visit(child, guarded)

    visit(tree, False)
    return found


def test_every_import_is_stdlib_declared_or_guarded():
    project = read_pyproject()
    declared = {normalized(Requirement(r).name) for r in project["dependencies"]}
    extras = {normalized(Requirement(r).name)
              for group in project.get("optional-dependencies", {}).values() for r in group}
    distributions = importlib.metadata.packages_distributions()
    undeclared, not_in_an_extra = [], []
    for path in sorted(PACKAGE.rglob("*.py")):
        where = path.relative_to(PACKAGE).as_posix()
        for module, line, guarded in imports(ast.parse(path.read_text(encoding="utf-8"))):
            if module in sys.stdlib_module_names or module == "haralick_learn":
                continue
            owners = {normalized(name) for name in distributions.get(module, [module])}
            if owners & declared:
                continue
            if not (guarded or (where, module) in CANNOT_BE_MISSING):
                undeclared.append(f"{where}:{line} imports {module}")
            elif module in distributions and not owners & extras:
                not_in_an_extra.append(f"{where}:{line} imports {module}")
    assert not undeclared, ("imports that a plain install may lack (declare them in "
                            f"[project] dependencies, or guard them): {undeclared}")
    assert not not_in_an_extra, f"optional imports in no extra: {not_in_an_extra}"


def test_the_scan_sees_function_level_and_guarded_imports():
    tree = ast.parse(
        "import os\n"
        "def f():\n"
        "    import pandas as pd\n"
        "    try:\n"
        "        from pynndescent import NNDescent\n"
        "    except (OSError, ImportError):\n"
        "        import json\n"
        "from . import x\n"
    )
    assert imports(tree) == [("os", 1, False), ("pandas", 3, False), ("pynndescent", 5, True),
                             ("json", 7, False)]


def test_no_source_uses_an_undefined_name_or_imports_what_it_does_not_use():
    # An undefined name in a branch that no test reaches fails only when a user gets there,
    # and an ``except Exception`` around it turns the NameError into a wrong answer. Imports
    # marked ``# noqa`` check that an optional package is installed.
    found = []

    class Findings(Reporter):
        def flake(self, message):
            line = lines[message.lineno - 1] if message.lineno <= len(lines) else ""
            if "# noqa" not in line:
                found.append(str(message))

    reporter = Findings(io.StringIO(), io.StringIO())
    root = PACKAGE.parent
    sources = [path for folder in ("haralick_learn", "tests", "benchmarks", "examples")
               for path in sorted((root / folder).rglob("*.py"))]
    assert len(sources) > 100
    for path in sources + [root / "docs" / "conf.py"]:
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        check(text, str(path), reporter)
    assert found == []

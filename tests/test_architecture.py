"""The layering the README's map describes, held against the code by an ast walk.

- algorithms/ holds folders, one per layer, and only the public API
  (api.py) and the package's __init__.py beside them;
- a layer imports only its own folder and the layers under it (LAYERS,
  bottom first; folders of one rank do not import each other);
- kernels/ imports nothing of ours outside kernels/;
- format/ imports only format/, kernels/ and numpy (plus the standard library);
- the hosts (plugin/, the root __init__.py) import only the public API:
  the root package ``copc_builder`` and ``copc_builder.algorithms.api``
  (and the demo-scene generator ``copc_builder.demo``, which is not core);
- the core (algorithms/) never imports qgis, pdal or dask at module level;
- in product code: no module basename twice, no private name imported from
  another module, no function over 60 lines.
"""
from __future__ import annotations

import ast
import sys
from collections import Counter
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "copc_builder"
PUBLIC_API = {PACKAGE, f"{PACKAGE}.algorithms.api", f"{PACKAGE}.demo"}
MAX_FUNCTION_LINES = 60
# The core's folders, bottom first: each may import its own folder and the
# ranks before its own; the public API (api.py) sits on top of them all.
LAYERS = [
    ("kernels",),
    ("format", "common"),
    ("points", "storage"),
    ("sources", "store", "writer", "copc_file"),
    ("build", "validate"),
    ("cluster", "inspection"),
    ("tiles",),
]
RANK = {folder: rank for rank, folders in enumerate(LAYERS) for folder in folders}
STDLIB = set(sys.stdlib_module_names) | {"__future__"}


def product_files() -> List[Path]:
    files = [ROOT / "__init__.py", ROOT / "__main__.py"]
    for folder in ("algorithms", "plugin"):
        files += sorted((ROOT / folder).rglob("*.py"))
    return files


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join([PACKAGE, *parts])


def imports(path: Path, module_level_only: bool = False, root: Path = ROOT) -> Iterator[Tuple[str, List[str], int]]:
    """(absolute module, imported names, line) of every import in the file."""
    tree = ast.parse(path.read_text(), str(path))
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    nodes = tree.body if module_level_only else ast.walk(tree)
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, [], node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [a.name for a in node.names]
            modules = [n for n in names if is_module(f"{target}.{n}", root)]
            for name in modules:      # "from package import module"
                yield f"{target}.{name}", [], node.lineno
            if len(modules) < len(names):
                yield target, [n for n in names if n not in modules], node.lineno


def is_module(module: str, root: Path = ROOT) -> bool:
    """True when ``module`` is one of our modules or packages (a file or a folder under root)."""
    if not ours(module):
        return False
    path = root.joinpath(*module.split(".")[1:])
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def ours(module: str) -> bool:
    return module == PACKAGE or module.startswith(PACKAGE + ".")


def under(module: str, folder: str) -> bool:
    prefix = f"{PACKAGE}.{folder}"
    return module == prefix or module.startswith(prefix + ".")


def violations(files, allowed, root: Path = ROOT) -> List[str]:
    found = []
    for path in files:
        for target, _, line in imports(path, root=root):
            if ours(target) and not allowed(target):
                found.append(f"{path.relative_to(root)}:{line} imports {target}")
    return found


def layer_of(module: str):
    """The core folder a module of ours lives in (None outside algorithms/'s folders)."""
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[1] == "algorithms" and parts[2] in RANK else None


def test_algorithms_holds_layer_folders_and_the_public_api_only():
    loose = sorted(p.name for p in (ROOT / "algorithms").glob("*.py"))
    assert loose == ["__init__.py", "api.py"]
    folders = sorted(p.name for p in (ROOT / "algorithms").iterdir() if (p / "__init__.py").is_file())
    assert folders == sorted(RANK)


def layer_violations(root: Path = ROOT) -> List[str]:
    found = []
    for folder, rank in RANK.items():
        for path in sorted((root / "algorithms" / folder).rglob("*.py")):
            for target, _, line in imports(path, root=root):
                other = layer_of(target)
                if ours(target) and not (other == folder or (other is not None and RANK[other] < rank)):
                    found.append(f"{path.relative_to(root)}:{line} ({folder}, rank {rank}) imports {target}")
    return found


def test_each_layer_imports_only_the_layers_under_it():
    assert layer_violations() == []


def test_kernels_import_nothing_of_ours():
    files = sorted((ROOT / "algorithms" / "kernels").rglob("*.py"))
    assert violations(files, lambda t: under(t, "algorithms.kernels")) == []


def test_format_layer_imports_only_kernels_and_numpy():
    files = sorted((ROOT / "algorithms" / "format").rglob("*.py"))
    assert violations(files, lambda t: under(t, "algorithms.format") or under(t, "algorithms.kernels")) == []
    third_party = [f"{p.relative_to(ROOT)}:{line} imports {t}" for p in files for t, _, line in imports(p)
                   if not ours(t) and t.split(".")[0] not in STDLIB | {"numpy"}]
    assert third_party == []


def test_hosts_import_only_the_public_api():
    files = [ROOT / "__init__.py", ROOT / "__main__.py"] + sorted((ROOT / "plugin").rglob("*.py"))
    assert violations(files, lambda t: t in PUBLIC_API or under(t, "plugin")) == []


def test_core_imports_no_host_at_module_level():
    found = [f"{p.relative_to(ROOT)}:{line} imports {t}" for p in sorted((ROOT / "algorithms").rglob("*.py"))
             for t, _, line in imports(p, module_level_only=True)
             if t.split(".")[0] in ("qgis", "pdal", "dask", "distributed", "processing")]
    assert found == []


def test_no_module_basename_twice():
    names = Counter(p.name for p in product_files() if p.name not in ("__init__.py", "__main__.py"))
    assert sorted(name for name, n in names.items() if n > 1) == []


def test_no_private_name_imported_from_another_module():
    found = [f"{p.relative_to(ROOT)}:{line} imports {name} from {t}" for p in product_files()
             for t, names, line in imports(p) for name in names
             if name.startswith("_") and not (name.startswith("__") and name.endswith("__"))]
    assert found == []


def test_no_function_over_60_lines():
    found = []
    for path in product_files():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} has {length} lines")
    assert found == []


@pytest.mark.parametrize("snippet, caught", [
    ("from ..builder import Build\n", True),
    ("from copc_builder.algorithms.build.plan import Plan\n", True),
    ("import copc_builder.algorithms.store\n", True),
    ("from . import morton\n", False),
    ("from .point_formats import GPS_AT\n", False),
])
def test_the_walk_sees_relative_and_absolute_imports(tmp_path, snippet, caught):
    """The layering checks resolve relative imports and catch absolute ones."""
    folder = tmp_path / "algorithms" / "kernels"
    folder.mkdir(parents=True)
    path = folder / "bad.py"
    path.write_text(snippet)
    found = violations([path], lambda t: under(t, "algorithms.kernels"), root=tmp_path)
    assert bool(found) == caught, found


@pytest.mark.parametrize("folder, snippet, caught", [
    ("points", "from ..build.plan import Plan\n", True),          # upwards
    ("sources", "from ..store import PointStore\n", True),         # a folder of the same rank
    ("writer", "from copc_builder.algorithms.inspection.info import copc_info\n", True),
    ("writer", "from copc_builder.algorithms.api import build_copc\n", True),   # the API is above all
    ("build", "from ..writer.copc_writer import CopcWriter\n", False),
    ("points", "from ..common.errors import InputError\n", False),
    ("store", "from .page import Page\n", False),
])
def test_the_layer_check_sees_the_direction(tmp_path, folder, snippet, caught):
    """An import against the layering is found, relative or absolute; one along it is not."""
    for name in RANK:
        (tmp_path / "algorithms" / name).mkdir(parents=True)
    (tmp_path / "algorithms" / folder / "module_under_test.py").write_text(snippet)
    assert bool(layer_violations(root=tmp_path)) == caught

"""Test-side parsers (copc_parse, temporal_parse) must share no code with the
product: this reads what such a module imports, from its source."""
from __future__ import annotations

import ast
from typing import Set


def top_level_imports(path) -> Set[str]:
    """The top-level names of every module the file imports, at any depth of
    its code; a relative import, or ``__import__``/``importlib``, fails."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"relative import at line {node.lineno}"
            imported.add(node.module.split(".")[0])
        elif isinstance(node, ast.Name):
            assert node.id not in ("__import__", "importlib"), f"{node.id} at line {node.lineno}"
    return imported

"""Ready for QGIS 4: the plugin uses only names that QGIS 3.40 and 4.x both accept.

QGIS 4 (Qt 6, PyQt6) drops the unscoped enum names QGIS 3.40 marks
deprecated, ``exec_``, ``QRegExp`` and PyQt5.  The scan below reads every
Python file of plugin/ and the root __init__.py (as an AST, so comments and
strings do not count) and names each use of:

- ``QgsProcessing.Type*``                 -> ``Qgis.ProcessingSourceType.*``
- ``.FlagOptional`` / ``.FlagAdvanced`` / ``.FlagHidden`` -> ``Qgis.ProcessingParameterFlag.*``
- ``QgsProcessingParameterFile.File`` / ``.Folder`` -> ``Qgis.ProcessingFileParameterBehavior.*``
- ``QgsProcessingParameterNumber.Integer`` / ``.Double`` -> ``Qgis.ProcessingNumberParameterType.*``
- ``QgsCoordinateReferenceSystem.WKT_*``  -> ``Qgis.CrsWktVariant.*``
- ``QgsWkbTypes.<Value>`` (an enum value; its functions are fine) -> ``Qgis.WkbType.*``
- ``QgsFeatureSink.FastInsert`` / ``.RegeneratePrimaryKey`` -> ``QgsFeatureSink.Flag.*``
- ``QVariant.<Type>`` (``QVariant.String``...) -> ``QMetaType.Type.*``
- ``exec_``, ``QRegExp``, and any import of PyQt5 (or PyQt6: only ``qgis.PyQt``)

The scanner is tested on a snippet per rule, so a rule that stops matching
fails here; the scoped names the plugin does use are checked to exist in the
QGIS the suite runs on.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import List, Tuple

import pytest

import copc_builder

ROOT = Path(copc_builder.__file__).resolve().parent

pytestmark = pytest.mark.qgis

# owner -> attribute names that are deprecated on it (a callable: attr -> bool)
DEPRECATED_ATTRIBUTES = {
    "QgsProcessing": lambda a: a.startswith("Type"),
    "QgsProcessingParameterFile": lambda a: a in ("File", "Folder"),
    "QgsProcessingParameterNumber": lambda a: a in ("Integer", "Double"),
    "QgsCoordinateReferenceSystem": lambda a: a.startswith("WKT_"),
    "QgsWkbTypes": lambda a: a[:1].isupper(),
    "QgsFeatureSink": lambda a: a in ("FastInsert", "RegeneratePrimaryKey"),
    "QVariant": lambda a: a[:1].isupper(),
}
FLAG_NAMES = {"FlagOptional", "FlagAdvanced", "FlagHidden", "FlagIsModelOutput"}
BANNED_NAMES = {"exec_", "QRegExp"}
BANNED_MODULES = ("PyQt5", "PyQt6")


def deprecated_uses(source: str) -> List[Tuple[int, str]]:
    """(line, what) for every deprecated or Qt-5-only name ``source`` uses."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute):
            owner = node.value.id if isinstance(node.value, ast.Name) else None
            rule = DEPRECATED_ATTRIBUTES.get(owner)
            if rule is not None and rule(node.attr):
                found.append((node.lineno, f"{owner}.{node.attr}"))
            elif node.attr in FLAG_NAMES or node.attr in BANNED_NAMES:
                found.append((node.lineno, f".{node.attr}"))
        elif isinstance(node, ast.Name) and node.id in BANNED_NAMES:
            found.append((node.lineno, node.id))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            names = [a.name for a in node.names]
            found += [(node.lineno, f"import {m}") for m in modules if m.split(".")[0] in BANNED_MODULES]
            found += [(node.lineno, f"import {n}") for n in names if n in BANNED_NAMES]
        elif isinstance(node, ast.Call) and _is_import_call(node):
            found.append((node.lineno, f"import {node.args[0].value}"))
    return sorted(found)


def _is_import_call(node: ast.Call) -> bool:
    """importlib.import_module("PyQt5...") / __import__("PyQt5...")."""
    name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
    return (name in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant)
            and str(node.args[0].value).split(".")[0] in BANNED_MODULES)


def product_files() -> List[Path]:
    return [ROOT / "__init__.py"] + sorted((ROOT / "plugin").rglob("*.py"))


# One snippet per name the issue lists, each must be caught.
CAUGHT = [
    "QgsProcessing.TypeFile",
    "QgsProcessing.TypeVector",
    "QgsProcessing.TypeVectorAnyGeometry",
    "QgsProcessingParameterDefinition.FlagOptional",
    "QgsProcessingParameterDefinition.FlagAdvanced",
    "p.flags() & p.FlagAdvanced",
    "QgsProcessingParameterFile.Folder",
    "QgsProcessingParameterFile.File",
    "QgsProcessingParameterNumber.Integer",
    "QgsCoordinateReferenceSystem.WKT_PREFERRED",
    "QgsWkbTypes.NoGeometry",
    "QgsFeatureSink.FastInsert",
    "QgsField('a', QVariant.String)",
    "dialog.exec_()",
    "exec_(x)",
    "QRegExp('a+')",
    "from qgis.PyQt.QtCore import QRegExp",
    "import PyQt5",
    "from PyQt5.QtCore import QVariant",
    "from PyQt5 import QtCore",
    "import PyQt5.QtGui as g",
    "from PyQt6.QtCore import QMetaType",
    "importlib.import_module('PyQt5.QtCore')",
]

CLEAN = """
from qgis.core import Qgis, QgsFeatureSink, QgsField, QgsWkbTypes
from qgis.PyQt.QtCore import QMetaType, QRegularExpression
a = Qgis.ProcessingSourceType.File, Qgis.ProcessingSourceType.Vector
b = Qgis.ProcessingParameterFlag.Optional | Qgis.ProcessingParameterFlag.Advanced
c = Qgis.ProcessingFileParameterBehavior.Folder, Qgis.ProcessingNumberParameterType.Integer
d = Qgis.CrsWktVariant.Preferred, Qgis.WkbType.NoGeometry, QgsFeatureSink.Flag.FastInsert
e = QgsField("a", QMetaType.Type.QString), QgsWkbTypes.displayString(Qgis.WkbType.Point)
dialog.exec()
text = "PyQt5 and exec_ and QgsProcessing.TypeFile in a string do not count"
"""


@pytest.mark.parametrize("snippet", CAUGHT)
def test_the_scan_catches(snippet):
    assert deprecated_uses(f"x = 1\n{snippet}\n"), snippet
    assert deprecated_uses(f"x = 1\n{snippet}\n")[0][0] == 2        # on its line


def test_the_scan_passes_the_scoped_forms():
    assert deprecated_uses(CLEAN) == []


def test_the_plugin_uses_no_deprecated_names():
    files = product_files()
    assert len(files) >= 8 and ROOT / "plugin" / "qgis_build_algorithm.py" in files
    found = [f"{path.relative_to(ROOT)}:{line}: {what}"
             for path in files for line, what in deprecated_uses(path.read_text(encoding="utf-8"))]
    assert found == []


SCOPED = re.compile(r"\b(?:Qgis\.[A-Z]\w*\.\w+|QgsFeatureSink\.Flag\.\w+|QMetaType\.Type\.\w+)")


def test_the_scoped_names_the_plugin_uses_exist_in_this_qgis():
    """Each ``Qgis.Enum.Value`` (and the like) the plugin names resolves in the running QGIS."""
    from qgis.core import Qgis, QgsFeatureSink
    from qgis.PyQt.QtCore import QMetaType

    scope = {"Qgis": Qgis, "QgsFeatureSink": QgsFeatureSink, "QMetaType": QMetaType}
    names = {m.group(0) for path in product_files() for m in SCOPED.finditer(path.read_text(encoding="utf-8"))}
    assert {"Qgis.ProcessingSourceType.PointCloud", "Qgis.ProcessingParameterFlag.Advanced",
            "QgsFeatureSink.Flag.FastInsert", "QMetaType.Type.QString"} <= names
    for name in sorted(names):
        owner, *path = name.split(".")
        value = scope[owner]
        for part in path:
            value = getattr(value, part)          # AttributeError names what is missing
        assert value is not None, name


def test_metadata_spans_qgis_3_40_to_4():
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read(ROOT / "metadata.txt", encoding="utf-8")
    assert parser["general"]["qgisMinimumVersion"] == "3.40"
    assert parser["general"]["qgisMaximumVersion"] == "4.99"

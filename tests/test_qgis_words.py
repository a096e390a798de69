"""Messages in QGIS speak of its parameters, not of the command line's options."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from qgis.core import QgsProcessingException

import copc_builder
import processing
from copc_builder.plugin import qgis_build_algorithm, qgis_support
from copc_builder.plugin.qgis_words import PARAMETERS, in_qgis_words
from fixtures import write_las
from qgis_helpers import RecordingFeedback

pytestmark = pytest.mark.qgis

ROOT = Path(copc_builder.__file__).resolve().parent
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z-]+")
# Options a message may name in QGIS too: a command of another program.
NOT_OURS = {"--pdal-plugin-path",          # 'python -m pdal --pdal-plugin-path', PDAL's own
            "--bucket", "--key", "--upload-id"}  # 'aws s3api abort-multipart-upload ...', the AWS CLI's
# Messages of the command line's `info` only, which QGIS does not run.
CLI_ONLY = {"--png"}


def core_message_texts():
    """Every string the core writes (constants and the constant parts of f-strings), by file."""
    for path in sorted((ROOT / "algorithms").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                      and node.body and isinstance(node.body[0], ast.Expr)
                      and isinstance(node.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                yield path, "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                yield path, node.value


def test_every_option_the_core_names_is_phrased_for_qgis():
    seen = set()
    for path, text in core_message_texts():
        options = set(OPTION.findall(text)) - NOT_OURS - CLI_ONLY
        if not options:
            continue
        seen |= options
        left = set(OPTION.findall(in_qgis_words(text))) - NOT_OURS
        assert not left, f"{path.relative_to(ROOT)}: {text!r} reads in QGIS as {in_qgis_words(text)!r}"
    # the scan finds what it must (a scan that finds nothing proves nothing)
    assert {"--a-srs", "--scale", "--temporal-index", "--recursive", "--scheduler"} <= seen
    assert "pip install 'copc-builder" not in " ".join(in_qgis_words(t) for _, t in core_message_texts())


def test_the_parameters_named_are_those_the_dialog_shows(copc_processing, monkeypatch):
    monkeypatch.setattr(qgis_build_algorithm, "pdal_installed", lambda: True)
    monkeypatch.setattr(qgis_build_algorithm, "dask_installed", lambda: True)
    monkeypatch.setattr(qgis_build_algorithm, "storage_installed", lambda: True)
    alg = qgis_build_algorithm.BuildCopcAlgorithm()
    alg.initAlgorithm()
    labels = [p.description() for p in alg.parameterDefinitions()]
    for option, parameter in PARAMETERS.items():
        assert any(label.startswith(parameter) for label in labels), (option, parameter, labels)


def test_phrases():
    assert in_qgis_words("a.las: no CRS (assign one with --a-srs)") == "a.las: no CRS (assign one with the CRS parameter)"
    assert (in_qgis_words("... does not fit a 32-bit integer; use --scale 0.002 or coarser")
            == "... does not fit a 32-bit integer; set the Scale parameter to 0.002 or coarser")
    assert in_qgis_words("tiles/: 2 subfolders not searched (--recursive searches them)") == (
        "tiles/: 2 subfolders not searched (add their files as inputs)")
    assert in_qgis_words("/data/--scale.laz: bad") == "/data/--scale.laz: bad"      # a path is left alone
    assert in_qgis_words("s3://b/tiles/: 2 subfolders not searched; use --recursive (recursive=True) to search "
                         "below it") == "s3://b/tiles/: 2 subfolders not searched; add the objects below it as inputs"
    assert in_qgis_words("out.vpc: a .vpc lists tiles; give a tile size (--tile-size) to write one") == (
        'out.vpc: a .vpc lists tiles; run "Build COPC tiles (virtual point cloud)" to write one')
    assert in_qgis_words("needs the storage extra: pip install 'copc-builder[storage]'") == (
        'needs the storage extra: run "Install Python dependencies" in the toolbox with Packages: boto3')


def test_a_build_in_qgis_names_the_crs_parameter(copc_processing, tmp_path):
    a = write_las(tmp_path / "a.las", n=300, crs="EPSG:25832")
    b = write_las(tmp_path / "b.las", n=300, crs="EPSG:25833", seed=3)
    with pytest.raises(QgsProcessingException) as caught:
        processing.run("copcbuilder:buildcopc", {"INPUT": [str(a), str(b)], "OUTPUT": str(tmp_path / "x.copc.laz")})
    assert str(caught.value).endswith("assign one CRS to all (the CRS parameter)"), str(caught.value)
    feedback = RecordingFeedback()
    bare = write_las(tmp_path / "bare.las", n=300)
    processing.run("copcbuilder:buildcopc", {"INPUT": [str(bare)], "OUTPUT": str(tmp_path / "bare.copc.laz")},
                   feedback=feedback)
    [warning] = [w for w in feedback.warnings if "no CRS" in w]
    assert warning.endswith("(assign one with the CRS parameter)") and "--" not in warning

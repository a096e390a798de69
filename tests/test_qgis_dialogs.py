"""The algorithm dialogs as a QGIS user sees them: Processing's AlgorithmDialog
made in a QGIS with its GUI (on a virtual screen, in a child process: see
tests/qgis_dialog.py), its help panel and parameter widgets read back."""
from __future__ import annotations

import ast
import html
import re
import tempfile
from pathlib import Path

import pytest

import processing
from copc_builder import build_copc
from copc_builder.demo import write_sample_scene
from qgis_dialog import DIALOG_RUN, run_with_gui
from qgis_helpers import input_points

pytestmark = pytest.mark.qgis

HELP_PANEL = """
from qgis.PyQt.QtWidgets import QTextBrowser
from copc_builder.plugin import qgis_support
for alg_id in ("copcbuilder:buildcopc", "copcbuilder:validatecopc", "copcbuilder:installdependencies"):
    dialog = AlgorithmDialog(QgsApplication.processingRegistry().createAlgorithmById(alg_id))
    panel = dialog.findChild(QTextBrowser, "textShortHelp")
    result[alg_id] = panel.toPlainText()
result["build_command"] = qgis_support.install_command(qgis_support.BUILD_MODULES)
result["validate_command"] = qgis_support.install_command(qgis_support.VALIDATE_MODULES)
result["lazrs_command"] = qgis_support.install_command(["lazrs"])
result["python"] = qgis_support.qgis_python()
"""


@pytest.mark.parametrize("hide_lazrs", [False, True], ids=["installed", "lazrs missing"])
def test_the_help_panel_shows_the_whole_install_command(tmp_path, hide_lazrs):
    """The command holds "numpy<2": the panel renders HTML, so it must arrive escaped."""
    hide = 'sys.modules["lazrs"] = None\n' if hide_lazrs else ""
    seen = run_with_gui(hide + HELP_PANEL, tmp_path / "profile")
    build, validate = seen["copcbuilder:buildcopc"], seen["copcbuilder:validatecopc"]
    assert '"numpy<2"' in seen["build_command"]
    assert f"or {seen['build_command']}." in build
    assert f"or {seen['validate_command']}." in validate
    assert seen["python"] in seen["copcbuilder:installdependencies"]
    assert "numpy<2" in seen["copcbuilder:installdependencies"]
    if hide_lazrs:
        for text in (build, validate):
            assert f"Cannot run yet: missing Python packages: lazrs. Install them with: {seen['lazrs_command']}" in text
    else:
        assert "Cannot run yet" not in build + validate


# -- a run from the dialog, and its History entry -------------------------------------
@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dialog-scenes")
    return [write_sample_scene(folder / "a.laz", points=30_000, seed=5),
            write_sample_scene(folder / "b b.laz", points=20_000, seed=6)]    # a space, for the quoting


def call_parameters(command: str) -> dict:
    """The parameters dict of ``processing.run("id", {...})``, read as Python reads it."""
    call = ast.parse(command, mode="eval").body
    assert isinstance(call, ast.Call) and ast.unparse(call.func) == "processing.run", command
    return ast.literal_eval(call.args[1])


def run_again(command: str, output: Path) -> bytes:
    """The History's "Execute again": its Python command run as QGIS runs it (exec), here."""
    first = output.read_bytes()
    output.unlink()
    exec(command, {"processing": processing})               # noqa: S102 (the History does this)
    again = output.read_bytes()
    assert again == first, "the History's command made other bytes"
    return again


def test_a_dialog_run_with_files_is_run_again_by_its_history_command(copc_processing, scenes, tmp_path):
    """Files picked with "Add File(s)": the log, the History's Python and qgis_process commands name them,
    running that Python command again gives the same bytes, and QGIS never tried them as layers."""
    out = tmp_path / "merged.copc.laz"
    files = [str(p) for p in scenes]
    seen = run_with_gui(DIALOG_RUN + f"""
result.update(run_dialog("copcbuilder:buildcopc", {{"OUTPUT": {str(out)!r}}}, {{"INPUT": {files!r}}}))
""", tmp_path / "profile")
    assert seen["results"]["POINTS"] == str(input_points(scenes))
    params = call_parameters(seen["python_command"])
    assert params["INPUT"] == files and params["OUTPUT"] == str(out)
    assert seen["parameters"]["inputs"]["INPUT"] == files
    assert f"--INPUT={files[0]} --INPUT='{files[1]}'" in seen["process_command"]
    log = html.unescape(seen["log"])
    assert "'INPUT' : ['" in log and all(f in log for f in files)
    assert seen["logged"] == []                    # no "[OGR] Cannot open ....laz", nor anything else
    run_again(seen["python_command"], out)


def test_the_layer_a_dialog_run_adds_bears_the_file_name(scenes, tmp_path):
    """"Open output file after running algorithm" (on by default): the layer is called after the file, in
    the system temp folder too (where QGIS would call it "COPC file", the output's description)."""
    assert str(tmp_path).startswith(tempfile.gettempdir())
    out = tmp_path / "Survey 2026.copc.laz"
    seen = run_with_gui(DIALOG_RUN + f"""
result.update(run_dialog("copcbuilder:buildcopc", {{"OUTPUT": {str(out)!r}}}, {{"INPUT": [{str(scenes[0])!r}]}}))
""", tmp_path / "profile")
    assert seen["results"]["OUTPUT"] == str(out)
    assert seen["layers"] == ["Survey 2026"]


def test_a_dialog_run_from_a_project_layer_is_run_again_by_its_history_command(copc_processing, scenes,
                                                                               tmp_path):
    """A point-cloud layer of the project, chosen in the parameter's own widget: the History names its file."""
    copc = tmp_path / "layer.copc.laz"
    build_copc([scenes[0]], copc)
    out = tmp_path / "from_layer.copc.laz"
    seen = run_with_gui(DIALOG_RUN + f"""
from qgis.core import QgsPointCloudLayer
layer = QgsPointCloudLayer({str(copc)!r}, "survey", "copc")
assert layer.isValid()
QgsProject.instance().addMapLayer(layer)
result.update(run_dialog("copcbuilder:buildcopc", {{"INPUT": [layer.id()], "OUTPUT": {str(out)!r}}}))
""", tmp_path / "profile")
    params = call_parameters(seen["python_command"])
    assert params["INPUT"] == [str(copc)]
    assert seen["logged"] == []
    run_again(seen["python_command"], out)


def test_a_validate_run_is_run_again_by_its_history_command(copc_processing, scenes, tmp_path):
    """Validate COPC on a COPC layer of the project: the History names the file (not copc:///...)."""
    copc = tmp_path / "checked.copc.laz"
    build_copc([scenes[1]], copc)
    report = tmp_path / "report.html"
    seen = run_with_gui(DIALOG_RUN + f"""
from qgis.core import QgsPointCloudLayer
layer = QgsPointCloudLayer({str(copc)!r}, "checked", "copc")
QgsProject.instance().addMapLayer(layer)
result.update(run_dialog("copcbuilder:validatecopc", {{"INPUT": layer.id(), "REPORT": {str(report)!r}}}))
""", tmp_path / "profile")
    params = call_parameters(seen["python_command"])
    assert params["INPUT"] == str(copc)
    assert seen["results"]["VALID"] == "True"
    report.unlink()
    results = {}
    exec("results = " + seen["python_command"], {"processing": processing}, results)    # noqa: S102
    assert results["results"]["VALID"] is True and report.is_file()


def test_validate_is_not_probed_by_ogr_either(copc_processing, scenes, tmp_path):
    """A plain LAZ given to Validate COPC (a file QGIS cannot open): reported, never tried as a layer."""
    seen = run_with_gui(DIALOG_RUN + f"""
result.update(run_dialog("copcbuilder:validatecopc", {{"REPORT": {str(tmp_path / "r.html")!r}}},
                         {{"INPUT": {str(scenes[0])!r}}}))
""", tmp_path / "profile")
    assert seen["results"]["VALID"] == "False"
    assert call_parameters(seen["python_command"])["INPUT"] == str(scenes[0])
    assert seen["logged"] == []


@pytest.mark.parametrize("findings", [None, "TEMPORARY_OUTPUT"], ids=["default", "asked"])
def test_validate_adds_a_layer_only_when_asked(scenes, tmp_path, findings):
    """The dialog's defaults add nothing to the project (no temporary table to save on exit);
    a Findings output chosen in the dialog adds its table."""
    copc = tmp_path / "checked.copc.laz"
    build_copc([scenes[1]], copc)
    panel = {"INPUT": str(copc), "REPORT": str(tmp_path / "r.html")}
    if findings:
        panel["FINDINGS"] = findings
    seen = run_with_gui(DIALOG_RUN + f"""
result.update(run_dialog("copcbuilder:validatecopc", {panel!r}))
""", tmp_path / "profile")
    assert seen["results"]["VALID"] == "True"
    assert seen["layers"] == ([] if findings is None else ["Findings"])
    assert ("FINDINGS" in seen["results"]) == (findings is not None)


# -- the parameters shown, and the help that describes them --------------------------------------
SHOWN = """
import re
from qgis.PyQt.QtWidgets import QTextBrowser
from copc_builder.plugin import qgis_build_algorithm
dialog = AlgorithmDialog(QgsApplication.processingRegistry().createAlgorithmById("copcbuilder:buildcopc"))
result["shown"] = {name: dialog.algorithm().parameterDefinition(name).description()
                   for name in dialog.mainWidget().wrappers}
result["help"] = dialog.findChild(QTextBrowser, "textShortHelp").toHtml()
result["help_text"] = dialog.findChild(QTextBrowser, "textShortHelp").toPlainText()
result["pdal"] = qgis_build_algorithm.pdal_installed()
result["dask"] = qgis_build_algorithm.dask_installed()
"""
HIDE_DASK = 'sys.modules["distributed"] = None   # "import distributed" fails, as in a QGIS without Dask\n'


def described_parameters(help_text: str) -> set:
    """The parameter names the help's Parameters section puts in bold."""
    section = help_text.split("Parameters", 1)[1].split("Outputs", 1)[0]
    return set(re.findall(r"<b>([^<]+)</b>", html.unescape(re.sub(r"<span[^>]*font-weight:\d+[^>]*>([^<]+)</span>",
                                                                     r"<b>\1</b>", section))))


@pytest.mark.parametrize("hide", ["", HIDE_DASK], ids=["with Dask", "without Dask"])
def test_the_help_describes_the_parameters_the_dialog_shows(tmp_path, hide):
    seen = run_with_gui(SHOWN, tmp_path / "profile", before=hide)
    assert seen["dask"] == (not hide)
    shown = seen["shown"]
    assert ("DASK_SCHEDULER" in shown and "DASK_WORKERS" in shown) == seen["dask"]
    assert ("PIPELINE" in shown) == seen["pdal"]
    described = described_parameters(seen["help"])
    # every parameter shown is described, by the start of its label, and nothing else is
    for name, label in shown.items():
        assert any(label.startswith(d) for d in described), (name, label, described)
    for d in described:
        assert any(label.startswith(d) for label in shown.values()), (d, shown)
    text = seen["help_text"]
    assert "pip install 'copc-builder" not in text
    if not seen["dask"]:
        assert 'run Install Python dependencies with Packages distributed' in " ".join(text.split())
    if not seen["pdal"]:
        assert "a PDAL pipeline parameter appears here" in " ".join(text.split())

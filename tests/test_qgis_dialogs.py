"""The algorithm dialogs as a QGIS user sees them: Processing's AlgorithmDialog
made in a QGIS with its GUI (on a virtual screen, in a child process: see
tests/qgis_dialog.py), its help panel and parameter widgets read back."""
from __future__ import annotations

import pytest

from qgis_dialog import run_with_gui

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

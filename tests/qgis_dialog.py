"""Run a script in a QGIS with its GUI, on a virtual screen, and read back what it saw.

The test session's own QGIS is started without a GUI (pytest-qgis with
qgis_gui_enabled = false), and Qt widgets cannot be made there; Processing's
dialogs (AlgorithmDialog, its parameter widgets, the help panel) are made in
a child Python instead: a QgsApplication with its GUI on QT_QPA_PLATFORM=
offscreen, Processing initialised, the COPC Builder provider registered, a
throwaway profile.  The script's ``result`` dict comes back as JSON.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

PRELUDE = """
import json, os, sys
from qgis.core import QgsApplication
app = QgsApplication([], True)
app.initQgis()
sys.path.append(os.path.join(QgsApplication.pkgDataPath(), "python", "plugins"))
from processing.core.Processing import Processing
Processing.initialize()
from copc_builder.plugin.qgis_provider import CopcBuilderProvider
provider = CopcBuilderProvider()
assert QgsApplication.processingRegistry().addProvider(provider)
from processing.gui.AlgorithmDialog import AlgorithmDialog
result = {}
"""

EPILOGUE = """
print("RESULT " + json.dumps(result))
sys.stdout.flush()
os._exit(0)      # the dialogs' teardown at exit is not under test
"""


def run_with_gui(script: str, profile, timeout: float = 300, env: dict = None, before: str = "") -> dict:
    """Run ``script`` (after PRELUDE: ``app``, ``provider``, ``AlgorithmDialog``, ``result``) in a child
    QGIS; ``before`` runs first (before QGIS starts and the provider makes its algorithms)."""
    code = "import sys\n" + textwrap.dedent(before) + PRELUDE + textwrap.dedent(script) + EPILOGUE
    child_env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QGIS_CUSTOM_CONFIG_PATH=str(profile),
                     PROJ_DATA=os.environ.get("PROJ_DATA", "/usr/share/proj"))
    child_env.update(env or {})
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=child_env,
                         timeout=timeout)
    lines = [line for line in run.stdout.splitlines() if line.startswith("RESULT ")]
    assert run.returncode == 0 and lines, (run.stdout[-3000:], run.stderr[-3000:])
    return json.loads(lines[-1][len("RESULT "):])


# What a user's click on Run does, then what QGIS kept: the History entry
# (its Python command, qgis_process command, parameters and log), every
# message QGIS logged outside Processing's own, and the project's layers.
# ``panel`` values are set through the dialog's parameter widgets;
# ``chosen`` values replace the widgets' for what a widget takes only from a
# file picker (LAS/LAZ files that QGIS cannot open as layers).
DIALOG_RUN = """
import time
from qgis.core import QgsProject
from qgis.gui import QgsGui
from qgis.PyQt.QtCore import QDateTime

logged = []
QgsApplication.messageLog().messageReceived.connect(
    lambda message, tag, level: logged.append([tag, message]) if tag != "Processing" else None)


def run_dialog(alg_id, panel, chosen=None, timeout=240):
    dialog = AlgorithmDialog(QgsApplication.processingRegistry().createAlgorithmById(alg_id))
    dialog.setParameters(panel)
    chosen = chosen or {}
    for name in chosen:             # the widget is empty until the picker fills it: not a user error
        dialog.algorithm().parameterDefinition(name).checkValueIsAcceptable = lambda *args: True
    built = dialog.mainWidget().createProcessingParameters()
    for name in chosen:
        del dialog.algorithm().parameterDefinition(name).checkValueIsAcceptable
    built.update(chosen)
    dialog.mainWidget().createProcessingParameters = lambda *args: dict(built)
    before = len(QgsGui.historyProviderRegistry().queryEntries(QDateTime(), QDateTime(), "processing"))
    dialog.runAlgorithm()
    deadline = time.monotonic() + timeout
    entries = []
    while time.monotonic() < deadline:
        app.processEvents()
        entries = QgsGui.historyProviderRegistry().queryEntries(QDateTime(), QDateTime(), "processing")
        if len(entries) > before and "results" in entries[-1].entry:
            break
        time.sleep(0.05)
    for _ in range(20):             # the layers loaded on completion
        app.processEvents()
        time.sleep(0.01)
    entry = entries[-1].entry if len(entries) > before else {}
    return {
        "python_command": entry.get("python_command"),
        "process_command": entry.get("process_command"),
        "parameters": entry.get("parameters"),
        "results": {k: str(v) for k, v in (entry.get("results") or {}).items()},
        "log": entry.get("log"),
        "logged": list(logged),
        "layers": sorted(layer.name() for layer in QgsProject.instance().mapLayers().values()),
    }
"""

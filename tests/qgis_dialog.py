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


def run_with_gui(script: str, profile, timeout: float = 300, env: dict = None) -> dict:
    """Run ``script`` (after PRELUDE: ``app``, ``provider``, ``AlgorithmDialog``, ``result``) in a child QGIS."""
    code = PRELUDE + textwrap.dedent(script) + EPILOGUE
    child_env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QGIS_CUSTOM_CONFIG_PATH=str(profile),
                     PROJ_DATA=os.environ.get("PROJ_DATA", "/usr/share/proj"))
    child_env.update(env or {})
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=child_env,
                         timeout=timeout)
    lines = [line for line in run.stdout.splitlines() if line.startswith("RESULT ")]
    assert run.returncode == 0 and lines, (run.stdout[-3000:], run.stderr[-3000:])
    return json.loads(lines[-1][len("RESULT "):])

"""The build's numba kernels in QGIS, on a fresh numba cache (NUMBA_CACHE_DIR):
a build that would compile says so and compiles first; the plugin's first start
compiles them in the background, once, with a message.  (After "Install Python
dependencies": tests/test_qgis_install_fresh.py; the times: benchmarks/qgis_first_build.py.)"""
from __future__ import annotations

import os
import subprocess
import sysconfig

import pytest

from copc_builder.algorithms.build.kernel_warm import STEPS
from copc_builder.demo import write_sample_scene
from qgis_dialog import run_with_gui
from qgis_helpers import stable_plugin_folder
from test_qgis_install_fresh import QGIS_PROCESS

pytestmark = [pytest.mark.qgis, pytest.mark.slow]


def test_a_build_on_a_fresh_cache_says_it_compiles_and_the_next_one_does_not(tmp_path):
    scene = write_sample_scene(tmp_path / "scene.laz", points=20_000, seed=3)
    env = dict(os.environ, QGIS_PLUGINPATH=str(stable_plugin_folder()), QT_QPA_PLATFORM="offscreen",
               QGIS_CUSTOM_CONFIG_PATH=str(tmp_path / "profile"), NUMBA_CACHE_DIR=str(tmp_path / "numba"),
               PYTHONPATH=sysconfig.get_paths()["purelib"], PROJ_DATA=os.environ.get("PROJ_DATA", "/usr/share/proj"))
    enabled = subprocess.run([QGIS_PROCESS, "plugins", "enable", "copc_builder"], capture_output=True, text=True,
                             env=env, timeout=300)
    assert "* copc_builder" in enabled.stdout, enabled.stderr

    def build(name):
        run = subprocess.run([QGIS_PROCESS, "run", "copcbuilder:buildcopc", "--", f"INPUT={scene}",
                              f"OUTPUT={tmp_path / name}"], capture_output=True, text=True, env=env, timeout=900)
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
        return run.stdout

    first, second = build("first.copc.laz"), build("second.copc.laz")
    assert "The build's kernels are not compiled yet: compiling them first, once" in first
    for i in range(1, STEPS + 1):
        assert f"Compiling the build's kernels, once ({i} of {STEPS})" in first   # the progress text, step by step
    assert first.index("Compiling the build's kernels") < first.index("Reading points into the node store")
    assert "Kernels compiled in " in first
    assert "Compiling" not in second and "not compiled" not in second
    assert (tmp_path / "first.copc.laz").read_bytes() == (tmp_path / "second.copc.laz").read_bytes()


FIRST_START = """
import time
from qgis.core import QgsMessageLog, QgsSettings
from qgis.gui import QgsMessageBar
import copc_builder
from copc_builder.plugin import qgis_kernels

logged = []
QgsApplication.messageLog().messageReceived.connect(
    lambda message, tag, level: logged.append(message) if tag == "COPC Builder" else None)


class Iface:      # the one part of QGIS's iface the plugin uses here, with QGIS's own message bar
    bar = QgsMessageBar()

    def messageBar(self):
        return self.bar


QgsApplication.processingRegistry().removeProvider("copcbuilder")
plugin = copc_builder.classFactory(Iface())
plugin.initGui()
task = plugin.compile_task
result["started"] = task is not None
result["bar"] = [[item.title(), item.text()] for item in Iface.bar.items()]
deadline = time.monotonic() + 900
while QgsApplication.taskManager().countActiveTasks() and time.monotonic() < deadline:
    app.processEvents()
    time.sleep(0.05)
for _ in range(20):
    app.processEvents()
    time.sleep(0.01)
result["logged"] = list(logged)
result["setting"] = QgsSettings().value(qgis_kernels.SETTING, "")
from copc_builder.algorithms.api import kernels_compiled
result["compiled"] = kernels_compiled()
plugin.unload()
again = copc_builder.classFactory(Iface())
again.initGui()
result["second_start"] = again.compile_task is not None
again.unload()
"""


def test_the_first_start_compiles_in_the_background_once(tmp_path):
    seen = run_with_gui(FIRST_START, tmp_path / "profile", timeout=1200,
                        env={"NUMBA_CACHE_DIR": str(tmp_path / "numba")})
    assert seen["started"]
    assert seen["bar"] == [["COPC Builder", "Compiling the build's kernels, once (up to a minute), so that no "
                                            "build waits on it (in the background)."]]
    assert "Compiling the build's kernels, once (up to a minute), so that no build waits on it (in the " \
           "background)." in seen["logged"]
    assert any(m.startswith("The build's kernels: compiled in ") for m in seen["logged"]), seen["logged"]
    assert seen["compiled"] is True                       # in the cache a build of this QGIS reads
    assert seen["setting"].startswith("0.1.0|")
    assert seen["second_start"] is False                  # once, not at every start

"""copcbuilder:installdependencies in real QGIS: real pip, real packages, a real kill.

The install test downloads a small pure-Python package (cowsay, 25 kB, not
a dependency of anything here) into a throwaway folder and imports it in
this same process; the cancel test points pip at a local server that never
answers and checks that Cancel kills pip.
"""
import importlib
import importlib.util
import os
import socket
import sys
import threading
import time

import pytest
from qgis.core import Qgis, QgsApplication, QgsProcessingException

import processing
from copc_builder.plugin import pip_runner, qgis_build_algorithm, qgis_support
from copc_builder.plugin.qgis_install_algorithm import package_list
from qgis_helpers import RecordingFeedback

pytestmark = pytest.mark.qgis

ALG = "copcbuilder:installdependencies"
PACKAGE = "cowsay"


@pytest.fixture
def clean_import_state():
    """sys.path and sys.modules as before the test: the package must not leak into others."""
    path, modules = list(sys.path), set(sys.modules)
    yield
    sys.path[:] = path
    for name in set(sys.modules) - modules:
        if name.split(".")[0] == PACKAGE:
            del sys.modules[name]
    importlib.invalidate_caches()


def test_algorithm_is_registered(copc_processing):
    alg = QgsApplication.processingRegistry().algorithmById(ALG)
    assert alg.displayName() == "Install Python dependencies"
    assert alg.groupId() == "pointclouddatamanagement"
    assert [p.name() for p in alg.parameterDefinitions()] == ["PACKAGES", "TARGET"]
    target = alg.parameterDefinition("TARGET")
    assert target.behavior() == Qgis.ProcessingFileParameterBehavior.Folder
    assert target.flags() & Qgis.ProcessingParameterFlag.Advanced
    # not hidden from models: qgis_process list leaves such algorithms out
    assert not alg.flags() & Qgis.ProcessingAlgorithmFlag.HideFromModeler
    assert alg.canExecute() == (True, "")
    assert "pip install" in alg.shortHelpString()


def test_the_python_found_is_this_one():
    """Inside QGIS sys.executable can be QGIS itself; the interpreter found must be a Python
    of this installation, running this Python version."""
    import subprocess

    python = qgis_support.python_executable()
    assert python and os.path.basename(python).startswith("python")
    assert os.path.dirname(os.path.dirname(python)) in (sys.exec_prefix, sys.base_exec_prefix)
    run = subprocess.run([python, "-c", "import sys; print(sys.version_info[:2], sys.prefix)"],
                         capture_output=True, text=True, timeout=60)
    assert run.stdout.strip() == f"{tuple(sys.version_info[:2])} {sys.prefix}"


def test_package_list_refuses_pip_options():
    assert package_list(" numba, laspy  lz4,\n'numpy<2'".replace("'", "")) == ["numba", "laspy", "lz4", "numpy<2"]
    with pytest.raises(QgsProcessingException, match="--index-url: give package names, not pip options"):
        package_list("numba --index-url http://x")


def test_installs_into_a_target_folder_and_imports_without_restart(copc_processing, tmp_path,
                                                                   clean_import_state, monkeypatch):
    assert importlib.util.find_spec(PACKAGE) is None, f"{PACKAGE} is installed already: pick another package"
    # Build COPC as made before Dask was there (no Dask parameters) ...
    monkeypatch.setattr(qgis_build_algorithm, "dask_installed", lambda: False)
    copc_processing.refreshAlgorithms()
    registry = QgsApplication.processingRegistry()
    assert registry.algorithmById("copcbuilder:buildcopc").parameterDefinition("DASK_WORKERS") is None
    monkeypatch.undo()                                 # ... and Dask there once the installer ends
    target = tmp_path / "site"
    feedback = RecordingFeedback()
    result = processing.run(ALG, {"PACKAGES": PACKAGE, "TARGET": str(target)}, feedback=feedback)
    # the provider's algorithms were made again: parameters needing a new package appear at once
    assert registry.algorithmById("copcbuilder:buildcopc").parameterDefinition("DASK_WORKERS") is not None

    assert result["INSTALLED"].startswith(f"{PACKAGE}==")
    assert result["FOLDER"] == str(target)
    assert (target / PACKAGE / "__init__.py").is_file()
    assert any(f"Successfully installed {PACKAGE}" in line for line in feedback.console)   # pip's output, streamed
    resolve, install = feedback.commands               # which versions, then those and nothing else
    assert "-m pip install --dry-run --report" in resolve and "--target" not in resolve
    assert "-m pip install" in install and "--target" in install and "--no-deps" in install
    assert f" {result['INSTALLED']} " in install
    assert str(target) in sys.path
    module = importlib.import_module(PACKAGE)               # this process, no restart
    assert os.path.dirname(module.__file__) == str(target / PACKAGE)
    assert callable(module.cow)


def test_a_pip_failure_is_an_error_with_pip_output(copc_processing, tmp_path, monkeypatch):
    index = tmp_path / "index"
    index.mkdir()
    monkeypatch.setenv("PIP_INDEX_URL", index.as_uri())     # an empty index: nothing to find
    monkeypatch.setenv("PIP_FIND_LINKS", str(index))
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "")
    feedback = RecordingFeedback()
    with pytest.raises(QgsProcessingException, match=r"pip found no versions of copc-builder-no-such-package "
                                                     r"that work with the packages QGIS's Python has"):
        processing.run(ALG, {"PACKAGES": "copc-builder-no-such-package", "TARGET": str(tmp_path / "t")},
                       feedback=feedback)
    assert any("No matching distribution" in line for line in feedback.console)


class StalledIndex:
    """A local 'package index' that accepts connections and never answers; it
    notes when a client connected and when that client went away."""

    def __init__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(4)
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}/simple"
        self.connected = threading.Event()
        self.closed_at = None
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        conn, _ = self.server.accept()
        self.connected.set()
        conn.settimeout(30)
        try:
            while conn.recv(4096):          # the request, then nothing until the client dies
                pass
        except OSError:
            pass
        self.closed_at = time.monotonic()
        conn.close()


class CancelWhenConnected(RecordingFeedback):
    def __init__(self, index):
        super().__init__()
        self.index = index
        self.cancelled_at = None

    def pushConsoleInfo(self, info):  # noqa: N802
        super().pushConsoleInfo(info)
        if self.cancelled_at is None:
            # Marked before the thread starts: a thread that finds the index
            # connected at once sets the real time, which must not be overwritten.
            self.cancelled_at = -1.0
            threading.Thread(target=self._cancel_once_connected, daemon=True).start()

    def _cancel_once_connected(self):
        if self.index.connected.wait(60):
            self.cancelled_at = time.monotonic()
            self.cancel()


def test_cancel_kills_pip(copc_processing, tmp_path, monkeypatch):
    index = StalledIndex()
    monkeypatch.setenv("PIP_INDEX_URL", index.url)
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "")
    monkeypatch.setenv("PIP_FIND_LINKS", "")
    monkeypatch.setenv("PIP_DEFAULT_TIMEOUT", "300")
    target = tmp_path / "t"
    feedback = CancelWhenConnected(index)
    with pytest.raises(QgsProcessingException, match="Installation cancelled: pip was stopped"):
        processing.run(ALG, {"PACKAGES": "copc-builder-stalled-package", "TARGET": str(target)},
                       feedback=feedback)
    stopped = time.monotonic()
    assert index.connected.is_set() and feedback.cancelled_at > 0
    assert stopped - feedback.cancelled_at < 2.0            # pip was waiting on the index: it was killed
    deadline = time.monotonic() + 5
    while index.closed_at is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert index.closed_at is not None                       # its connection died with it
    assert not any(target.glob("copc_builder_stalled*"))


def test_make_importable_adds_a_folder_once(tmp_path, clean_import_state):
    folder = tmp_path / "extra"
    folder.mkdir()
    (folder / "copc_builder_probe_mod.py").write_text("VALUE = 7\n")
    assert pip_runner.make_importable(str(folder)) == str(folder)
    assert pip_runner.make_importable(str(folder)) is None      # already there
    assert sys.path.count(str(folder)) == 1
    assert importlib.import_module("copc_builder_probe_mod").VALUE == 7
    del sys.modules["copc_builder_probe_mod"]


def test_nothing_missing_still_compiles_and_loads_the_kernels(copc_processing):
    """Run with every package there (installed by hand, say): nothing installed, pip never runs, and
    the build's kernels are compiled (here: found in numba's cache) and loaded into this QGIS."""
    from copc_builder.algorithms.api import kernels_compiled

    feedback = RecordingFeedback()
    result = processing.run(ALG, {}, feedback=feedback)
    assert result["INSTALLED"] == ""
    assert feedback.infos[0] == "Nothing to install: numpy, numba, laspy, lazrs, lz4 all import."
    assert any(line.startswith("The build's kernels are compiled and loaded (") for line in feedback.infos)
    assert feedback.commands == [] and kernels_compiled() is True

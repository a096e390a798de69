"""What the QGIS algorithms share: the dependency check and the progress bridge.

Importing this module imports qgis.core but none of the core's third-party
dependencies (numpy, numba, laspy, lazrs): QGIS must start, and the toolbox
must list the algorithms, even when they are missing from QGIS's Python.
"""
from __future__ import annotations

import html
import importlib
import importlib.util
import os
import site
import sys
import sysconfig
from typing import Iterable, List, Optional, Tuple

from qgis.core import QgsProcessingAlgorithm, QgsProcessingFeedback
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon

from .qgis_words import in_qgis_words

PLUGIN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ICON_PATH = os.path.join(PLUGIN_DIR, "icon.svg")
HOMEPAGE = "https://github.com/copc-builder/copc_builder"

# Import name -> pip name.  What each algorithm needs to run.
BUILD_MODULES = ("numpy", "numba", "laspy", "lazrs", "lz4")
VALIDATE_MODULES = ("numpy", "lazrs")
INSTALLER = '"Install Python dependencies"'   # the algorithm that installs them
PIP_NAMES = {"numpy": "numpy<2", "numba": "numba", "laspy": "laspy", "lazrs": "lazrs", "lz4": "lz4"}


def findable(name: str) -> bool:
    """Is module ``name`` installed?  Found without importing it."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):   # a None entry in sys.modules, a broken parent
        return False


def missing_modules(modules: Iterable[str]) -> List[Tuple[str, str]]:
    """(module, why) for each module that cannot be imported; [] when all can.

    A module that is installed but fails to import (numba built for another
    numpy, say) is reported with the reason, which is what a user needs.
    """
    missing = []
    for name in modules:
        if not findable(name):
            missing.append((name, "not installed"))
            continue
        try:
            importlib.import_module(name)
        except Exception as exc:   # any failure on import means the module is unusable here
            missing.append((name, f"installed but cannot be imported: {type(exc).__name__}: {exc}"))
    return missing


def python_executable() -> Optional[str]:
    """The Python interpreter QGIS runs on (a path), or None when none is found.

    Inside QGIS ``sys.executable`` is often QGIS itself (qgis-bin.exe, the
    QGIS.app binary) or whatever ``python3`` comes first on PATH (a pyenv
    shim, say), so the interpreter is looked for under ``sys.exec_prefix``
    first: that is the installation whose packages QGIS imports.  Then under
    ``sys.base_exec_prefix`` (the same unless in a virtualenv), then
    ``sys.executable`` when it is a Python.
    """
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    candidates = []
    for prefix in dict.fromkeys((sys.exec_prefix, sys.base_exec_prefix)):
        if os.name == "nt":
            candidates.append(os.path.join(prefix, "python.exe"))
        else:
            candidates += [os.path.join(prefix, "bin", f"python{version}"), os.path.join(prefix, "bin", "python3")]
    exe = sys.executable or ""
    if os.path.basename(exe).lower().startswith("python"):
        candidates.append(exe)
    return next((path for path in candidates if os.path.isfile(path)), None)


def spawn_python_processes() -> Optional[str]:
    """New processes that ``multiprocessing`` spawns (a local Dask cluster's
    workers) run QGIS's Python, not QGIS itself.

    Returns None when that holds, else what is wrong: inside QGIS
    ``sys.executable`` is often the QGIS binary, and a worker started with it
    would be a second QGIS.
    """
    import multiprocessing
    import multiprocessing.spawn

    current = os.fsdecode(multiprocessing.spawn.get_executable() or "")   # bytes on POSIX
    if os.path.basename(current).lower().startswith("python"):
        return None
    python = python_executable()
    if python is None:
        return ("local Dask workers run in new Python processes, and QGIS's Python interpreter was not "
                f"found beside {sys.exec_prefix}; give a Dask scheduler instead")
    multiprocessing.set_executable(python)
    return None


def qgis_python() -> str:
    """The Python interpreter QGIS runs on, as a command to type."""
    path = python_executable()
    if path is None:
        return "python" if os.name == "nt" else "python3"
    return f'"{path}"' if " " in path else path


def externally_managed() -> bool:
    """Debian/Ubuntu mark the system Python so plain ``pip install`` refuses."""
    stdlib = sysconfig.get_paths().get("stdlib") or ""
    return os.path.isfile(os.path.join(stdlib, "EXTERNALLY-MANAGED"))


def pip_install_flags() -> List[str]:
    """Where ``pip install`` puts packages so QGIS's Python imports them.

    The user site when this Python reads one (no admin rights needed, and it
    outlives a QGIS upgrade of the same Python version), the environment
    itself in a virtualenv (which hides the user site).
    """
    if sys.prefix != sys.base_prefix or not site.ENABLE_USER_SITE:
        return []
    return ["--user", "--break-system-packages"] if externally_managed() else ["--user"]


def pip_names(modules: Iterable[str]) -> List[str]:
    return [PIP_NAMES.get(m, m) for m in modules]


def install_command(modules: Iterable[str]) -> str:
    quoted = [f'"{n}"' if "<" in n or ">" in n else n for n in pip_names(modules)]
    return " ".join([qgis_python(), "-m", "pip", "install"] + pip_install_flags() + quoted)


def dependency_problem(modules: Iterable[str]) -> Optional[str]:
    """None when every module imports, else one message saying what and how."""
    missing = missing_modules(modules)
    if not missing:
        return None
    names = ", ".join(name for name, _ in missing)
    details = "; ".join(f"{name} {why}" for name, why in missing if why != "not installed")
    text = f"missing Python packages: {names}"
    if details:
        text += f" ({details})"
    return (f"{text}. Install them into QGIS's Python with: {install_command(m for m, _ in missing)} "
            f"(or run {INSTALLER} in the toolbox)")


def dependency_help(modules: Iterable[str]) -> str:
    """A paragraph for shortHelpString: the requirements, and a warning if unmet.

    The help panel renders HTML: a command holds ``"numpy<2"``, so every
    text put in is escaped (else the panel shows ``"numpy.`` and stops).
    """
    modules = list(modules)
    problem = dependency_problem_cheap(modules)
    text = (f"<p><b>Python packages needed</b>: {', '.join(modules)}, installed into QGIS's own "
            f"Python: run <i>{html.escape(INSTALLER)}</i> in the toolbox, or "
            f"<code>{html.escape(install_command(modules))}</code>.</p>")
    if problem:
        text = f"<p><b>Cannot run yet</b>: {html.escape(problem)}</p>" + text
    return text


def dependency_problem_cheap(modules: Iterable[str]) -> Optional[str]:
    """Like dependency_problem but without importing anything (for help texts)."""
    missing = [name for name in modules if not findable(name)]
    if not missing:
        return None
    return (f"missing Python packages: {', '.join(missing)}. Install them with: "
            f"{install_command(missing)}")


class CopcAlgorithm(QgsProcessingAlgorithm):
    """What the provider's algorithms share: their group, icon and help page."""

    def group(self) -> str:
        return QCoreApplication.translate("CopcBuilder", "Point cloud data management")

    def groupId(self) -> str:  # noqa: N802
        return "pointclouddatamanagement"

    def icon(self):
        return QIcon(ICON_PATH)

    def helpUrl(self) -> str:  # noqa: N802
        return HOMEPAGE


class FeedbackObserver:
    """The core's observer, reporting onto a QgsProcessingFeedback.

    The core's overall fraction already never goes back (each stage owns a
    fixed share); the bar here keeps the maximum anyway, so a host never sees
    it refill whatever the events.  A stage change becomes the progress text
    (which the algorithm dialog also logs); core warnings become Processing
    warnings.
    """

    def __init__(self, feedback: Optional[QgsProcessingFeedback], stage_texts: dict):
        self.feedback = feedback if feedback is not None else QgsProcessingFeedback()
        self.stage_texts = stage_texts
        self.stage = None
        self.percent = 0.0

    def start(self) -> None:
        self.feedback.setProgress(0.0)

    def on_progress(self, event) -> None:
        if event.stage != self.stage:
            self.stage = event.stage
            # The dialog logs progress texts too, and qgis_process prints
            # them: one call, so each stage shows once.
            self.feedback.setProgressText(self.stage_texts.get(event.stage, event.stage))
        percent = min(100.0, 100.0 * float(event.fraction))
        if percent > self.percent:
            self.percent = percent
            self.feedback.setProgress(percent)

    def on_message(self, level: str, text: str) -> None:
        text = in_qgis_words(text)
        if level == "warning":
            self.feedback.pushWarning(text)
        else:
            self.feedback.pushInfo(text)

    def finish(self) -> None:
        if self.percent < 100.0:
            self.percent = 100.0
            self.feedback.setProgress(100.0)


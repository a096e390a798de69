"""The build's numba kernels compiled before a QGIS user's first build waits on them.

numba compiles each kernel on its first use (half a minute to a minute for all of
them) and keeps the result in its cache; a first build on a fresh cache sat
at "Reading points into the node store, 45 %" for that long.  So the
kernels are compiled (``warm_kernels`` of the core):

- by "Install Python dependencies", in a fresh QGIS Python (a child
  process) once the packages import, then loaded in QGIS's own from the
  cache, so the session's first build is as quick as the next;
- once on the plugin's first start with the packages there, by a background
  QgsTask running a child Python, with a message (QGIS's own Python is left
  free: numba holds the GIL while it compiles);
- by a build that finds them not compiled, first, saying so.

QGIS's settings remember for which plugin, numba and Python the start-up
compile ran, so it runs once, not at every start.
"""
from __future__ import annotations

import importlib.metadata
import sys
from typing import Callable, List, Optional

from qgis.core import Qgis, QgsApplication, QgsMessageLog, QgsSettings, QgsTask

from copc_builder import __version__

from .pip_plan import python_path_env, site_path
from .pip_runner import PipCancelled, run_pip
from .qgis_support import BUILD_MODULES, PLUGIN_DIR, findable, python_executable

TAG = "COPC Builder"
SETTING = "copc_builder/kernels_compiled_for"
PREFIX = "COPC_BUILDER_KERNELS "
COMPILING = "Compiling the build's kernels, once (up to a minute), so that no build waits on it"

WARM_CHILD = f"""
from copc_builder.algorithms.api import kernels_compiled, warm_kernels
if kernels_compiled():
    print({PREFIX!r} + "already compiled", flush=True)
else:
    seconds = warm_kernels(on_step=lambda i, n: print({PREFIX!r} + f"step {{i + 1}} of {{n}}", flush=True))
    print({PREFIX!r} + f"compiled in {{seconds:.1f}} s", flush=True)
"""


def fingerprint() -> Optional[str]:
    """What a compile is good for: this plugin (version, folder), numba and Python; None without numba."""
    try:
        numba = importlib.metadata.version("numba")
    except importlib.metadata.PackageNotFoundError:
        return None
    return f"{__version__}|{PLUGIN_DIR}|numba {numba}|python {sys.version_info[0]}.{sys.version_info[1]}"


def remember_compiled() -> None:
    value = fingerprint()
    if value:
        QgsSettings().setValue(SETTING, value)


def warm_in_child(target: Optional[str], on_line: Callable[[str], None], cancelled: Callable[[], bool]) -> int:
    """Compile the kernels in a new QGIS Python (``target`` first on its path); its exit code.
    Its progress lines go to ``on_line``; PipCancelled when ``cancelled`` stopped it."""
    python = python_executable()
    if python is None:
        raise OSError("QGIS's Python interpreter was not found")
    return run_pip([python, "-c", WARM_CHILD], on_line, cancelled, env=python_path_env(site_path(target)))


def progress_lines(lines: List[str]) -> List[str]:
    """The child's own progress lines, without their prefix."""
    return [line[len(PREFIX):] for line in lines if line.startswith(PREFIX)]


class KernelCompileTask(QgsTask):
    """The start-up compile: a child Python, in QGIS's task manager (cancelable)."""

    def __init__(self):
        super().__init__(f"{TAG}: compiling the build's kernels")
        self.lines: List[str] = []
        self.problem = ""

    def run(self) -> bool:
        try:
            code = warm_in_child(None, self.lines.append, self.isCanceled)
        except PipCancelled:
            self.problem = "cancelled"
            return False
        except OSError as exc:
            self.problem = str(exc)
            return False
        self.problem = "" if code == 0 else f"exit code {code}: {' | '.join(self.lines[-3:])}"
        return code == 0

    def finished(self, ok: bool) -> None:   # in QGIS's main thread
        if ok:
            remember_compiled()
            done = (progress_lines(self.lines) or ["compiled"])[-1]
            QgsMessageLog.logMessage(f"The build's kernels: {done}", TAG, Qgis.MessageLevel.Info)
        elif self.problem == "cancelled":
            QgsMessageLog.logMessage("Compiling the build's kernels stopped; the first build compiles them",
                                     TAG, Qgis.MessageLevel.Info)
        else:
            QgsMessageLog.logMessage(f"Compiling the build's kernels failed ({self.problem}); the first build "
                                     f"compiles them", TAG, Qgis.MessageLevel.Warning)


def start_compile(iface=None) -> Optional[KernelCompileTask]:
    """On the plugin's start: the background compile, when the packages are there and it has not
    run for this plugin, numba and Python yet; None otherwise."""
    if not all(findable(name) for name in BUILD_MODULES):
        return None                       # the installer compiles them once it has installed them
    value = fingerprint()
    if value is None or QgsSettings().value(SETTING, "") == value:
        return None
    task = KernelCompileTask()
    QgsApplication.taskManager().addTask(task)
    QgsMessageLog.logMessage(f"{COMPILING} (in the background).", TAG, Qgis.MessageLevel.Info)
    if iface is not None:
        iface.messageBar().pushMessage(TAG, f"{COMPILING} (in the background).", Qgis.MessageLevel.Info, 10)
    return task


def compile_before_build(feedback) -> None:
    """In a build (its thread): compile the kernels first when a build would, saying so; a cancel
    stops it as it stops a build (BuildCancelled)."""
    from copc_builder.algorithms.api import kernels_compiled, warm_kernels

    if kernels_compiled() is not False:
        return
    feedback.pushInfo("The build's kernels are not compiled yet: compiling them first, once (up to a minute; "
                      "later builds skip this)")

    def step(i: int, n: int) -> None:
        feedback.setProgressText(f"Compiling the build's kernels, once ({i + 1} of {n})")

    seconds = warm_kernels(on_step=step, cancel=feedback.isCanceled)
    feedback.pushInfo(f"Kernels compiled in {seconds:.1f} s")
    remember_compiled()

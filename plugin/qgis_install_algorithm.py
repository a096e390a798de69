"""Processing algorithm copcbuilder:installdependencies, "Install Python dependencies".

Runs pip with the Python QGIS runs on, so a user whose QGIS lacks numba,
laspy, lazrs or lz4 installs them from the toolbox: pip's output streams to
the log, Cancel kills pip, and the new modules import without restarting
QGIS (unless an older version of one was already imported).
"""
from __future__ import annotations

import html
import os
import re
from typing import List

from qgis.core import (
    Qgis,
    QgsProcessingException,
    QgsProcessingOutputFolder,
    QgsProcessingOutputString,
    QgsProcessingParameterFile,
    QgsProcessingParameterString,
)
from qgis.PyQt.QtCore import QCoreApplication

from .pip_runner import PipCancelled, make_importable, pip_command, run_pip
from .qgis_support import (BUILD_MODULES, CopcAlgorithm, dependency_problem, findable, missing_modules,
                           pip_install_flags, pip_names, python_executable, qgis_python)


def _tr(text: str) -> str:
    return QCoreApplication.translate("InstallDependenciesAlgorithm", text)


def package_list(text: str) -> List[str]:
    """Requirement strings from "numba, laspy lz4"; pip options are refused."""
    names = [n for n in re.split(r"[\s,]+", text or "") if n]
    options = [n for n in names if n.startswith("-")]
    if options:
        raise QgsProcessingException(f"{options[0]}: give package names, not pip options")
    return names


class InstallDependenciesAlgorithm(CopcAlgorithm):
    PACKAGES = "PACKAGES"
    TARGET = "TARGET"
    INSTALLED = "INSTALLED"
    FOLDER = "FOLDER"

    def createInstance(self):  # noqa: N802
        return InstallDependenciesAlgorithm()

    def name(self) -> str:
        return "installdependencies"

    def displayName(self) -> str:  # noqa: N802
        return _tr("Install Python dependencies")

    def tags(self):
        return _tr("pip,install,dependencies,numba,laspy,lazrs,lz4,python,packages").split(",")

    def shortDescription(self) -> str:  # noqa: N802
        return _tr("Installs the Python packages the COPC algorithms need into QGIS's Python, with pip.")

    def shortHelpString(self) -> str:  # noqa: N802
        missing = ", ".join(name for name, _ in missing_modules_cheap()) or _tr("none")
        return _tr(
            "<p>Runs <code>pip install</code> with the Python QGIS runs on ({}), into your user "
            "site-packages (no administrator rights needed), or into a folder you choose. pip's output "
            "appears in the log; Cancel stops pip. The new packages can be used at once, without "
            "restarting QGIS, unless an older version of one was already loaded (then restart QGIS).</p>"
            "<h3>Parameters</h3>"
            "<p><b>Packages</b>: pip requirements separated by spaces or commas (<code>numba laspy</code>, "
            "<code>numpy&lt;2</code>). Empty: those the COPC algorithms miss now ({}).</p>"
            "<p><b>Target folder</b> (advanced): install there instead (pip's <code>--target</code>); the "
            "folder is added to Python's path for this QGIS session only.</p>"
            "<p>Needs internet access (or a pip configuration pointing at a package mirror).</p>"
        ).format(html.escape(qgis_python()), missing)

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterString(
            self.PACKAGES, _tr("Packages (empty: the missing ones)"), optional=True))
        target = QgsProcessingParameterFile(self.TARGET, _tr("Target folder (empty: your user site-packages)"),
                                            behavior=Qgis.ProcessingFileParameterBehavior.Folder, optional=True)
        target.setFlags(target.flags() | Qgis.ProcessingParameterFlag.Advanced)
        self.addParameter(target)
        self.addOutput(QgsProcessingOutputString(self.INSTALLED, _tr("Packages installed")))
        self.addOutput(QgsProcessingOutputFolder(self.FOLDER, _tr("Folder added to Python's path")))

    def canExecute(self):  # noqa: N802
        if python_executable() is None:
            return False, _tr("cannot find the Python interpreter QGIS runs on")
        if not findable("pip"):
            return False, _tr("pip is not installed in QGIS's Python (on Debian/Ubuntu: sudo apt install "
                              "python3-pip)")
        return True, ""

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        ok, problem = self.canExecute()
        if not ok:
            raise QgsProcessingException(problem)
        packages = package_list(self.parameterAsString(parameters, self.PACKAGES, context))
        if not packages:
            packages = pip_names(name for name, _ in missing_modules(BUILD_MODULES))
            if not packages:
                feedback.pushInfo(_tr("Nothing to install: {} all import.").format(", ".join(BUILD_MODULES)))
                return {self.INSTALLED: "", self.FOLDER: None}
        target = self.parameterAsFile(parameters, self.TARGET, context) or None
        if target:
            try:
                os.makedirs(target, exist_ok=True)
            except OSError as exc:
                raise QgsProcessingException(f"{target}: cannot make the folder ({exc.strerror})") from None

        command = pip_command(python_executable(), packages, pip_install_flags(), target)
        feedback.pushCommandInfo(" ".join(command))
        try:
            code = run_pip(command, feedback.pushConsoleInfo, feedback.isCanceled)
        except PipCancelled:
            raise QgsProcessingException(_tr("Installation cancelled: pip was stopped")) from None
        except OSError as exc:
            raise QgsProcessingException(f"{command[0]}: cannot run pip ({exc.strerror})") from None
        if code != 0:
            raise QgsProcessingException(_tr("pip failed (exit code {}); its output is above").format(code))

        added = make_importable(target)
        feedback.pushInfo(_tr("Installed: {}").format(" ".join(packages)))
        problem = dependency_problem(BUILD_MODULES)
        if problem:
            feedback.pushWarning(_tr("Build COPC cannot run yet: {}").format(problem))
        else:
            feedback.pushInfo(_tr("Build COPC and Validate COPC can run now."))
        feedback.setProgress(100.0)
        self.installed = packages
        return {self.INSTALLED: " ".join(packages), self.FOLDER: added or target}

    def postProcessAlgorithm(self, context, feedback):  # noqa: N802
        """In QGIS's main thread, after a run that installed something: the provider's
        algorithms are made again, so parameters that need a new package (Dask's) appear."""
        provider = self.provider()
        if getattr(self, "installed", None) and provider is not None:
            provider.refreshAlgorithms()
        return {}


def missing_modules_cheap():
    """(module, why) for the build's modules that are not installed, without importing any."""
    return [(name, "not installed") for name in BUILD_MODULES if not findable(name)]

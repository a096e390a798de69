"""Processing algorithm copcbuilder:installdependencies, "Install Python dependencies".

Runs pip with the Python QGIS runs on, so a user whose QGIS lacks numba,
laspy, lazrs or lz4 installs them from the toolbox: pip's output streams to
the log, Cancel kills pip, and the new modules import without restarting
QGIS.  Only what is missing is installed, pinned to what QGIS's Python has
(pip_plan.py), and a fresh Python then imports it.
"""
from __future__ import annotations

import html
import os
import re
import sys
import tempfile
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

from .pip_plan import (PlanError, constraint_lines, fresh_import, installed_versions, loaded_versions,
                       requirement_name, resolve, same_module, site_path, wanted)
from .pip_runner import PipCancelled, make_importable, pip_command, run_pip
from .qgis_kernels import remember_compiled, warm_in_child
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
            "site-packages (no administrator rights needed), or into a folder you choose. Only what is "
            "missing is installed, at versions that work with the packages QGIS's Python already has: "
            "those (numpy above all) are never upgraded nor installed a second time. A fresh QGIS Python "
            "then imports what was installed, to show it works. pip's output appears in the log; Cancel "
            "stops pip. The new packages can be used at once, without restarting QGIS.</p>"
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
        requested = package_list(self.parameterAsString(parameters, self.PACKAGES, context))
        if not requested:
            requested = pip_names(name for name, _ in missing_modules(BUILD_MODULES))
            if not requested:
                feedback.pushInfo(_tr("Nothing to install: {} all import.").format(", ".join(BUILD_MODULES)))
                self.compile_kernels(None, feedback)
                return {self.INSTALLED: "", self.FOLDER: None}
        target = self.parameterAsFile(parameters, self.TARGET, context) or None
        if target:
            try:
                os.makedirs(target, exist_ok=True)
            except OSError as exc:
                raise QgsProcessingException(f"{target}: cannot make the folder ({exc.strerror})") from None
        try:
            pins = self.install(requested, target, feedback)
        except PlanError as exc:
            raise QgsProcessingException(str(exc)) from None
        added = make_importable(target) if pins else None
        if pins:
            self.check_fresh_python(requested, target, feedback)
        problem = dependency_problem(BUILD_MODULES)
        if problem:
            feedback.pushWarning(_tr("Build COPC cannot run yet: {}").format(problem))
        else:
            self.compile_kernels(target, feedback)
            feedback.pushInfo(_tr("Build COPC and Validate COPC can run now."))
        feedback.setProgress(100.0)
        self.installed = pins
        return {self.INSTALLED: " ".join(pins), self.FOLDER: added or target}

    def install(self, requested: List[str], target, feedback) -> List[str]:
        """Install what ``requested`` needs beyond what QGIS's Python has, pinned so nothing it has
        changes (pip_plan); the ``name==version`` installed, [] when nothing was missing."""
        python = python_executable()
        path = site_path(target)
        installed = installed_versions(path)
        todo, notes = wanted(requested, installed)
        for note in notes:
            feedback.pushInfo(note)
        if not todo:
            feedback.pushInfo(_tr("Nothing to install."))
            return []
        loaded = loaded_versions()
        with tempfile.TemporaryDirectory(prefix="copc_builder-install-") as folder:
            constraints = os.path.join(folder, "constraints.txt")
            with open(constraints, "w", encoding="utf-8") as f:
                f.write("\n".join(constraint_lines(installed, loaded)) + "\n")
            numpy = loaded.get("numpy") or installed.get("numpy")
            feedback.pushInfo(_tr("Keeping the {} packages QGIS's Python has at their versions{}").format(
                len(installed), f" (numpy {numpy})" if numpy else ""))

            def run(command, env=None):
                feedback.pushCommandInfo(" ".join(command))
                return self.run_pip(command, feedback, env)

            plan = resolve(python, todo, constraints, path, run)
            pins = [f"{name}=={version}" for name, version in plan]
            if not pins:
                feedback.pushInfo(_tr("Nothing to install: what {} need is there.").format(" ".join(todo)))
                return []
            feedback.pushInfo(_tr("To install: {}").format(" ".join(pins)))
            command = pip_command(python, pins, pip_install_flags(), target) + ["--no-deps", "--constraint",
                                                                               constraints]
            code = run(command)
        if code != 0:
            raise QgsProcessingException(_tr("pip failed (exit code {}); its output is above").format(code))
        feedback.pushInfo(_tr("Installed: {}").format(" ".join(pins)))
        return pins

    @staticmethod
    def compile_kernels(target, feedback) -> None:
        """The build's kernels compiled now, in a fresh QGIS Python, then loaded here from numba's
        cache: the first build after installing is as quick as the next (qgis_kernels)."""
        from copc_builder.algorithms.api import BuildCancelled, kernels_compiled, warm_kernels

        if kernels_compiled() is not True:
            feedback.setProgressText(_tr("Compiling the build's kernels, once (up to a minute)"))
            try:
                code = warm_in_child(target, feedback.pushConsoleInfo, feedback.isCanceled)
            except PipCancelled:
                raise QgsProcessingException(_tr("Cancelled while compiling the build's kernels; the packages "
                                                 "are installed, the first build compiles them")) from None
            except OSError as exc:
                code = str(exc)
            if code != 0:
                feedback.pushWarning(_tr("Compiling the build's kernels failed ({}); the first build compiles "
                                         "them").format(code))
                return
        try:
            seconds = warm_kernels(cancel=feedback.isCanceled)      # from the cache, into this QGIS
        except BuildCancelled:
            raise QgsProcessingException(_tr("Cancelled while loading the build's kernels")) from None
        remember_compiled()
        feedback.pushInfo(_tr("The build's kernels are compiled and loaded ({:.1f} s)").format(seconds))

    @staticmethod
    def run_pip(command, feedback, env=None) -> int:
        try:
            return run_pip(command, feedback.pushConsoleInfo, feedback.isCanceled, env=env)
        except PipCancelled:
            raise QgsProcessingException(_tr("Installation cancelled: pip was stopped")) from None
        except OSError as exc:
            raise QgsProcessingException(f"{command[0]}: cannot run pip ({exc.strerror})") from None

    @staticmethod
    def check_fresh_python(requested: List[str], target, feedback) -> None:
        """Import what was installed, and the build's modules, in a new Python as QGIS starts it next
        (the target folder first): they import, and numpy is the one QGIS runs."""
        modules = [m for m in BUILD_MODULES if findable(m)]
        if len(modules) == len(BUILD_MODULES):
            modules.append("copc_builder.algorithms.api")
        modules += [name.replace("-", "_") for name in (requirement_name(r)[0] for r in requested)
                    if findable(name.replace("-", "_")) and name.replace("-", "_") not in modules]
        try:
            found = fresh_import(python_executable(), modules, site_path(target))
        except PlanError as exc:
            raise QgsProcessingException(str(exc)) from None
        for name, (version, file) in found.items():
            loaded = sys.modules.get(name)
            if loaded is not None and "." not in name and not same_module([version, file], loaded):
                raise QgsProcessingException(
                    f"a fresh QGIS Python would load {name} {version} from {file}, not the {name} "
                    f"{getattr(loaded, '__version__', '')} QGIS runs ({getattr(loaded, '__file__', '')}); "
                    f"remove it from {target or 'the folder it is in'}")
        feedback.pushInfo(_tr("A fresh QGIS Python imports {}").format(
            ", ".join(f"{name} {version}" if version else name for name, (version, _) in found.items())))

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

"""Helpers for the QGIS tests: a feedback that records (and can cancel)."""
from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
from pathlib import Path
from typing import List, Optional, Sequence

import laspy
from qgis.core import QgsProcessingFeedback

import copc_builder

ROOT = Path(copc_builder.__file__).resolve().parent


class RecordingFeedback(QgsProcessingFeedback):
    """Records what an algorithm reports; cancels once progress reaches ``cancel_at``.

    Progress is recorded from the progressChanged signal, so every change
    counts, whoever makes it (Python or C++).
    """

    def __init__(self, cancel_at: Optional[float] = None, watch_folder: Optional[str] = None):
        super().__init__()
        # The bar as a user sees it: where it starts, then every change.
        self.percents: List[float] = [self.progress()]
        self.texts: List[str] = []
        self.infos: List[str] = []
        self.warnings: List[str] = []
        self.errors: List[str] = []
        self.console: List[str] = []                   # pushConsoleInfo: a child process's output
        self.commands: List[str] = []                  # pushCommandInfo
        self.cancel_at = cancel_at
        self.watch_folder = watch_folder
        self.cancelled_at: Optional[float] = None     # time.monotonic() of the cancel
        self.folder_at_cancel: List[str] = []         # watch_folder's entries then
        self.progressChanged.connect(self._on_progress)

    def _on_progress(self, value: float) -> None:
        self.percents.append(value)
        if self.cancel_at is not None and self.cancelled_at is None and value >= self.cancel_at:
            if self.watch_folder:
                self.folder_at_cancel = sorted(os.listdir(self.watch_folder))
            self.cancelled_at = time.monotonic()
            self.cancel()

    def setProgressText(self, text):  # noqa: N802
        self.texts.append(text)
        super().setProgressText(text)

    def pushInfo(self, info):  # noqa: N802
        self.infos.append(info)
        super().pushInfo(info)

    def pushWarning(self, warning):  # noqa: N802
        self.warnings.append(warning)
        super().pushWarning(warning)

    def pushConsoleInfo(self, info):  # noqa: N802
        self.console.append(info)
        super().pushConsoleInfo(info)

    def pushCommandInfo(self, info):  # noqa: N802
        self.commands.append(info)
        super().pushCommandInfo(info)

    def reportError(self, error, fatalError=False):  # noqa: N802
        self.errors.append(error)
        super().reportError(error, fatalError)


def assert_monotone_0_to_100(progress: List[float]) -> None:
    assert progress, "no progress reported"
    assert progress[0] == 0.0, progress[:5]
    assert progress[-1] == 100.0, progress[-5:]
    assert all(b >= a for a, b in zip(progress, progress[1:])), f"progress went back: {progress}"
    assert all(0.0 <= p <= 100.0 for p in progress)


def leftovers_beside(path) -> List[str]:
    """Hidden temp files the writer leaves beside an output while it works."""
    folder = os.path.dirname(os.fspath(path))
    return sorted(n for n in os.listdir(folder) if n.endswith(".copc_builder-tmp"))


def input_points(paths: Sequence) -> int:
    """Points in LAS/LAZ files, by their headers as laspy reads them (not the product)."""
    total = 0
    for p in paths:
        with laspy.open(str(p)) as f:
            total += f.header.point_count
    return total


@contextlib.contextmanager
def project_copc_layer(path, name):
    """A COPC point-cloud layer of ``path`` named ``name`` in the project, and a
    processing context on that project; the layer is removed afterwards."""
    from qgis.core import QgsPointCloudLayer, QgsProcessingContext, QgsProject

    layer = QgsPointCloudLayer(str(path), name, "copc")
    assert layer.isValid()
    project = QgsProject.instance()
    project.addMapLayer(layer)
    context = QgsProcessingContext()
    context.setProject(project)
    try:
        yield layer, context
    finally:
        project.removeMapLayer(layer.id())


def stable_plugin_folder() -> Path:
    """A plugins folder with ``copc_builder`` -> this repository.

    It stays put between runs: numba caches compiled kernels per source
    path, so a new folder each run would compile them again (~20 s).
    """
    key = hashlib.sha1(str(ROOT).encode()).hexdigest()[:10]
    folder = Path(tempfile.gettempdir()) / f"copc_builder-qgis-plugins-{os.getuid()}-{key}"
    folder.mkdir(exist_ok=True)
    link = folder / "copc_builder"
    if not (link.is_symlink() and os.readlink(link) == str(ROOT)):
        part = folder / f".copc_builder-{os.getpid()}"
        part.symlink_to(ROOT, target_is_directory=True)
        os.replace(part, link)     # atomic, should another run do the same
    return folder

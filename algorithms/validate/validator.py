"""The validator: collects findings, reports progress, polls for
cancelling, and runs the checks (each group in its own file) in order.
"""
from __future__ import annotations

from typing import Callable, Dict, Optional, Tuple

from ..copc_file import CopcFile
from ..errors import CopcBuilderError
from ..progress import Progress
from .chunk_table import ChunkTableChecks
from .header import HeaderChecks
from .hierarchy import HierarchyChecks
from .points import PointChecks
from .report import ERROR, MAX_FINDINGS_PER_CHECK, WARNING, Finding, ValidationReport
from .temporal_check import check_temporal_index
from .vlrs import VlrChecks


def validate_copc(path, observer=None, cancel: Optional[Callable[[], bool]] = None) -> ValidationReport:
    """Check ``path`` against COPC 1.0 / LAS 1.4; never raises on a bad file.

    ``observer.on_progress(ProgressEvent)`` gets stage "finish" events with
    the fraction of points decoded; ``cancel()`` is polled between nodes and
    raises ``BuildCancelled`` when it returns True.
    """
    return _Validator(path, observer, cancel).run()


class _Validator(HeaderChecks, VlrChecks, ChunkTableChecks, HierarchyChecks, PointChecks):
    def __init__(self, path, observer, cancel):
        self.report = ValidationReport(path=str(path))
        # One stage: the fraction of points decoded.
        self.progress = Progress(observer, cancel, stages=(("finish", 1.0),), cancelled="validation cancelled")
        self._per_check: Dict[str, int] = {}
        self._suppressed: Dict[Tuple[str, str], int] = {}

    # -- findings ------------------------------------------------------------

    def add(self, severity: str, check: str, message: str) -> None:
        n = self._per_check.get(check, 0) + 1
        self._per_check[check] = n
        if n > MAX_FINDINGS_PER_CHECK:
            key = (severity, check)
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return
        self.report.findings.append(Finding(severity, check, message))

    def error(self, check: str, message: str) -> None:
        self.add(ERROR, check, message)

    def warning(self, check: str, message: str) -> None:
        self.add(WARNING, check, message)

    def _close_findings(self) -> None:
        for (severity, check), n in self._suppressed.items():
            self.report.findings.append(Finding(
                severity, check, f"... and {n} more finding{'s' if n != 1 else ''} of this check not shown"))

    # -- progress ------------------------------------------------------------

    def _poll(self, done: int, total: int) -> None:
        self.progress.update("finish", done, total)

    # -- driver ----------------------------------------------------------------

    def run(self) -> ValidationReport:
        try:
            copc = CopcFile(self.report.path)
        except CopcBuilderError as exc:
            self.error("file", getattr(exc, "problem", str(exc)))
            self._close_findings()
            return self.report
        with copc:
            self.f = copc
            self.h = copc.header
            self.check_header()
            if self.check_vlrs():
                info = self.check_info()
                laz = self.check_laz()
                self.check_crs()
                self.check_extra_bytes()
                self.table_offset = self.check_chunk_table_offset()
                entries = self.check_hierarchy(info) if info is not None else None
                table = self.check_chunk_table(laz)
                if entries is not None and table is not None:
                    self.check_chunks_match(entries, table)
                if entries is not None and info is not None and laz is not None:
                    self.check_points(info, laz, entries)
                if entries is not None and laz is not None:
                    check_temporal_index(copc, laz, entries, self.error, self.warning, self.progress.check_cancel)
        self._close_findings()
        return self.report

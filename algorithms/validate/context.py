"""What the checks share, declared in one place: the file under validation,
where findings and progress go, and what earlier checks found that later
ones read.  ``validator.run_checks`` fills the fields in the order it runs
the checks (each field says which check writes it).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional

from ..common.progress import Progress
from ..copc_file import CopcFile
from ..format import ChunkTable, CopcInfo, ExtraBytesField, HierarchyEntry, LasHeader, LazVlr, Vlr
from .report import FindingSink, ValidationReport


class ValidatedFile(CopcFile):
    """The validator's reader: a ``CopcFile`` that can be told its EVLR chain
    is broken (once that is reported), and from then on reads as a file
    without EVLRs, so the VLRs, the CRS and the point data are still checked.
    """

    def __init__(self, path, storage=None):
        super().__init__(path, storage)
        self.evlrs_readable = True     # set False by check_vlrs

    @property
    def evlrs(self) -> List[Vlr]:
        return super().evlrs if self.evlrs_readable else []


@dataclass
class ValidationContext:
    """Everything a check reads or writes besides its own locals: each
    ``check_*(ctx)`` takes only this."""

    file: ValidatedFile
    findings: FindingSink
    progress: Progress                             # one stage, "finish": the fraction of points decoded
    info: Optional[CopcInfo] = None                # check_info; None when unusable
    laz: Optional[LazVlr] = None                   # check_laz; None when the points cannot be decoded
    table_offset: Optional[int] = None             # check_chunk_table_offset; None when not sane
    entries: Optional[List[HierarchyEntry]] = None  # check_hierarchy: the node entries with valid keys
    table: Optional[ChunkTable] = None             # check_chunk_table
    extra_fields: Optional[List[ExtraBytesField]] = None  # check_extra_bytes; None unless they describe the record

    @property
    def header(self) -> LasHeader:
        return self.file.header

    @property
    def report(self) -> ValidationReport:
        return self.findings.report

    def error(self, check: str, message: str) -> None:
        self.findings.error(check, message)

    def warning(self, check: str, message: str) -> None:
        self.findings.warning(check, message)

"""The validator: opens the file, builds the context the checks share, and
runs the checks (each group in its own file) in order.
"""
from __future__ import annotations

from typing import Callable, Optional

from ..common.errors import CopcBuilderError
from ..common.progress import Progress
from ..storage.urls import path_of, shown_name
from .chunk_table_checks import check_chunk_table, check_chunk_table_offset, check_chunks_match
from .context import ValidatedFile, ValidationContext
from .header_checks import check_header
from .hierarchy_checks import check_hierarchy
from .info_checks import check_info
from .laz_checks import check_laz
from .point_checks import check_points
from .report import FindingSink, ValidationReport
from .temporal_check import check_temporal_index
from .vlr_checks import check_crs, check_extra_bytes, check_vlrs
from .vpc_checks import validate_vpc


def validate_copc(path, observer=None, cancel: Optional[Callable[[], bool]] = None,
                  storage=None) -> ValidationReport:
    """Check ``path`` against COPC 1.0 / LAS 1.4; never raises on a bad file.

    ``observer.on_progress(ProgressEvent)`` gets stage "finish" events with
    the fraction of points decoded; ``cancel()`` is polled between nodes and
    raises ``BuildCancelled`` when it returns True.  A virtual point cloud
    (.vpc) is checked with every file it lists (vpc_checks.py).
    """
    if path_of(path).lower().endswith(".vpc"):
        return validate_vpc(path, observer, cancel, validate_member=validate_copc, storage=storage)
    findings = FindingSink(ValidationReport(path=shown_name(path)))
    # One stage: the fraction of points decoded.
    progress = Progress(observer, cancel, stages=(("finish", 1.0),), cancelled="validation cancelled")
    try:
        copc = ValidatedFile(str(path), storage)
    except CopcBuilderError as exc:
        findings.error("file", getattr(exc, "problem", str(exc)))
    else:
        with copc:
            run_checks(ValidationContext(copc, findings, progress))
    findings.close()
    return findings.report


def run_checks(ctx: ValidationContext) -> None:
    """Every check, in order; a check whose input is unusable is skipped."""
    check_header(ctx)
    if not check_vlrs(ctx):
        return
    ctx.info = check_info(ctx)
    ctx.laz = check_laz(ctx)
    check_crs(ctx)
    check_extra_bytes(ctx)
    ctx.table_offset = check_chunk_table_offset(ctx)
    if ctx.info is not None:
        ctx.entries = check_hierarchy(ctx)
    ctx.table = check_chunk_table(ctx)
    if ctx.entries is not None and ctx.table is not None:
        check_chunks_match(ctx)
    if ctx.entries is not None and ctx.info is not None and ctx.laz is not None:
        check_points(ctx)
    if ctx.entries is not None and ctx.laz is not None:
        check_temporal_index(ctx.file, ctx.laz, ctx.entries, ctx.error, ctx.warning, ctx.progress.check_cancel)

"""COPC 1.0 validator: checks a file against the COPC 1.0 and LAS 1.4 specs.

    report = validate_copc("out.copc.laz")
    print(format_report(report))      # one line per finding, then a verdict

Every finding names its check (a dotted name, stable for tests and scripts):

    file                  the file cannot be opened or is not LAS at all
    header.*              version, size, point_format, record_length, wkt_bit,
                          scale, offsets, evlrs, legacy_counts
    vlrs / evlrs          the (E)VLR chains run past their limits
    info.*                missing, first (must be the first VLR, at byte 375),
                          size (160 bytes), cube (halfsize, center), spacing,
                          reserved (must be 0)
    laz.*                 missing, compressor, chunk_size (must be variable),
                          items (must describe the header's record)
    chunk_table           unreadable, misplaced, or not matching the hierarchy
    hierarchy.*           evlr, page, entry, key, duplicate, parent, pointer,
                          root, byte_range, overlap, unused
    node.*                decode, count (the chunk's own count), chunk_size
    points.cube           points outside their node's cube (no tolerance)
    counts.*              total (nodes vs header), by_return
    bounds                header min/max vs the points' real min/max
    gpstime               info VLR GPS range vs the points' real range
    returns               return numbers 0 or above the number of returns
    crs.*                 missing, wkt, geotiff
    extra_bytes           extra-bytes VLRs (all of them) vs the record length
    extra_bytes.range     points' extra-bytes values outside the min/max their
                          descriptor declares (raw values, typed by data_type)
    vpc.*                 a virtual point cloud (.vpc) and its members (vpc_checks.py)

Points are decoded one node at a time (memory is bounded by the largest
node) and checked with numpy; validation costs about one decode of the file.

One file per group of checks, each a function ``check_*(ctx)`` over the
``ValidationContext`` (context.py) that declares what they share:
header_checks.py, vlr_checks.py (vlrs, evlrs, crs, extra_bytes),
info_checks.py (info, gpstime of the info VLR), laz_checks.py,
chunk_table_checks.py, hierarchy_checks.py (hierarchy, counts.total; the
pages are walked by copc_file.walk_pages, as ``info`` does), point_checks.py
(node, points, counts.by_return, bounds, gpstime, returns; extra_bytes.range
in extra_range_check.py); validator.py
runs them in order, report.py holds what they find.
"""
from __future__ import annotations

from .report import ERROR, MAX_FINDINGS_PER_CHECK, WARNING, Finding, ValidationReport, format_report
from .validator import validate_copc
from .vlr_checks import wkt_problem

__all__ = ["ERROR", "MAX_FINDINGS_PER_CHECK", "WARNING", "Finding", "ValidationReport", "format_report",
           "validate_copc", "wkt_problem"]

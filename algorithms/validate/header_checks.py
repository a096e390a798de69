"""Checks of the LAS header (header.*)."""
from __future__ import annotations

import math

from ..format import COPC_FORMATS, LAS14_HEADER_SIZE, RECORD_SIZE
from .context import ValidationContext
from .report import num


def check_header(ctx: ValidationContext) -> None:
    h, size = ctx.header, ctx.file.size
    if (h.version_major, h.version_minor) != (1, 4):
        ctx.error("header.version", f"LAS version is {h.version}, COPC needs 1.4")
    if h.header_size != LAS14_HEADER_SIZE:
        ctx.error("header.size", f"header size is {h.header_size} bytes, LAS 1.4 needs {LAS14_HEADER_SIZE}")
    if h.point_format not in COPC_FORMATS:
        ctx.error("header.point_format", f"point format is {h.point_format}, COPC needs 6, 7 or 8")
    if not h.compressed:
        ctx.error("header.point_format", f"point format byte is 0x{h.point_format_byte:02x}: the LAZ "
                  "bit 0x80 is not set, but COPC points are LAZ-compressed")
    base = RECORD_SIZE.get(h.point_format)
    if base is not None and h.point_record_length < base:
        ctx.error("header.record_length", f"point record length is {h.point_record_length} bytes, "
                  f"shorter than format {h.point_format}'s {base} bytes")
    if not h.wkt_bit:
        ctx.error("header.wkt_bit", f"global encoding is 0x{h.global_encoding:04x}: the WKT bit (bit 4) "
                  "is not set, which LAS 1.4 requires for formats 6-10")
    for axis, s in zip("xyz", h.scale):
        if not (math.isfinite(s) and s > 0):
            ctx.error("header.scale", f"scale {axis} is {num(s)}, must be a positive number")
    for axis, o in zip("xyz", h.offset):
        if not math.isfinite(o):
            ctx.error("header.scale", f"offset {axis} is {num(o)}, must be a finite number")
    if h.offset_to_point_data > size:
        ctx.error("header.offsets", f"offset to point data is {h.offset_to_point_data}, past the end "
                  f"of the file ({size} bytes)")
    elif h.offset_to_point_data < h.header_size:
        ctx.error("header.offsets", f"offset to point data is {h.offset_to_point_data}, inside the "
                  f"header ({h.header_size} bytes)")
    if h.evlr_count == 0:
        ctx.error("header.evlrs", "the header lists no EVLRs, but the COPC hierarchy must be in one")
    elif h.evlr_start < h.offset_to_point_data or h.evlr_start >= size:
        ctx.error("header.evlrs", f"first EVLR at byte {h.evlr_start} is outside the region after the "
                  f"point data (bytes {h.offset_to_point_data}..{size})")
    # LAS 1.4: the legacy 32-bit counts are either 0 or the true counts.
    if h.legacy_point_count not in (0, h.point_count):
        ctx.error("header.legacy_counts", f"legacy point count is {h.legacy_point_count}, "
                  f"but the point count is {h.point_count}")
    if h.legacy_point_count and tuple(h.legacy_points_by_return) != tuple(h.points_by_return[:5]):
        ctx.error("header.legacy_counts", f"legacy points by return {list(h.legacy_points_by_return)} "
                  f"differ from points by return {list(h.points_by_return[:5])}")

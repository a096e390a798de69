"""Checks of the LAZ VLR (laz.*): compressor, chunk size, and items that
describe the header's point record."""
from __future__ import annotations

from typing import Optional

from ..common.errors import CopcBuilderError
from ..format import (COPC_FORMATS, LAZ_ITEM_BYTE14, LAZ_ITEM_POINT14, LAZ_ITEM_RGB14, LAZ_ITEM_RGBNIR14,
                      LAZ_LAYERED_COMPRESSOR, LAZ_RECORD, LAZ_USER, LazVlr, RECORD_SIZE, VARIABLE_CHUNK_SIZE)
from .context import ValidationContext


def check_laz(ctx: ValidationContext) -> Optional[LazVlr]:
    f, h = ctx.file, ctx.header
    found = f.find(LAZ_USER, LAZ_RECORD)
    if not found:
        ctx.error("laz.missing", "no LAZ VLR ('laszip encoded', 22204): the points are not LAZ")
        return None
    if len(found) > 1:
        ctx.warning("laz.missing", f"{len(found)} LAZ VLRs; the first is used")
    try:
        laz = LazVlr.from_bytes(f.vlr_data(found[0]))
    except (ValueError, CopcBuilderError) as exc:
        ctx.error("laz.items", f"LAZ VLR cannot be read: {getattr(exc, 'problem', exc)}")
        return None
    usable = True
    if laz.compressor != LAZ_LAYERED_COMPRESSOR:
        ctx.error("laz.compressor", f"LAZ compressor is {laz.compressor}; formats 6-8 need "
                  f"{LAZ_LAYERED_COMPRESSOR} (layered chunked)")
        usable = False
    if laz.coder != 0:
        ctx.error("laz.compressor", f"LAZ coder is {laz.coder}, must be 0 (arithmetic)")
        usable = False
    if laz.chunk_size != VARIABLE_CHUNK_SIZE:
        ctx.error("laz.chunk_size", f"LAZ chunk size is {laz.chunk_size}; COPC needs variable-size "
                  f"chunks ({VARIABLE_CHUNK_SIZE}, one chunk per node)")
    if h.point_format in COPC_FORMATS:
        extra = h.point_record_length - RECORD_SIZE[h.point_format]
        expected = [(LAZ_ITEM_POINT14, 30)]
        if h.point_format == 7:
            expected.append((LAZ_ITEM_RGB14, 6))
        elif h.point_format == 8:
            expected.append((LAZ_ITEM_RGBNIR14, 8))
        if extra > 0:
            expected.append((LAZ_ITEM_BYTE14, extra))
        actual = [(i.item_type, i.size) for i in laz.items]
        if actual != expected:
            ctx.error("laz.items", f"LAZ items (type, size) are {actual}; point format "
                      f"{h.point_format} with {max(extra, 0)} extra bytes needs {expected}")
            usable = False
        elif any(i.version != 3 for i in laz.items):
            ctx.warning("laz.items", f"LAZ item versions are {[i.version for i in laz.items]}, "
                        "expected 3 for LAZ 1.4 layered items")
    if laz.point_size != h.point_record_length:
        usable = False
        if h.point_format not in COPC_FORMATS:
            ctx.error("laz.items", f"LAZ items describe {laz.point_size}-byte points, the header "
                      f"says {h.point_record_length}")
    return laz if usable and h.point_format in COPC_FORMATS else None

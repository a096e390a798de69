"""Checks of the (E)VLR chains (vlrs, evlrs) and of the CRS (crs.*) and
extra-bytes (extra_bytes) VLRs.  The COPC info VLR is checked in
info_checks.py, the LAZ VLR in laz_checks.py.
"""
from __future__ import annotations

from typing import Optional

from ..common.errors import CopcBuilderError
from ..format import GEOTIFF_RECORD, PROJECTION_USER, RECORD_SIZE, WKT_RECORD
from .context import ValidationContext


def check_vlrs(ctx: ValidationContext) -> bool:
    """False when the VLR chain itself cannot be read (nothing else can be checked)."""
    f, h = ctx.file, ctx.header
    try:
        vlrs = f.vlrs
    except CopcBuilderError as exc:
        ctx.error("vlrs", exc.problem)
        return False
    if vlrs and vlrs[-1].end > h.offset_to_point_data:
        ctx.error("vlrs", f"the {len(vlrs)} VLRs end at byte {vlrs[-1].end}, past the start of the "
                  f"point data at byte {h.offset_to_point_data}")
    try:
        f.evlrs
    except CopcBuilderError as exc:
        ctx.error("evlrs", exc.problem)
        # Go on with no EVLRs: what the VLRs and the point data allow is
        # still checked, and hierarchy pages show up as unreadable.
        f.evlrs_readable = False
    return True


def check_crs(ctx: ValidationContext) -> None:
    f = ctx.file
    wkts = f.find(PROJECTION_USER, WKT_RECORD)
    if f.find(PROJECTION_USER, GEOTIFF_RECORD):
        ctx.warning("crs.geotiff", "GeoTIFF keys VLR present; LAS 1.4 formats 6-10 carry the CRS "
                    "as WKT only, readers ignore it")
    if not wkts:
        ctx.warning("crs.missing", "no WKT VLR (LASF_Projection 2112): the file has no CRS")
        return
    if len(wkts) > 1:
        ctx.warning("crs.wkt", f"{len(wkts)} WKT VLRs; readers use the first")
    try:
        wkt = f.read_wkt()
    except CopcBuilderError as exc:
        ctx.error("crs.wkt", exc.problem)
        return
    if not wkt:
        ctx.error("crs.wkt", f"the WKT {wkts[0]} is empty")
        return
    problem = wkt_problem(wkt)
    if problem:
        ctx.warning("crs.wkt", f"the WKT cannot be parsed by pyproj: {problem}")


def check_extra_bytes(ctx: ValidationContext) -> None:
    h = ctx.header
    base = RECORD_SIZE.get(h.point_format)
    if base is None:
        return
    extra = h.point_record_length - base
    try:
        fields = ctx.file.read_extra_bytes()
    except CopcBuilderError as exc:
        ctx.error("extra_bytes", exc.problem)
        return
    if not fields:
        if extra > 0:
            ctx.warning("extra_bytes", f"each record has {extra} extra bytes that no "
                        "extra-bytes VLR describes")
        return
    sizes = []
    for fld in fields:
        if fld.size is None or fld.size <= 0:
            ctx.error("extra_bytes", f"extra dimension {fld.name!r} has data type {fld.data_type} "
                      f"(options {fld.options}): no valid size")
            return
        sizes.append(fld.size)
    if sum(sizes) != extra:
        ctx.error("extra_bytes", f"the extra-bytes VLR describes {sum(sizes)} bytes per point "
                  f"({', '.join(f'{fl.name}: {s}' for fl, s in zip(fields, sizes))}), but the "
                  f"record has {extra} extra bytes ({h.point_record_length} - {base})")
        return
    ctx.extra_fields = fields


def wkt_problem(wkt: str) -> Optional[str]:
    """None if pyproj parses the WKT, else why not (pyproj imported lazily)."""
    try:
        import pyproj
    except ImportError:
        return None       # cannot judge; the WKT is at least non-empty
    try:
        pyproj.CRS.from_wkt(wkt)
    except Exception as exc:   # pyproj.exceptions.CRSError and friends
        return str(exc).splitlines()[0][:200]
    return None

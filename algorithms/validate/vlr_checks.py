"""Checks of the VLR chain and of what the VLRs hold: the COPC info VLR
(info.*), the LAZ VLR (laz.*), the CRS (crs.*) and the extra-bytes VLR.
"""
from __future__ import annotations

import math
from typing import Optional

from ..copc_file import (
    COPC_INFO_RECORD,
    COPC_INFO_SIZE,
    COPC_POINT_FORMATS,
    COPC_USER,
    GEOTIFF_RECORD,
    LAS14_HEADER_SIZE,
    LAZ_ITEM_BYTE14,
    LAZ_ITEM_POINT14,
    LAZ_ITEM_RGB14,
    LAZ_ITEM_RGBNIR14,
    LAZ_LAYERED_COMPRESSOR,
    LAZ_RECORD,
    LAZ_USER,
    POINT_FORMAT_SIZES,
    PROJECTION_USER,
    VARIABLE_CHUNK_SIZE,
    WKT_RECORD,
    CopcInfo,
    LazVlr,
)
from ..errors import CopcBuilderError
from .report import _num, _xyz


class VlrChecks:
    """Mixed into ``_Validator``: checks the (E)VLRs of ``self.f``."""

    def check_vlrs(self) -> bool:
        """False when the VLR chain itself cannot be read (nothing else can be checked)."""
        f, h = self.f, self.h
        try:
            vlrs = f.vlrs
        except CopcBuilderError as exc:
            self.error("vlrs", exc.problem)
            return False
        if vlrs and vlrs[-1].end > h.offset_to_point_data:
            self.error("vlrs", f"the {len(vlrs)} VLRs end at byte {vlrs[-1].end}, past the start of the "
                       f"point data at byte {h.offset_to_point_data}")
        self.evlrs_readable = True
        try:
            f.evlrs
        except CopcBuilderError as exc:
            self.error("evlrs", exc.problem)
            # Go on with no EVLRs: what the VLRs and the point data allow is
            # still checked, and hierarchy pages show up as unreadable.
            self.evlrs_readable = False
            f._evlrs = []
        return True


    def check_info(self) -> Optional[CopcInfo]:
        f = self.f
        infos = f.find(COPC_USER, COPC_INFO_RECORD)
        if not infos:
            self.error("info.missing", "no COPC info VLR ('copc', 1): this is not a COPC file")
            return None
        vlr = infos[0]
        if len(infos) > 1:
            self.error("info.first", f"{len(infos)} COPC info VLRs; there must be exactly one")
        if vlr.extended:
            self.error("info.first", f"the COPC info record is an EVLR at byte {vlr.header_offset}; it must be "
                       f"the first VLR, at byte {LAS14_HEADER_SIZE}")
        elif f.vlrs[0] is not vlr:
            self.error("info.first", f"the COPC info VLR is VLR {f.vlrs.index(vlr) + 1} of {len(f.vlrs)} "
                       f"(at byte {vlr.header_offset}); it must be the first, at byte {LAS14_HEADER_SIZE}")
        elif vlr.header_offset != LAS14_HEADER_SIZE:
            self.error("info.first", f"the COPC info VLR starts at byte {vlr.header_offset}, "
                       f"not at byte {LAS14_HEADER_SIZE}")
        if vlr.data_size != COPC_INFO_SIZE:
            self.error("info.size", f"the COPC info VLR holds {vlr.data_size} bytes, must be {COPC_INFO_SIZE}")
            if vlr.data_size < COPC_INFO_SIZE:
                return None
        try:
            info = CopcInfo.from_bytes(f.read_at(vlr.data_offset, COPC_INFO_SIZE, "COPC info VLR"))
        except CopcBuilderError as exc:
            self.error("info.size", exc.problem)
            return None
        usable = True
        if not (math.isfinite(info.halfsize) and info.halfsize > 0):
            self.error("info.cube", f"halfsize is {_num(info.halfsize)}, must be a positive number")
            usable = False
        if not all(math.isfinite(c) for c in info.center):
            self.error("info.cube", f"center is {_xyz(info.center)}, must be finite")
            usable = False
        if not (math.isfinite(info.spacing) and info.spacing > 0):
            self.error("info.spacing", f"spacing is {_num(info.spacing)}, must be a positive number")
        if any(info.reserved):
            self.error("info.reserved", f"reserved fields are {list(info.reserved)}, must all be 0")
        if info.gpstime_minimum > info.gpstime_maximum:
            self.error("gpstime", f"GPS time minimum {_num(info.gpstime_minimum)} is above the maximum "
                       f"{_num(info.gpstime_maximum)}")
        return info if usable else _without_cube(info)


    def check_laz(self) -> Optional[LazVlr]:
        f, h = self.f, self.h
        found = f.find(LAZ_USER, LAZ_RECORD)
        if not found:
            self.error("laz.missing", "no LAZ VLR ('laszip encoded', 22204): the points are not LAZ")
            return None
        if len(found) > 1:
            self.warning("laz.missing", f"{len(found)} LAZ VLRs; the first is used")
        try:
            laz = LazVlr.from_bytes(f.vlr_data(found[0]))
        except (ValueError, CopcBuilderError) as exc:
            self.error("laz.items", f"LAZ VLR cannot be read: {getattr(exc, 'problem', exc)}")
            return None
        usable = True
        if laz.compressor != LAZ_LAYERED_COMPRESSOR:
            self.error("laz.compressor", f"LAZ compressor is {laz.compressor}; formats 6-8 need "
                       f"{LAZ_LAYERED_COMPRESSOR} (layered chunked)")
            usable = False
        if laz.coder != 0:
            self.error("laz.compressor", f"LAZ coder is {laz.coder}, must be 0 (arithmetic)")
            usable = False
        if laz.chunk_size != VARIABLE_CHUNK_SIZE:
            self.error("laz.chunk_size", f"LAZ chunk size is {laz.chunk_size}; COPC needs variable-size "
                       f"chunks ({VARIABLE_CHUNK_SIZE}, one chunk per node)")
        if h.point_format in COPC_POINT_FORMATS:
            extra = h.point_record_length - POINT_FORMAT_SIZES[h.point_format]
            expected = [(LAZ_ITEM_POINT14, 30)]
            if h.point_format == 7:
                expected.append((LAZ_ITEM_RGB14, 6))
            elif h.point_format == 8:
                expected.append((LAZ_ITEM_RGBNIR14, 8))
            if extra > 0:
                expected.append((LAZ_ITEM_BYTE14, extra))
            actual = [(i.item_type, i.size) for i in laz.items]
            if actual != expected:
                self.error("laz.items", f"LAZ items (type, size) are {actual}; point format "
                           f"{h.point_format} with {max(extra, 0)} extra bytes needs {expected}")
                usable = False
            elif any(i.version != 3 for i in laz.items):
                self.warning("laz.items", f"LAZ item versions are {[i.version for i in laz.items]}, "
                             "expected 3 for LAZ 1.4 layered items")
        if laz.point_size != h.point_record_length:
            usable = False
            if h.point_format not in COPC_POINT_FORMATS:
                self.error("laz.items", f"LAZ items describe {laz.point_size}-byte points, the header "
                           f"says {h.point_record_length}")
        return laz if usable and h.point_format in COPC_POINT_FORMATS else None


    def check_crs(self) -> None:
        f = self.f
        wkts = f.find(PROJECTION_USER, WKT_RECORD)
        if f.find(PROJECTION_USER, GEOTIFF_RECORD):
            self.warning("crs.geotiff", "GeoTIFF keys VLR present; LAS 1.4 formats 6-10 carry the CRS "
                         "as WKT only, readers ignore it")
        if not wkts:
            self.warning("crs.missing", "no WKT VLR (LASF_Projection 2112): the file has no CRS")
            return
        if len(wkts) > 1:
            self.warning("crs.wkt", f"{len(wkts)} WKT VLRs; readers use the first")
        try:
            wkt = f.read_wkt()
        except CopcBuilderError as exc:
            self.error("crs.wkt", exc.problem)
            return
        if not wkt:
            self.error("crs.wkt", f"the WKT {wkts[0]} is empty")
            return
        problem = wkt_problem(wkt)
        if problem:
            self.warning("crs.wkt", f"the WKT cannot be parsed by pyproj: {problem}")


    def check_extra_bytes(self) -> None:
        h = self.h
        base = POINT_FORMAT_SIZES.get(h.point_format)
        if base is None:
            return
        extra = h.point_record_length - base
        try:
            fields = self.f.read_extra_bytes()
        except CopcBuilderError as exc:
            self.error("extra_bytes", exc.problem)
            return
        if not fields:
            if extra > 0:
                self.warning("extra_bytes", f"each record has {extra} extra bytes that no "
                             "extra-bytes VLR describes")
            return
        sizes = []
        for fld in fields:
            if fld.size is None or fld.size <= 0:
                self.error("extra_bytes", f"extra dimension {fld.name!r} has data type {fld.data_type} "
                           f"(options {fld.options}): no valid size")
                return
            sizes.append(fld.size)
        if sum(sizes) != extra:
            self.error("extra_bytes", f"the extra-bytes VLR describes {sum(sizes)} bytes per point "
                       f"({', '.join(f'{fl.name}: {s}' for fl, s in zip(fields, sizes))}), but the "
                       f"record has {extra} extra bytes ({h.point_record_length} - {base})")



class _NoCube(CopcInfo):
    """Info VLR whose cube is unusable: point-in-cube checks are skipped."""


def _without_cube(info: CopcInfo) -> CopcInfo:
    return _NoCube(**info.__dict__)



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

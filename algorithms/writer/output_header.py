"""The output's LAS 1.4 header and VLRs, as bytes, from the plan's fields and
the statistics of the points written."""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np

from ..format import (COPC_INFO_RECORD, COPC_USER, EXTRA_BYTES_RECORD, GPS_STANDARD_BIT, LAS14_HEADER_SIZE,
                      LAZ_FORMAT_BIT, LAZ_RECORD, LAZ_USER, PROJECTION_USER, SPEC_USER, WKT_ENCODING_BIT, WKT_RECORD,
                      CopcInfo, LasHeader, Vlr)
from ..points.point_layout import PointLayout

SYSTEM_IDENTIFIER = "copc_builder"


@dataclass
class HeaderTemplate:
    """Header fields that come from the plan, not from the points."""

    layout: PointLayout
    scales: Tuple[float, float, float]
    offsets: Tuple[float, float, float]
    wkt: Optional[str]
    gps_standard: bool = True
    creation: Tuple[int, int] = (0, 0)       # (day of year, year)
    file_source_id: int = 0
    software: str = "copc_builder"


@dataclass
class PointStats:
    """What the header says of the points written: integer bounds, counts by return."""

    count: int
    int_mins: np.ndarray
    int_maxs: np.ndarray
    by_return: Sequence[int]
    extra_bytes: bytes = b""     # the Extra Bytes VLR's data, ranges set (empty: none)


def _creation_date(creation: Tuple[int, int]) -> Tuple[int, int]:
    """(day of year, year) as written: a day past the year's end rolls over, no year is 1970-01-01."""
    day, year = creation
    if not year:
        return 1, 1970
    date = datetime.date(year, 1, 1) + datetime.timedelta(days=max(day, 1) - 1)
    return date.timetuple().tm_yday, date.year


def _vlrs(template: HeaderTemplate, info: CopcInfo, laz_vlr: bytes, extra_bytes: bytes) -> List[Tuple[Vlr, bytes]]:
    """The VLRs in file order: COPC info first (COPC requires it), LAZ, CRS, extra bytes."""
    out = [(COPC_USER, COPC_INFO_RECORD, "COPC info VLR", info.to_bytes()),
           (LAZ_USER, LAZ_RECORD, "lazrs variable size chunks", laz_vlr)]
    if template.wkt:
        text = template.wkt.encode("utf-8")
        out.append((PROJECTION_USER, WKT_RECORD, "OGC Transformation Record",
                    text if text.endswith(b"\0") else text + b"\0"))
    if template.layout.extra:
        out.append((SPEC_USER, EXTRA_BYTES_RECORD, "Extra Bytes Record",
                    extra_bytes or b"".join(d.struct for d in template.layout.extra)))
    return [(Vlr.new(user, record, desc, len(data), extended=False), data) for user, record, desc, data in out]


def header_bytes(template: HeaderTemplate, stats: PointStats, info: CopcInfo, laz_vlr: bytes,
                 evlr_start: int = 0, evlr_count: int = 0) -> bytes:
    """The header and the VLRs, up to the start of the point data."""
    records = _vlrs(template, info, laz_vlr, stats.extra_bytes)
    vlrs = b"".join(vlr.to_bytes() + data for vlr, data in records)
    scales, offsets = np.array(template.scales), np.array(template.offsets)
    if stats.count:
        mins, maxs = stats.int_mins * scales + offsets, stats.int_maxs * scales + offsets
    else:
        mins = maxs = np.zeros(3)
    day, year = _creation_date(template.creation)
    layout = template.layout
    header = LasHeader(
        signature=b"LASF", file_source_id=template.file_source_id,
        global_encoding=WKT_ENCODING_BIT | (GPS_STANDARD_BIT if template.gps_standard else 0),
        guid=bytes(16), version_major=1, version_minor=4,
        system_identifier=SYSTEM_IDENTIFIER, generating_software=template.software[:31],
        creation_day=day, creation_year=year, header_size=LAS14_HEADER_SIZE,
        offset_to_point_data=LAS14_HEADER_SIZE + len(vlrs), number_of_vlrs=len(records),
        point_format_byte=layout.point_format | LAZ_FORMAT_BIT, point_record_length=layout.record_size,
        legacy_point_count=0, legacy_points_by_return=(0,) * 5,
        scale=tuple(scales), offset=tuple(offsets), mins=tuple(mins), maxs=tuple(maxs),
        evlr_start=evlr_start, evlr_count=evlr_count, point_count=stats.count,
        points_by_return=tuple(int(n) for n in stats.by_return))
    return header.to_bytes() + vlrs

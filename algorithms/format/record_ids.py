"""Sizes, ids and flag bits of the LAS 1.4, LAZ and COPC 1.0 records, and the
NUL-padded text field they share."""
from __future__ import annotations

LAS14_HEADER_SIZE = 375
LAS12_HEADER_SIZE = 227      # the part every LAS version has
VLR_HEADER_SIZE = 54
EVLR_HEADER_SIZE = 60
COPC_INFO_SIZE = 160
HIERARCHY_ENTRY_SIZE = 32
VARIABLE_CHUNK_SIZE = 0xFFFFFFFF
GPS_STANDARD_BIT = 0x01      # global encoding bit 0: adjusted standard GPS time
WKT_ENCODING_BIT = 0x10      # global encoding bit 4: CRS is WKT
LAZ_FORMAT_BIT = 0x80        # set on the point format byte of LAZ files

COPC_USER = "copc"
COPC_INFO_RECORD = 1
COPC_HIERARCHY_RECORD = 1000
LAZ_USER = "laszip encoded"
LAZ_RECORD = 22204
PROJECTION_USER = "LASF_Projection"
WKT_RECORD = 2112
GEOTIFF_RECORD = 34735
SPEC_USER = "LASF_Spec"
EXTRA_BYTES_RECORD = 4
TEMPORAL_USER = "copc_temporal"   # 360-geo COPC Temporal Index Extension
TEMPORAL_RECORD = 1000
QGIS_USER = "qgis"           # QGIS reads its point-cloud statistics from this EVLR
QGIS_STATISTICS_RECORD = 0


def text_field(raw: bytes) -> str:
    """A fixed-size, NUL-padded ASCII field as text."""
    return raw.split(b"\0", 1)[0].decode("ascii", errors="replace")


def padded(text: str, size: int) -> bytes:
    """Text as a fixed-size, NUL-padded field (cut to ``size`` bytes)."""
    return text.encode("ascii", errors="replace")[:size].ljust(size, b"\0")

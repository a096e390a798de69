"""Numbers from the LAS 1.4, LAZ and COPC 1.0 specs that the reader checks
files against, the error raised when a file breaks them, and the NUL-padded
text field the records share.
"""
from __future__ import annotations

from ..errors import InputError


LAS14_HEADER_SIZE = 375
VLR_HEADER_SIZE = 54
EVLR_HEADER_SIZE = 60
COPC_INFO_SIZE = 160
HIERARCHY_ENTRY_SIZE = 32
VARIABLE_CHUNK_SIZE = 0xFFFFFFFF
WKT_ENCODING_BIT = 0x10          # global encoding bit 4: CRS is WKT
LAZ_FORMAT_BIT = 0x80            # set on the point format byte of LAZ files

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

# Size of a record without extra bytes, per point data record format.
POINT_FORMAT_SIZES = {0: 20, 1: 28, 2: 26, 3: 34, 4: 57, 5: 63,
                      6: 30, 7: 36, 8: 38, 9: 59, 10: 67}
COPC_POINT_FORMATS = (6, 7, 8)

# LAZ item types and how many layers each holds in a layered (v3) chunk.
LAZ_ITEM_POINT14, LAZ_ITEM_RGB14, LAZ_ITEM_RGBNIR14 = 10, 11, 12
LAZ_ITEM_WAVEPACKET14, LAZ_ITEM_BYTE14 = 13, 14
LAZ_LAYERED_COMPRESSOR = 3



class MalformedCopcError(InputError):
    """The file's bytes do not hold what the LAS/LAZ/COPC specs say they must."""


def _text(raw: bytes) -> str:
    """A fixed-size, NUL-padded ASCII field as text."""
    return raw.split(b"\0", 1)[0].decode("ascii", errors="replace")

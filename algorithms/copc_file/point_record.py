"""What one point record holds: the extra-bytes VLR's descriptors, and the
numpy dtype of a raw record of format 6, 7 or 8.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from .spec import COPC_POINT_FORMATS, POINT_FORMAT_SIZES, _text


@dataclass
class ExtraBytesField:
    """One 192-byte descriptor of the extra-bytes VLR (LASF_Spec, 4)."""

    data_type: int
    options: int
    name: str
    description: str
    scale: Tuple[float, float, float] = (1.0, 1.0, 1.0)
    offset: Tuple[float, float, float] = (0.0, 0.0, 0.0)

    unpacker = struct.Struct("<2sBB32s4s24s24s24s3d3d32s")   # 192 bytes

    # data_type -> (numpy base type, element count); 0 = opaque bytes
    _TYPES = {1: "u1", 2: "i1", 3: "u2", 4: "i2", 5: "u4", 6: "i4",
              7: "u8", 8: "i8", 9: "f4", 10: "f8"}

    @classmethod
    def from_bytes(cls, data: bytes, offset: int = 0) -> "ExtraBytesField":
        v = cls.unpacker.unpack_from(data, offset)
        return cls(data_type=v[1], options=v[2], name=_text(v[3]), description=_text(v[14]),
                   scale=tuple(v[8:11]), offset=tuple(v[11:14]))

    @property
    def base_type(self) -> Optional[str]:
        """numpy type of one element, None for opaque (type 0) or unknown types."""
        if 1 <= self.data_type <= 30:
            return self._TYPES[(self.data_type - 1) % 10 + 1]
        return None

    @property
    def count(self) -> int:
        # Types 11-20 are 2-element, 21-30 3-element arrays (deprecated in 1.4 R14).
        if 11 <= self.data_type <= 20:
            return 2
        if 21 <= self.data_type <= 30:
            return 3
        return 1

    @property
    def size(self) -> Optional[int]:
        """Bytes per point; for type 0 the options field holds it; None if unknown."""
        if self.data_type == 0:
            return self.options
        base = self.base_type
        return None if base is None else np.dtype(base).itemsize * self.count



def point_record_dtype(point_format: int, record_length: int) -> np.dtype:
    """numpy dtype of one raw LAS record of format 6, 7 or 8 (+ extra bytes).

    Bit fields stay packed ("return_bits", "flag_bits") so the array is a
    zero-copy view of the decoded bytes.
    """
    if point_format not in COPC_POINT_FORMATS:
        raise ValueError(f"point format {point_format} is not a COPC format (6, 7, 8)")
    fields = [("X", "<i4"), ("Y", "<i4"), ("Z", "<i4"), ("intensity", "<u2"),
              ("return_bits", "u1"), ("flag_bits", "u1"), ("classification", "u1"),
              ("user_data", "u1"), ("scan_angle", "<i2"), ("point_source_id", "<u2"),
              ("gps_time", "<f8")]
    if point_format in (7, 8):
        fields += [("red", "<u2"), ("green", "<u2"), ("blue", "<u2")]
    if point_format == 8:
        fields += [("nir", "<u2")]
    extra = record_length - POINT_FORMAT_SIZES[point_format]
    if extra < 0:
        raise ValueError(f"record length {record_length} is shorter than format "
                         f"{point_format}'s {POINT_FORMAT_SIZES[point_format]} bytes")
    if extra:
        fields.append(("extra_bytes", "u1", (extra,)))
    dtype = np.dtype(fields)
    assert dtype.itemsize == record_length
    return dtype

"""The numpy dtype of a raw point record of format 6, 7 or 8 (+ extra bytes)."""
from __future__ import annotations

import numpy as np

from ..kernels.point_formats import COPC_FORMATS, RECORD_SIZE


def point_record_dtype(point_format: int, record_length: int) -> np.dtype:
    """numpy dtype of one raw LAS record of format 6, 7 or 8 (+ extra bytes).

    Bit fields stay packed ("return_bits", "flag_bits") so the array is a
    zero-copy view of the decoded bytes.
    """
    if point_format not in COPC_FORMATS:
        raise ValueError(f"point format {point_format} is not a COPC format (6, 7, 8)")
    fields = [("X", "<i4"), ("Y", "<i4"), ("Z", "<i4"), ("intensity", "<u2"),
              ("return_bits", "u1"), ("flag_bits", "u1"), ("classification", "u1"),
              ("user_data", "u1"), ("scan_angle", "<i2"), ("point_source_id", "<u2"),
              ("gps_time", "<f8")]
    if point_format in (7, 8):
        fields += [("red", "<u2"), ("green", "<u2"), ("blue", "<u2")]
    if point_format == 8:
        fields += [("nir", "<u2")]
    extra = record_length - RECORD_SIZE[point_format]
    if extra < 0:
        raise ValueError(f"record length {record_length} is shorter than format "
                         f"{point_format}'s {RECORD_SIZE[point_format]} bytes")
    if extra:
        fields.append(("extra_bytes", "u1", (extra,)))
    dtype = np.dtype(fields)
    assert dtype.itemsize == record_length
    return dtype

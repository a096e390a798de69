"""The output point record and how the node store splits it into columns.

COPC allows LAS 1.4 point formats 6, 7 and 8.  The node store keeps every
point as three columns so kernels read only what they need:

    xyz   int32 (n, 3)   quantized coordinates in the output frame
    gps   float64 (n,)   GPS time (the sort key inside a node)
    rest  uint8 (n, R)   every other byte of the record, in record order

``rest`` is the format-6 record without X, Y, Z and GPS time (10 bytes:
intensity, return byte, flags byte, classification, user data, scan angle,
point source id), then RGB (format 7/8), NIR (format 8), then extra bytes.
The offsets are those of ``kernels.point_formats``, the one table.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Tuple

import numpy as np

from ..kernels.point_formats import (COLOR_SIZE, CORE_SIZE, RECORD_SIZE, REST_CLASS, REST_FLAGS, REST_INTENSITY,
                                     REST_RETURN, REST_RGB, REST_SCAN_ANGLE, REST_SOURCE_ID, REST_USER, STORE_FIXED_SIZE)

__all__ = ["ExtraDim", "PointLayout", "choose_point_format", "empty_columns", "CORE_SIZE", "REST_CLASS",
           "REST_FLAGS", "REST_INTENSITY", "REST_RETURN", "REST_RGB", "REST_SCAN_ANGLE", "REST_SOURCE_ID",
           "REST_USER"]


@dataclass(frozen=True)
class ExtraDim:
    """One extra-bytes dimension, kept with its name, type and description.

    ``struct`` is the 192-byte LAS extra-bytes descriptor, kept verbatim from
    the input when there was one, so scale/offset/no-data survive.
    """

    name: str
    size: int                 # bytes per point
    dtype: str                # numpy dtype string ("<u2", "3u1", ...)
    struct: bytes = b""       # 192-byte descriptor (empty: build one)

    def key(self) -> Tuple[str, int, str]:
        return (self.name, self.size, self.dtype)


@dataclass(frozen=True)
class PointLayout:
    """Output point format and extra dimensions."""

    point_format: int                          # 6, 7 or 8
    extra: Tuple[ExtraDim, ...] = field(default_factory=tuple)

    @property
    def extra_size(self) -> int:
        return sum(d.size for d in self.extra)

    @property
    def record_size(self) -> int:
        return RECORD_SIZE[self.point_format] + self.extra_size

    @property
    def rest_size(self) -> int:
        return CORE_SIZE + COLOR_SIZE[self.point_format] + self.extra_size

    @property
    def has_rgb(self) -> bool:
        return self.point_format in (7, 8)

    @property
    def has_nir(self) -> bool:
        return self.point_format == 8

    def extra_rest_offset(self, name: str) -> int:
        """Offset of an extra dimension inside ``rest``."""
        off = CORE_SIZE + COLOR_SIZE[self.point_format]
        for d in self.extra:
            if d.name == name:
                return off
            off += d.size
        raise KeyError(name)

    @property
    def bytes_per_point(self) -> int:
        """Bytes one point takes in the node store."""
        return STORE_FIXED_SIZE + self.rest_size


def choose_point_format(any_rgb: bool, any_nir: bool) -> int:
    """6 without colour, 7 with RGB, 8 with NIR (COPC allows no other)."""
    if any_nir:
        return 8
    if any_rgb:
        return 7
    return 6


def empty_columns(layout: PointLayout, n: int):
    return (
        np.empty((n, 3), np.int32),
        np.empty(n, np.float64),
        np.empty((n, layout.rest_size), np.uint8),
    )

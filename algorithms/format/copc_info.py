"""The COPC info VLR (user "copc", record 1): the octree's cube, spacing,
root hierarchy page and GPS time range, 160 bytes."""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Tuple

from .record_ids import COPC_INFO_SIZE


@dataclass
class CopcInfo:
    center: Tuple[float, float, float]
    halfsize: float
    spacing: float
    root_hier_offset: int = 0
    root_hier_size: int = 0
    gpstime_minimum: float = 0.0
    gpstime_maximum: float = 0.0
    reserved: Tuple[int, ...] = (0,) * 11

    unpacker = struct.Struct("<5d2Q2d11Q")
    assert unpacker.size == COPC_INFO_SIZE

    @classmethod
    def from_bytes(cls, data: bytes) -> "CopcInfo":
        v = cls.unpacker.unpack_from(data, 0)
        return cls(center=tuple(v[0:3]), halfsize=v[3], spacing=v[4],
                   root_hier_offset=v[5], root_hier_size=v[6],
                   gpstime_minimum=v[7], gpstime_maximum=v[8], reserved=tuple(v[9:20]))

    def to_bytes(self) -> bytes:
        return self.unpacker.pack(*self.center, self.halfsize, self.spacing, self.root_hier_offset,
                                  self.root_hier_size, self.gpstime_minimum, self.gpstime_maximum,
                                  *self.reserved)

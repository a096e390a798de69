"""Binary layouts of the COPC records we write ourselves.

laspy refuses to serialize the COPC info VLR and has no hierarchy writer,
so these live here, one ``struct.Struct`` per record type.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from .copc_file.spec import COPC_INFO_SIZE, EVLR_HEADER_SIZE, HIERARCHY_ENTRY_SIZE

_info = struct.Struct("<5d2Q2d11Q")
_entry = struct.Struct("<4iQ2i")
_evlr_header = struct.Struct("<H16sHQ32s")
assert (_info.size, _entry.size, _evlr_header.size) == (COPC_INFO_SIZE, HIERARCHY_ENTRY_SIZE, EVLR_HEADER_SIZE)


@dataclass
class CopcInfo:
    center: tuple
    halfsize: float
    spacing: float
    root_hier_offset: int = 0
    root_hier_size: int = 0
    gps_min: float = 0.0
    gps_max: float = 0.0

    def to_bytes(self) -> bytes:
        return _info.pack(*self.center, self.halfsize, self.spacing, self.root_hier_offset,
                          self.root_hier_size, self.gps_min, self.gps_max, *([0] * 11))


def entry_bytes(level: int, x: int, y: int, z: int, offset: int, byte_size: int, count: int) -> bytes:
    return _entry.pack(level, x, y, z, offset, byte_size, count)


def evlr_header_bytes(user_id: str, record_id: int, length: int, description: str) -> bytes:
    return _evlr_header.pack(0, user_id.encode(), record_id, length, description.encode()[:32])

"""The COPC records: the info VLR, octree node keys, hierarchy entries, and
nodes and points per level over those entries.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Dict, List, Tuple

import numpy as np


@dataclass
class CopcInfo:
    """The COPC info VLR (user "copc", record 1), 160 bytes."""

    center: Tuple[float, float, float]
    halfsize: float
    spacing: float
    root_hier_offset: int
    root_hier_size: int
    gpstime_minimum: float
    gpstime_maximum: float
    reserved: Tuple[int, ...]

    unpacker = struct.Struct("<5d2Q2d11Q")

    @classmethod
    def from_bytes(cls, data: bytes) -> "CopcInfo":
        v = cls.unpacker.unpack_from(data, 0)
        return cls(center=tuple(v[0:3]), halfsize=v[3], spacing=v[4],
                   root_hier_offset=v[5], root_hier_size=v[6],
                   gpstime_minimum=v[7], gpstime_maximum=v[8], reserved=tuple(v[9:20]))



@dataclass(frozen=True, order=True)
class NodeKey:
    """An octree node: (level, x, y, z), as EPT and COPC name them."""

    level: int
    x: int
    y: int
    z: int

    def parent(self) -> "NodeKey":
        return NodeKey(self.level - 1, self.x >> 1, self.y >> 1, self.z >> 1)

    def in_range(self) -> bool:
        side = 1 << self.level if 0 <= self.level < 62 else 0
        return self.level >= 0 and all(0 <= c < side for c in (self.x, self.y, self.z))

    def cube(self, info: CopcInfo) -> Tuple[np.ndarray, np.ndarray]:
        """The node's cube (min, max), inclusive, from the info VLR.

        side = 2*halfsize / 2**level; min = center - halfsize + index*side.
        """
        side = 2.0 * info.halfsize / float(2 ** self.level)
        index = np.array([self.x, self.y, self.z], dtype=np.float64)
        lo = np.asarray(info.center, dtype=np.float64) - info.halfsize + index * side
        return lo, lo + side

    def __str__(self) -> str:
        return f"{self.level}-{self.x}-{self.y}-{self.z}"



@dataclass
class HierarchyEntry:
    """One 32-byte entry of a hierarchy page."""

    key: NodeKey
    offset: int
    byte_size: int
    point_count: int        # > 0 points, 0 empty node, -1 pointer to a child page
    page_offset: int = 0    # file offset of the page holding this entry

    unpacker = struct.Struct("<iiiiQii")

    @property
    def is_page_pointer(self) -> bool:
        return self.point_count == -1



def level_counts(entries: List[HierarchyEntry]) -> Dict[int, Tuple[int, int]]:
    """level -> (nodes, points), over node entries (pointers excluded)."""
    out: Dict[int, List[int]] = {}
    for e in entries:
        if e.is_page_pointer:
            continue
        row = out.setdefault(e.key.level, [0, 0])
        row[0] += 1
        row[1] += max(e.point_count, 0)
    return {level: (n, p) for level, (n, p) in sorted(out.items())}

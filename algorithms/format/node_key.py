"""Octree node keys, in the two forms the code uses.

``NodeKey`` is COPC's VoxelKey (level, x, y, z).  The builder's kernels use
one int64 per node instead: the level and the Morton code of (x, y, z) at
that level behind a sentinel bit, ``key = 1 << 3*level | morton``.  Sorting
those keys groups the nodes of a level together, in space-filling (Morton)
order; the parent is ``key >> 3`` and the child index (x bit | y bit << 1 |
z bit << 2) is ``key & 7``.  Levels go up to MAX_LEVEL so a key always fits
in an int64.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

import numpy as np

MAX_LEVEL = 20
ROOT = 1


def key_level(key: int) -> int:
    return (int(key).bit_length() - 1) // 3


def key_xyz(key: int) -> Tuple[int, int, int, int]:
    """(level, x, y, z) of a packed key."""
    key = int(key)
    level = key_level(key)
    code = key ^ (1 << (3 * level))
    x = y = z = 0
    for bit in range(level):
        x |= ((code >> (3 * bit)) & 1) << bit
        y |= ((code >> (3 * bit + 1)) & 1) << bit
        z |= ((code >> (3 * bit + 2)) & 1) << bit
    return level, x, y, z


@dataclass(frozen=True, order=True)
class NodeKey:
    """An octree node: (level, x, y, z), as EPT and COPC name them."""

    level: int
    x: int
    y: int
    z: int

    @classmethod
    def from_packed(cls, key: int) -> "NodeKey":
        return cls(*key_xyz(key))

    def parent(self) -> "NodeKey":
        return NodeKey(self.level - 1, self.x >> 1, self.y >> 1, self.z >> 1)

    def in_range(self) -> bool:
        side = 1 << self.level if 0 <= self.level < 62 else 0
        return self.level >= 0 and all(0 <= c < side for c in (self.x, self.y, self.z))

    def cube(self, info) -> Tuple[np.ndarray, np.ndarray]:
        """The node's cube (min, max), inclusive, from the info VLR (a ``CopcInfo``).

        side = 2*halfsize / 2**level; min = center - halfsize + index*side.
        """
        side = 2.0 * info.halfsize / float(2 ** self.level)
        index = np.array([self.x, self.y, self.z], dtype=np.float64)
        lo = np.asarray(info.center, dtype=np.float64) - info.halfsize + index * side
        return lo, lo + side

    def __str__(self) -> str:
        return f"{self.level}-{self.x}-{self.y}-{self.z}"

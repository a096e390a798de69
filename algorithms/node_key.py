"""Node keys: one int64 per octree node.

A key packs the level and the Morton code of (x, y, z) at that level behind
a sentinel bit: ``key = 1 << 3*level | morton``.  Sorting keys groups the
nodes of a level together, in space-filling (Morton) order; the parent is
``key >> 3`` and the child index (x bit | y bit << 1 | z bit << 2) is
``key & 7``.  Levels go up to MAX_LEVEL so a key always fits in an int64.
"""
from __future__ import annotations

from typing import Tuple

MAX_LEVEL = 20
ROOT = 1


def key_level(key: int) -> int:
    return (int(key).bit_length() - 1) // 3


def key_xyz(key: int) -> Tuple[int, int, int, int]:
    """(level, x, y, z) of a key, as COPC's VoxelKey."""
    key = int(key)
    level = key_level(key)
    code = key ^ (1 << (3 * level))
    x = y = z = 0
    for bit in range(level):
        x |= ((code >> (3 * bit)) & 1) << bit
        y |= ((code >> (3 * bit + 1)) & 1) << bit
        z |= ((code >> (3 * bit + 2)) & 1) << bit
    return level, x, y, z

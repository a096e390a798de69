"""MemoryBudget: how a build shares its memory budget among its stages.

The budget (``--memory-budget``, ``options.DEFAULT_MEMORY_BUDGET`` by default) is for point data; Python,
numba and the libraries take about a further 200 MB, the writer's batches a
little more.  The shares overlap in time as the stages do not: reading fills
store pages (``read_share``), then the tree is built unit by unit, each unit
in memory (``unit_share``) beside what stays of the store (``store_share``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..points.cube import Cube


@dataclass(frozen=True)
class MemoryBudget:
    total: int                    # bytes of point data
    # Share of the budget for the unit being built in memory.
    unit_share: float = 0.7
    # Share for store pages while reading (less one chunk in flight).
    read_share: float = 0.65
    # Share for store pages while units are built.
    store_share: float = 0.15
    # Bytes a point costs while its unit is built in memory, beyond its
    # columns (taken twice: store pages and the unit's copy): codes, GPS
    # keys, index pool, flags, sort buffers.
    unit_overhead: int = 50
    # Bytes a chunk in flight costs per point beyond 3 copies of its record
    # (about: the raw records, the converted columns, their bucketed copy).
    chunk_overhead: int = 64
    # A bucket of the distribution holds about 1/buckets_per_unit of a unit,
    # at a level no deeper than max_bucket_level.
    buckets_per_unit: int = 4
    max_bucket_level: int = 8
    # Resident memory of the process beside the point data: Python, numpy,
    # numba's compiled kernels, laspy, lazrs, pyproj (about 190 MiB measured
    # for a tiny build on Linux x86-64); used by the dry run's estimate.
    runtime_bytes: int = 200 << 20

    def unit_points(self, bytes_per_point: int) -> int:
        """Points of the biggest unit built in memory."""
        return int(self.total * self.unit_share) // (2 * bytes_per_point + self.unit_overhead)

    def read_store_bytes(self, bytes_per_point: int, chunk_points: int) -> int:
        """Store pages resident while reading (a chunk in flight left aside)."""
        chunk_bytes = chunk_points * (3 * bytes_per_point + self.chunk_overhead)
        return max(int(self.total * self.read_share) - chunk_bytes, 0)

    def build_store_bytes(self) -> int:
        """Store pages resident while units are built."""
        return int(self.total * self.store_share)

    def bucket_level(self, total: int, unit_points: int, cube: Optional[Cube]) -> int:
        """The level whose cells hold about a quarter of a unit (aerial clouds
        spread over x and y, so a level has about 4**level filled cells), at
        most max_bucket_level and no deeper than the cube can split."""
        target = max(unit_points // self.buckets_per_unit, 1)
        level = 1
        while total / 4 ** level > target and level < self.max_bucket_level:
            level += 1
        return level if cube is None else min(level, max(cube.max_depth, 1))

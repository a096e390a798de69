"""A page: fixed-capacity columnar storage shared by the extents of many nodes."""
from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from ..kernels.point_formats import STORE_FIXED_SIZE
from ..points.columns import Columns


class Page:
    """``capacity`` points in three columns; nodes own extents [start, start+count).

    A page is *resident* (arrays in memory) or *spilled* (only on disk).  A
    resident page can also have a clean copy on disk (``disk`` is set and
    ``dirty`` is False): dropping it again then costs no I/O.
    """

    __slots__ = ("id", "capacity", "rest_size", "xyz", "gps", "rest", "fill", "live",
                 "disk", "dirty", "last_use")

    def __init__(self, page_id: int, capacity: int, rest_size: int, zeroed: bool = False):
        self.id = page_id
        self.capacity = capacity
        self.rest_size = rest_size
        self.xyz: Optional[np.ndarray] = None
        self.gps: Optional[np.ndarray] = None
        self.rest: Optional[np.ndarray] = None
        self.allocate(zeroed)   # zeroed: for claim(), written field by field
        self.fill = 0          # points written (live or dead)
        self.live = 0          # points still owned by a node
        self.disk: Optional[Tuple[int, int, int, int]] = None  # (offset, xyz, gps, rest) blob sizes
        self.dirty = True
        self.last_use = 0

    def allocate(self, zeroed: bool = False) -> None:
        """Give the page its arrays (uninitialised unless ``zeroed``)."""
        alloc = np.zeros if zeroed else np.empty
        self.xyz = alloc((self.capacity, 3), np.int32)
        self.gps = alloc(self.capacity, np.float64)
        self.rest = alloc((self.capacity, self.rest_size), np.uint8)

    @property
    def resident(self) -> bool:
        return self.xyz is not None

    @property
    def nbytes(self) -> int:
        return self.capacity * (STORE_FIXED_SIZE + self.rest_size)

    @property
    def room(self) -> int:
        return self.capacity - self.fill

    def claim(self, n: int) -> Columns:
        """The next n slots, to be filled in place by the caller (no copy)."""
        start = self.fill
        self.fill += n
        self.live += n
        self.dirty = True
        return self.view(start, n)

    def write(self, cols: Columns, a: int, b: int) -> int:
        """Append cols[a:b]; returns the start of the new extent."""
        start = self.fill
        n = b - a
        self.xyz[start:start + n] = cols.xyz[a:b]
        self.gps[start:start + n] = cols.gps[a:b]
        self.rest[start:start + n] = cols.rest[a:b]
        self.fill += n
        self.live += n
        self.dirty = True
        return start

    def view(self, start: int, count: int) -> Columns:
        return Columns(self.xyz[start:start + count], self.gps[start:start + count],
                       self.rest[start:start + count])

    def drop(self) -> None:
        self.xyz = self.gps = self.rest = None

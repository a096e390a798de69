"""Distribute points into buckets of the node store.

A bucket is a cell of the octree at some level; its store key is the node
key of that cell.  When the whole cloud fits in memory there is one bucket,
the root.  Otherwise points are bucketed while they are read, in the cube
the headers promise; if a point falls outside it (headers lie) the rest go
to RAW_KEY (store/keys.py) and everything is re-bucketed once the real cube
is known.
"""
from __future__ import annotations

from typing import List, Optional, Tuple

import numpy as np

from ..common.progress import Progress
from ..common.timing import TIMINGS
from ..format.node_key import ROOT, key_level
from ..kernels.distribute import bucket_order, gather_points
from ..points.columns import Columns
from ..points.cube import FINE_LEVEL, Cube
from ..store import PointStore
from ..store.keys import RAW_KEY
from .memory_budget import MemoryBudget
from .plan import Plan


def bucket_segments(cols: Columns, codes: np.ndarray, parent_key: int,
                    levels: int) -> Tuple[List[int], np.ndarray, Columns]:
    """cols sorted by their cell ``levels`` below parent_key (all points lie
    in it): (the cells' keys, segment bounds, the points in that order)."""
    depth = key_level(parent_key) + levels
    shift = 3 * (FINE_LEVEL - depth)
    mask = (1 << (3 * levels)) - 1
    order, counts = bucket_order(codes, shift, mask)
    nonzero = np.flatnonzero(counts)
    bounds = np.concatenate(([0], np.cumsum(counts[nonzero])))
    keys = (parent_key << (3 * levels)) | nonzero
    return keys.tolist(), bounds, take_points(cols, order)


def take_points(cols: Columns, order: np.ndarray) -> Columns:
    """cols.take(order), the rows gathered on every kernel thread when the
    columns are the store's own (C-ordered int32 xyz, float64 GPS, uint8
    rest) and the order bucket_order's int64; else by numpy."""
    xyz, gps, rest = cols
    if not (order.dtype == np.int64 and xyz.dtype == np.int32 and gps.dtype == np.float64
            and rest.dtype == np.uint8 and xyz.ndim == 2 and xyz.shape[1] == 3 and rest.ndim == 2
            and all(a.flags.c_contiguous for a in (xyz, gps, rest, order))):
        return cols.take(order)
    out = Columns.empty(rest.shape[1], len(order))
    gather_points(xyz, gps, rest, order, out.xyz, out.gps, out.rest)
    return out


def split_into_buckets(store: PointStore, cols: Columns, codes: np.ndarray, parent_key: int,
                       levels: int) -> None:
    """Append cols to the cells ``levels`` below parent_key (all points lie in it)."""
    store.append_segments(*bucket_segments(cols, codes, parent_key, levels))


class Distributor:
    """Puts the points read into the store's buckets (cells of ``level`` of
    ``cube``, or the root alone at level 0)."""

    def __init__(self, store: PointStore, cube: Optional[Cube], level: int):
        self.store = store
        self.cube = cube
        self.level = level
        self.broken = False    # a point fell outside the provisional cube

    @classmethod
    def for_plan(cls, store: PointStore, plan: Plan, budget: MemoryBudget,
                 unit_points: int) -> "Distributor":
        """One bucket (the root) when the cloud fits a unit, else cells of the
        level the budget gives, in the cube the headers promise."""
        total = plan.total_points
        if total <= unit_points:   # includes streams of unknown size (0)
            return cls(store, None, 0)
        cube = plan.header_cube()
        return cls(store, cube, budget.bucket_level(total, unit_points, cube))

    # -- points written in place (one bucket) ----------------------------------------
    def reserve_root(self, points: int) -> None:
        """Give the root bucket a page of ``points`` that converters write
        into directly (``room``); the unit later takes it without a copy."""
        self.store.claim_page(ROOT, points)

    def room(self, n: int) -> Optional[Columns]:
        """Zeroed room for n more points of the root bucket, or None."""
        return self.store.claim(ROOT, n)

    def add(self, cols: Columns, lo: np.ndarray, hi: np.ndarray) -> None:
        if self.level == 0:
            self.store.append(ROOT, cols)
            return
        if self.broken or self.cube is None or not self.cube.contains(lo, hi):
            self.broken = True
            self.store.append(RAW_KEY, cols)
            return
        split_into_buckets(self.store, cols, self.cube.fine_codes(cols.xyz), ROOT, self.level)

    def settle(self, cube: Cube, level: int, progress: Progress) -> None:
        """Make the buckets cells of ``level`` of the final ``cube``,
        re-bucketing only when they are not that already."""
        if level == self.level and not (level and (self.broken or self.cube != cube)):
            return
        if self.level:
            progress.info("the headers' bounds do not hold every point; redistributing")
        with TIMINGS("build.redistribute"):
            self.redistribute(cube, level)

    def redistribute(self, cube: Cube, level: int) -> None:
        """Re-bucket everything in the store into cells of ``level`` of ``cube``."""
        self.cube = cube
        self.level = level
        self.broken = False
        # Canonical order does not depend on arrival order, so buckets can be
        # drained in any order (a bucket drained twice is merely split twice).
        for key in self.store.keys():
            if level == 0 and key == ROOT:
                continue
            for part in self.store.drain(key):
                if level == 0:
                    self.store.append(ROOT, part)
                else:
                    split_into_buckets(self.store, part, cube.fine_codes(part.xyz), ROOT, level)

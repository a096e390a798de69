"""Build the whole octree from the buckets in the node store.

1. Plan: from the bucket counts, cut the tree into *units*, subtrees whose
   points fit the memory budget.  A bucket too big for one unit is split
   into the cells a few levels below it, again in the store.
2. Units, in Morton order: take their buckets, build them in memory
   (octree_unit.build_unit); each unit's root goes back into the store.
3. Top: the nodes above the units, bottom-up, each sampled from its
   children, which are then final.  The root is final last.
A builder can also be given the subtree of one node (``top``: a unit of a
cluster task): the node's own points are then left in the store for the
levels above, built elsewhere (``build_top``).
The result does not depend on where the cuts fall: every node's points are
chosen by the same rule from the same candidates, in canonical order.
The builder sees only node keys of the store: a tiled build keeps the other
tiles' points in the same store under tile keys (store/keys.py).
"""
from __future__ import annotations

from typing import Callable, Dict, List

import numpy as np

from ..common.timing import TIMINGS
from ..format.node_key import ROOT, key_level
from ..kernels.merge import sample_stream
from ..kernels.octree import lod_grid, merge_canonical
from ..points.columns import Columns
from ..points.cube import Cube
from ..store import PointStore
from ..store.keys import is_node_key
from .big_node import merged, sort_into_runs
from .distribution import split_into_buckets
from .octree_unit import Emit, build_unit, index_dtype, merge_children, point_keys

SPLIT_LEVELS = 2   # levels a too-big bucket is split by, at a time


class TreeBuilder:
    def __init__(self, store: PointStore, cube: Cube, leaf_limit: int, unit_points: int,
                 emit: Emit, check_cancel: Callable[[], None], emit_stream, top: int = ROOT):
        self.store = store
        self.top = top
        # emit_stream(key, parts): one node too big for memory, (cols, index) blocks
        self.emit_stream = emit_stream
        self.big = set()   # pending nodes too big for memory (sorted in the store)
        self.cube = cube
        self.leaf_limit = leaf_limit
        self.unit_points = max(unit_points, 1)
        self.emit = emit
        self.check_cancel = check_cancel
        self.units_built = 0

    def run(self) -> None:
        counts = self._subtree_counts()
        units: List[int] = []
        self._plan(self.top, counts, units)
        for unit in units:
            self.check_cancel()
            self._build_unit(unit)
        self.build_top(units)

    # -- planning ----------------------------------------------------------------
    def _subtree_counts(self) -> Dict[int, int]:
        counts: Dict[int, int] = {}
        for key in filter(is_node_key, self.store.keys()):
            n = self.store.count(key)
            while key:
                counts[key] = counts.get(key, 0) + n
                key >>= 3
        return counts

    def _plan(self, key: int, counts: Dict[int, int], units: List[int]) -> None:
        n = counts.get(key, 0)
        if n == 0:
            return
        level = key_level(key)
        # A leaf (at most leaf_limit points) is always one unit: its points
        # stay together whatever the budget.
        if n <= max(self.unit_points, self.leaf_limit) or level >= self.cube.max_depth:
            units.append(key)
            return
        if key in self.store:
            # A bucket bigger than a unit: split it into cells further down.
            levels = min(SPLIT_LEVELS, self.cube.max_depth - level)
            for part in self.store.drain(key):
                split_into_buckets(self.store, part, self.cube.fine_codes(part.xyz), key, levels)
            for sub in filter(is_node_key, self.store.keys()):
                if sub > key and key_level(sub) == level + levels and sub >> (3 * levels) == key:
                    c = self.store.count(sub)
                    k = sub >> 3
                    while k > key:
                        counts[k] = counts.get(k, 0) + c
                        k >>= 3
                    counts[sub] = counts.get(sub, 0) + c
        for child in range(8):
            self._plan((key << 3) | child, counts, units)

    # -- units -------------------------------------------------------------------
    def _buckets_under(self, unit: int) -> List[int]:
        level = key_level(unit)
        found = []
        for key in filter(is_node_key, self.store.keys()):
            d = key_level(key) - level
            if d >= 0 and key >> (3 * d) == unit:
                found.append(key)
        return found

    def _build_unit(self, unit: int) -> None:
        buckets = self._buckets_under(unit)
        if sum(self.store.count(b) for b in buckets) > max(self.unit_points, self.leaf_limit):
            self._build_big_leaf(unit, buckets)
            return
        with TIMINGS("build.load"):
            parts = [self.store.take(b) for b in buckets]
            cols = Columns.concat(parts, self.store.rest_size)
            del parts
        root = build_unit(cols, unit, self.cube, self.leaf_limit, self.emit,
                          unit == ROOT, self.check_cancel)
        self.units_built += 1
        if root is not None:
            self.store.append(unit, root)

    def _build_big_leaf(self, unit: int, buckets: List[int]) -> None:
        """A leaf at the deepest level with more points than a unit holds."""
        with TIMINGS("build.big"):
            runs = sort_into_runs(self.store, buckets, self.cube, self.unit_points, self.check_cancel)
            if unit == ROOT:
                self.emit_stream(unit, ((b, np.arange(len(b))) for b in merged(self.store, runs, self.cube)))
            else:
                for block in merged(self.store, runs, self.cube):
                    self.store.append(unit, block)
                self.big.add(unit)
        self.units_built += 1

    # -- levels above the units ----------------------------------------------------
    def build_top(self, units: List[int]) -> None:
        """The nodes from the units' parents up to ``top``, from the units'
        own points in the store (those in ``big`` are read block by block)."""
        if units == [self.top]:
            return
        above = set()
        top_level = key_level(self.top)
        for unit in units:
            key = unit >> 3
            while key and key_level(key) >= top_level:
                above.add(key)
                key >>= 3
        for key in sorted(above, key=lambda k: (-key_level(k), k)):
            self.check_cancel()
            kids = [c for c in range(key << 3, (key << 3) + 8) if c in self.store]
            if self.big.intersection(kids):
                parent = self._merge_streaming(key, kids)
            else:
                children = [(c, self.store.take(c)) for c in kids]
                parent = merge_children(key, children, self.cube, self.emit, key == ROOT,
                                        self.store.rest_size)
            if parent is not None:
                self.store.append(key, parent)

    def _merge_streaming(self, key: int, kids: List[int]):
        """merge_children when a child is too big for memory: its points are
        sampled and written block by block, in canonical order."""
        level = key_level(key)
        bitmap = np.zeros(lod_grid(level)[2], np.uint8)
        runs: List[Columns] = []

        def sample(block: Columns) -> np.ndarray:
            flags = np.empty(len(block), np.uint8)
            sample_stream(self.cube.fine_codes(block.xyz), level, bitmap, flags)
            runs.append(block.take(np.flatnonzero(flags)))
            return np.flatnonzero(flags == 0)

        for child in kids:
            if child in self.big:
                self.big.discard(child)
                self.emit_stream(child, ((b, sample(b)) for b in self.store.drain(child)))
            else:
                cols = self.store.take(child)
                keep = sample(cols)
                if len(keep):
                    self.emit([child], [len(keep)], cols, keep)
        cols = Columns.concat(runs, self.store.rest_size)
        bounds = np.cumsum([0] + [len(r) for r in runs]).astype(np.int64)
        perm = np.arange(len(cols), dtype=index_dtype(len(cols)))
        codes, gbits = point_keys(cols, self.cube)
        merge_canonical(perm, bounds, np.array([0, len(bounds)], np.int64), gbits, codes,
                        cols.xyz, cols.rest)
        if key == ROOT:
            self.emit([key], [len(perm)], cols, perm)
            return None
        return cols.take(perm)

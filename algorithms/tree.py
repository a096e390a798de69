"""Build the whole octree from the buckets in the node store.

1. Plan: from the bucket counts, cut the tree into *units*, subtrees whose
   points fit the memory budget.  A bucket too big for one unit is split
   into the cells a few levels below it, again in the store.
2. Units, in Morton order: take their buckets, build them in memory
   (octree_unit.build_unit); each unit's root goes back into the store.
3. Top: the nodes above the units, bottom-up, each sampled from its
   children, which are then final.  The root is final last.
The result does not depend on where the cuts fall: every node's points are
chosen by the same rule from the same candidates, in canonical order.
"""
from __future__ import annotations

from typing import Callable, Dict, List

from .columns import Columns
from .cube import Cube
from .distribution import split_into_buckets
from .node_key import ROOT, key_level
from .octree_unit import Emit, build_unit, merge_children
from .store import PointStore
from .timing import TIMINGS

SPLIT_LEVELS = 2   # levels a too-big bucket is split by, at a time


class TreeBuilder:
    def __init__(self, store: PointStore, cube: Cube, leaf_limit: int, unit_points: int,
                 emit: Emit, check_cancel: Callable[[], None]):
        self.store = store
        self.cube = cube
        self.leaf_limit = leaf_limit
        self.unit_points = max(unit_points, 1)
        self.emit = emit
        self.check_cancel = check_cancel
        self.units_built = 0

    def run(self) -> None:
        counts = self._subtree_counts()
        units: List[int] = []
        self._plan(ROOT, counts, units)
        for unit in units:
            self.check_cancel()
            self._build_unit(unit)
        self._build_top(units)

    # -- planning ----------------------------------------------------------------
    def _subtree_counts(self) -> Dict[int, int]:
        counts: Dict[int, int] = {}
        for key in self.store.keys():
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
            for sub in self.store.keys():
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
        for key in self.store.keys():
            d = key_level(key) - level
            if d >= 0 and key >> (3 * d) == unit:
                found.append(key)
        return found

    def _build_unit(self, unit: int) -> None:
        with TIMINGS("build.load"):
            parts = [self.store.take(b) for b in self._buckets_under(unit)]
            cols = Columns.concat(parts, self.store.rest_size)
            del parts
        root = build_unit(cols, unit, self.cube, self.leaf_limit, self.emit,
                          unit == ROOT, self.check_cancel)
        self.units_built += 1
        if root is not None:
            self.store.append(unit, root)

    # -- levels above the units ----------------------------------------------------
    def _build_top(self, units: List[int]) -> None:
        if units == [ROOT]:
            return
        above = set()
        for unit in units:
            key = unit >> 3
            while key:
                above.add(key)
                key >>= 3
        for key in sorted(above, key=lambda k: (-key_level(k), k)):
            self.check_cancel()
            children = [(c, self.store.take(c)) for c in range(key << 3, (key << 3) + 8) if c in self.store]
            parent = merge_children(key, children, self.cube, self.emit, key == ROOT,
                                    self.store.rest_size)
            if parent is not None:
                self.store.append(key, parent)

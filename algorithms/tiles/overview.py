"""The overview: one COPC of every tile's root node, the points the tile
builds already chose as their coarsest preview (one point per cell of a
128 x 128 x 128 grid over each tile's cube), so no input is read twice.

Its density: about one point per (tile cube side / 128) squared of ground
per height layer: for 1000 m tiles (a 1024 m cube), one point per 8 m x 8 m,
some 16,000 to 40,000 points a tile whatever the tiles' own density.  When
the roots of all tiles hold more than ``OVERVIEW_MAX_POINTS``, or when an
overview cell size is asked for (like PDAL wrench's --overview-length), the
overview is split on a coarser grid of whole tiles (2, 4, 8... tiles a side,
aligned on the tile grid), so every tile has exactly one overview.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np

from ..points.columns import Columns
from ..store import PointStore
from .grid import TileGrid, cell_key, overview_cell
from .tile_distribution import fold_bounds

OVERVIEW_MAX_POINTS = 100_000_000
Cell = Tuple[int, int]


@dataclass
class RootCollector:
    """Keeps each tile's root points in the store (they spill like any point)."""

    store: PointStore
    counts: Dict[Cell, int] = field(default_factory=dict)
    bounds: Dict[Cell, Tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def sink(self, cell: Cell):
        def add(cols: Columns) -> None:
            if not len(cols):
                return
            self.store.append(cell_key(cell, overview=True), cols)
            self.counts[cell] = self.counts.get(cell, 0) + len(cols)
            fold_bounds(self.bounds, cell, cols.xyz.min(axis=0), cols.xyz.max(axis=0))
        return add

    @property
    def points(self) -> int:
        return sum(self.counts.values())


def overview_factor(tile_size: float, overview_size: Optional[float], counts: Dict[Cell, int]) -> int:
    """Tiles a side of one overview cell: 0 for one overview of everything."""
    if overview_size:
        return max(1, math.ceil(overview_size / tile_size - 1e-9))
    if sum(counts.values()) <= OVERVIEW_MAX_POINTS:
        return 0
    factor = 1
    while max(_grouped(counts, factor).values()) > OVERVIEW_MAX_POINTS and factor < 1 << 20:
        factor *= 2
    return factor


def _grouped(counts: Dict[Cell, int], factor: int) -> Dict[Cell, int]:
    out: Dict[Cell, int] = {}
    for cell, n in counts.items():
        group = overview_cell(cell, factor)
        out[group] = out.get(group, 0) + n
    return out


@dataclass
class OverviewPart:
    name: str                 # file stem
    cell: Optional[Cell]      # cell of the coarser grid; None: the one overview
    tiles: List[Cell]


def overview_parts(grid: TileGrid, stem: str, factor: int, tiles: List[Cell]) -> List[OverviewPart]:
    if factor == 0:
        return [OverviewPart(stem, None, sorted(tiles))]
    coarse = grid.coarser(factor)
    groups: Dict[Cell, List[Cell]] = {}
    for cell in sorted(tiles):
        groups.setdefault(overview_cell(cell, factor), []).append(cell)
    return [OverviewPart(coarse.name(stem, g), g, members) for g, members in sorted(groups.items())]


def gather_part(collector: RootCollector, part: OverviewPart) -> Tuple[int, Tuple[np.ndarray, np.ndarray]]:
    """Move the part's tiles' roots under one store key; (that key, the points' bounds)."""
    store = collector.store
    target = cell_key(part.cell if part.cell is not None else (0, 0), part=True)
    lo = np.full(3, np.iinfo(np.int64).max, np.int64)
    hi = np.full(3, np.iinfo(np.int64).min, np.int64)
    for cell in part.tiles:
        key = cell_key(cell, overview=True)
        if key not in store:
            continue
        for block in store.drain(key):
            store.append(target, block)
        np.minimum(lo, collector.bounds[cell][0], out=lo)
        np.maximum(hi, collector.bounds[cell][1], out=hi)
    return target, (lo, hi)

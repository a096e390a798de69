"""Points into tiles, in the read that takes them from the inputs.

Two ways, as the single-file build has two (build/distribution.py):
- the whole cloud fits a unit: the read fills the root bucket in place, as
  for one file, and ``tiles_in_memory`` then groups the points by tile with
  one counting sort and hands each tile's points over in turn;
- it does not: ``TileDistributor`` takes the read's place of the
  distributor and appends each chunk's points to their tiles' store keys
  (the store spills beyond the budget), keeping each tile's exact bounds.
"""
from __future__ import annotations

from typing import Dict, Iterator, Tuple

import numpy as np

from ..kernels.distribute import gather_points, int_bounds
from ..points.columns import Columns
from ..store import PointStore
from .grid import TileGrid, cell_key

Cell = Tuple[int, int]
Bounds = Tuple[np.ndarray, np.ndarray]


def segment_bounds(xyz: np.ndarray, bounds: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Per segment [bounds[i], bounds[i+1]) of xyz: its lowest and highest integer coordinates."""
    starts = bounds[:-1]
    return np.minimum.reduceat(xyz, starts, axis=0), np.maximum.reduceat(xyz, starts, axis=0)


def gather(cols: Columns, index: np.ndarray) -> Columns:
    """cols[index], the rows gathered in parallel (numpy's take copies a 2-D uint8 column slowly)."""
    out = Columns.empty(cols.rest.shape[1], len(index))
    gather_points(cols.xyz, cols.gps, cols.rest, index, out.xyz, out.gps, out.rest)
    return out


def fold_bounds(table: Dict[Cell, Bounds], cell: Cell, lo: np.ndarray, hi: np.ndarray) -> None:
    old = table.get(cell)
    if old is None:
        table[cell] = (lo.astype(np.int64), hi.astype(np.int64))
    else:
        np.minimum(old[0], lo, out=old[0])
        np.maximum(old[1], hi, out=old[1])


class TileDistributor:
    """Stands in for the read stage's distributor: every chunk's points go to
    their tiles' keys in the store.  ``level`` is not 0, so the read never
    writes in place."""

    level = 1

    def __init__(self, store: PointStore, grid: TileGrid):
        self.store = store
        self.grid = grid
        self.bounds: Dict[Cell, Bounds] = {}

    def add(self, cols: Columns, lo: np.ndarray, hi: np.ndarray) -> None:
        xs, ys, seg, order = self.grid.grouped(cols.xyz, lo, hi)
        grouped = gather(cols, order) if len(xs) > 1 else cols
        los, his = segment_bounds(grouped.xyz, seg)
        keys = []
        for i, cell in enumerate(zip(xs.tolist(), ys.tolist())):
            keys.append(cell_key(cell))
            fold_bounds(self.bounds, cell, los[i], his[i])
        self.store.append_segments(keys, seg, grouped)

    def cells(self):
        return sorted(self.bounds)


def tiles_in_memory(cols: Columns, grid: TileGrid, imin, imax) -> Iterator[Tuple[Cell, Columns, Bounds]]:
    """Each tile's points (a copy) and exact bounds, tile after tile in cell order."""
    xs, ys, seg, order = grid.grouped(cols.xyz, imin, imax)
    for i, cell in enumerate(zip(xs.tolist(), ys.tolist())):
        part = gather(cols, order[seg[i]:seg[i + 1]])
        lo = np.full(3, np.iinfo(np.int64).max, np.int64)
        hi = np.full(3, np.iinfo(np.int64).min, np.int64)
        int_bounds(part.xyz, lo, hi)
        yield cell, part, (lo, hi)

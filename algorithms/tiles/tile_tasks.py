"""The tiled build's tasks on a Dask cluster: plain functions of one
picklable job, as the cluster build's (cluster/tasks.py).

    TileBucketing   what a read task (cluster.tasks.read_range) sorts its
                    points by: their tiles' store keys, into its shard
    build_tiles     a group of tiles, each built as the in-process build
                    builds it (tile_copc.py) into the work folder; each
                    tile's root points to a shard, for the overview
"""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from ..build.memory_budget import MemoryBudget
from ..cluster.shards import Piece, ShardWriter, load_pieces
from ..common.threads import set_threads
from ..common.timing import TIMINGS
from ..points.columns import Columns
from ..store import PointStore
from ..writer.output_header import HeaderTemplate
from .grid import TileGrid, cell_key
from .tile_copc import CopcWritten, TileSettings, write_copc_from_store
from .tile_distribution import gather

Cell = Tuple[int, int]


@dataclass
class TileBucketing:
    """A read task's bucketing for a tiled build: every point to its tile's key."""

    grid: TileGrid

    def add(self, shard: ShardWriter, cols: Columns, lo: np.ndarray, hi: np.ndarray) -> bool:
        xs, ys, seg, order = self.grid.grouped(cols.xyz, lo, hi)
        grouped = gather(cols, order) if len(xs) > 1 else cols
        shard.add_segments([cell_key(c) for c in zip(xs.tolist(), ys.tolist())], seg, grouped)
        return True      # a tile has no bounds a point can fall outside of


@dataclass
class TilesJob:
    index: int
    tiles: List[Tuple[Cell, str, List[Piece]]]   # cell, file name, the pieces of its points
    header: HeaderTemplate
    extensions: Tuple[Any, ...]
    leaf_limit: int
    unit_points: int
    memory_budget: int
    page_points: Optional[int]
    page_levels: int
    out_dir: str                                  # where the tiles are written (work folder)
    roots_path: str
    work_dir: str
    threads: Optional[int]
    packed: bool = True


@dataclass
class TilesBuilt:
    index: int
    written: Dict[Cell, CopcWritten]
    roots: Dict[int, List[Piece]]                # overview key of a tile -> its root points
    root_bounds: Dict[Cell, Tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    points: int = 0
    seconds: Dict[str, float] = field(default_factory=dict)


def build_tiles(job: TilesJob) -> TilesBuilt:
    TIMINGS.seconds.clear()
    out = TilesBuilt(job.index, {}, {})
    with set_threads(job.threads):
        roots = ShardWriter(job.roots_path, job.packed)
        scratch = tempfile.mkdtemp(prefix="tiles-", dir=job.work_dir)
        try:
            for cell, name, pieces in job.tiles:
                _build_tile(job, cell, name, pieces, roots, out, scratch)
            out.roots = roots.finish()
        except BaseException:
            roots.abort()
            raise
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    out.seconds = dict(TIMINGS.seconds)
    return out


def _build_tile(job: TilesJob, cell: Cell, name: str, pieces: List[Piece], roots: ShardWriter, out: TilesBuilt,
                scratch: str) -> None:
    budget = MemoryBudget(job.memory_budget)
    store = PointStore(job.header.layout.rest_size, budget.read_store_bytes(job.header.layout.bytes_per_point, 0),
                       scratch, job.page_points)
    key = cell_key(cell)
    lo = np.full(3, np.iinfo(np.int64).max, np.int64)
    hi = np.full(3, np.iinfo(np.int64).min, np.int64)
    try:
        with TIMINGS("build.load"):
            for piece in pieces:   # a piece at a time: a big tile spills
                cols = load_pieces([piece], job.header.layout.rest_size)
                np.minimum(lo, cols.xyz.min(axis=0), out=lo)
                np.maximum(hi, cols.xyz.max(axis=0), out=hi)
                store.append(key, cols)
        store.set_budget(budget.build_store_bytes())
        settings = TileSettings(job.header, job.extensions, job.leaf_limit, job.unit_points, budget, scratch,
                                job.page_levels)
        root_key = cell_key(cell, overview=True)

        def keep_root(cols: Columns) -> None:
            roots.add(root_key, cols)
            old = out.root_bounds.get(cell)
            rlo, rhi = cols.xyz.min(axis=0).astype(np.int64), cols.xyz.max(axis=0).astype(np.int64)
            out.root_bounds[cell] = (rlo, rhi) if old is None else (np.minimum(old[0], rlo), np.maximum(old[1], rhi))

        with TIMINGS("build.tiles"):
            written = write_copc_from_store(store, key, lo, hi, os.path.join(job.out_dir, name + ".copc.laz"),
                                            settings, keep_root)
        out.written[cell] = written
        out.points += written.points
    finally:
        store.close()

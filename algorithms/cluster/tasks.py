"""The cluster build's tasks: plain functions of one picklable job, run by
Dask on any worker, writing their files under temporary names in the shared
work folder and renaming them, so a task run twice leaves the same files.

    read_range     one range of an input's points: converted, exact bounds
                   taken, sorted into the buckets of the provisional cube
    rebucket       one read range's shard again, into the buckets of the
                   final cube (when the headers' bounds did not hold)
    build_units    a group of units, each built from its buckets as the
                   in-process build builds a unit: final nodes to a LAZ
                   spool, the unit's own points to a shard
"""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from ..build.build_stages import chunk_bounds, return_zero_count
from ..build.distribution import bucket_segments
from ..build.memory_budget import MemoryBudget
from ..build.tree import TreeBuilder
from ..common.temp_files import remove_quietly
from ..common.threads import set_threads
from ..common.timing import TIMINGS
from ..format.node_key import ROOT
from ..points.columns import Columns
from ..points.cube import Cube
from ..points.point_layout import PointLayout
from ..points.reprojection import Reprojection
from ..store import PointStore
from ..store.keys import RAW_KEY
from ..writer.node_spool import NodeSpool, SpoolPart
from .shards import Piece, ShardWriter, load_pieces, temporary_name

Shards = Dict[int, List[Piece]]   # bucket key -> its segments, in order


@dataclass
class Bucketing:
    """Where points go: cells of ``level`` of ``cube`` (the root alone at level 0)."""

    cube: Optional[Cube]
    level: int

    def add(self, shard: ShardWriter, cols: Columns, lo: np.ndarray, hi: np.ndarray) -> bool:
        """Append cols to their buckets; False (and to RAW_KEY) when they are not all inside the cube."""
        if self.cube is None or not self.cube.contains(lo, hi):
            shard.add(RAW_KEY, cols)
            return False
        if self.level == 0:
            shard.add(ROOT, cols)
        else:
            shard.add_segments(*bucket_segments(cols, self.cube.fine_codes(cols.xyz), ROOT, self.level))
        return True


@dataclass
class RangeRead:
    """What a read (or rebucket) task gives back."""

    index: int
    points: int
    imin: np.ndarray
    imax: np.ndarray
    return_zero: int
    outside: bool            # some points fell outside the provisional cube
    shards: Shards
    seconds: Dict[str, float] = field(default_factory=dict)
    # --t-srs: points PROJ could not transform, and the first of them
    unprojected: int = 0
    first_unprojected: Optional[np.ndarray] = None


@dataclass
class ReadJob:
    index: int
    source: Any              # a LasFile (pickled with its header facts)
    start: int
    stop: int
    layout: PointLayout
    scales: np.ndarray
    offsets: np.ndarray
    bucketing: Bucketing
    chunk_points: int
    shard_path: str
    threads: Optional[int]
    packed: bool = True      # shards packed (a shared file system) or raw (one machine)
    reprojection: Optional[Reprojection] = None   # --t-srs: how the input reaches the output CRS


def read_range(job: ReadJob) -> RangeRead:
    TIMINGS.seconds.clear()
    with set_threads(job.threads):
        converter = job.source.converter(job.layout, job.scales, job.offsets, job.reprojection)
        shard = ShardWriter(job.shard_path, job.packed)
        out = RangeRead(job.index, 0, np.full(3, np.iinfo(np.int64).max, np.int64),
                        np.full(3, np.iinfo(np.int64).min, np.int64), 0, False, {})
        try:
            for raw in job.source.chunks(job.chunk_points, job.start, job.stop):
                with TIMINGS("read.convert"):
                    cols = converter.convert(raw)
                with TIMINGS("read.distribute"):
                    lo, hi = chunk_bounds(cols)
                    np.minimum(out.imin, lo, out=out.imin)
                    np.maximum(out.imax, hi, out=out.imax)
                    out.outside |= not job.bucketing.add(shard, cols, lo, hi)
                out.return_zero += return_zero_count(cols)
                out.points += len(cols)
            out.shards = shard.finish()
            out.unprojected, out.first_unprojected = converter.moved.failed, converter.moved.first_failed
        except BaseException:
            shard.abort()
            raise
    out.seconds = dict(TIMINGS.seconds)
    return out


@dataclass
class RebucketJob:
    index: int
    shards: Shards
    rest_size: int
    bucketing: Bucketing
    shard_path: str
    threads: Optional[int]
    packed: bool = True


def rebucket(job: RebucketJob) -> RangeRead:
    """A read range's points again, into the final cube's buckets."""
    TIMINGS.seconds.clear()
    with set_threads(job.threads):
        shard = ShardWriter(job.shard_path, job.packed)
        try:
            for key in sorted(job.shards):
                cols = load_pieces(job.shards[key], job.rest_size)
                if not job.bucketing.add(shard, cols, *chunk_bounds(cols)):
                    raise AssertionError(f"a point of bucket {key} lies outside the final cube")
            shards = shard.finish()
        except BaseException:
            shard.abort()
            raise
    none = np.zeros(3, np.int64)
    return RangeRead(job.index, 0, none, none, 0, False, shards, dict(TIMINGS.seconds))


@dataclass
class UnitsBuilt:
    index: int
    part: SpoolPart
    roots: Shards            # each unit's own points, for the levels above
    big_roots: List[int]     # roots too big for memory (read block by block)
    points: int              # points of the units
    units: int
    seconds: Dict[str, float] = field(default_factory=dict)


@dataclass
class UnitsJob:
    index: int
    units: List[Tuple[int, List[Piece]]]   # unit key, the pieces of its buckets
    cube: Cube
    layout: PointLayout
    leaf_limit: int
    unit_points: int
    memory_budget: int
    page_points: Optional[int]
    extensions: Tuple[Any, ...]   # fresh writer extensions, merged back by the client
    spool_path: str
    roots_path: str
    work_dir: str
    threads: Optional[int]
    packed: bool = True


def build_units(job: UnitsJob) -> UnitsBuilt:
    TIMINGS.seconds.clear()
    with set_threads(job.threads):
        temp_spool = temporary_name(job.spool_path)
        spool = NodeSpool(job.layout, temp_spool, job.extensions)
        roots = ShardWriter(job.roots_path, job.packed)
        scratch = tempfile.mkdtemp(prefix="store-", dir=job.work_dir)
        try:
            out = UnitsBuilt(job.index, None, {}, [], 0, 0)
            for key, pieces in job.units:
                _build_unit(job, key, pieces, spool, roots, out, scratch)
            out.part = spool.part()
            spool.close()
            os.replace(temp_spool, job.spool_path)
            out.part.path = job.spool_path
            out.roots = roots.finish()
        except BaseException:
            spool.close()
            roots.abort()
            remove_quietly(temp_spool)
            raise
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    out.seconds = dict(TIMINGS.seconds)
    return out


def _build_unit(job: UnitsJob, key: int, pieces: List[Piece], spool: NodeSpool, roots: ShardWriter,
                out: UnitsBuilt, scratch: str) -> None:
    """One unit's subtree; its own points (unless it is the root) to the roots shard."""
    budget = MemoryBudget(job.memory_budget)
    store = PointStore(job.layout.rest_size, budget.read_store_bytes(job.layout.bytes_per_point, 0), scratch,
                       job.page_points)
    try:
        with TIMINGS("build.load"):
            total = sum(p[2] for p in pieces)
            if total <= job.unit_points:
                # Straight into the unit's own page, which the tree takes without a copy.
                store.claim_page(key, total)
                load_pieces(pieces, job.layout.rest_size, store.claim(key, total))
            else:   # more than memory holds (a dense bucket): piece by piece, the store spills
                for piece in pieces:
                    store.append(key, load_pieces([piece], job.layout.rest_size))
        store.set_budget(budget.build_store_bytes())
        tree = TreeBuilder(store, job.cube, job.leaf_limit, job.unit_points, spool.add_nodes,
                           lambda: None, spool.add_node_stream, top=key)
        tree.run()
        out.units += tree.units_built
        out.points += sum(p[2] for p in pieces)
        if key != ROOT and key in store:
            if key in tree.big:
                out.big_roots.append(key)
            for block in store.drain(key):
                roots.add(key, block)
    finally:
        store.close()

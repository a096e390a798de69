"""The stages of a build, each a small object with ``run()`` over the plan:

    ScanStage    open every input, make the plan from what they report
    ReadStage    stream every input in chunks into the distributor's
                 buckets, keeping the exact integer bounds (headers lie)
    place_buckets  the root cube; buckets re-made as its cells if needed
    TreeStage    the octree, unit by unit; each node to the writer once final
    FinishStage  chunk table, hierarchy, header; the file renamed into place

``builder.Build`` runs them in this order.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, List, Tuple

import numpy as np

from ..common.errors import InputError
from ..common.options import BuildOptions
from ..common.progress import Progress
from ..common.timing import TIMINGS
from ..kernels.distribute import int_bounds
from ..kernels.point_formats import REST_RETURN
from ..points.columns import Columns
from ..points.cube import Cube
from ..sources.resolve import open_sources
from ..sources.source import PointSource
from ..store import PointStore
from ..writer.copc_writer import CopcWriter
from .distribution import Distributor
from .memory_budget import MemoryBudget
from .plan import Plan, choose_cube, make_plan
from .tree import TreeBuilder


@dataclass
class ScanStage:
    """Open every input and make the plan from what they report."""

    inputs: Any
    options: BuildOptions
    progress: Progress
    software: str

    def run(self) -> Tuple[List[PointSource], Plan]:
        sources = open_sources(self.inputs, self.progress, self.options.chunk_points, self.options.storage)
        self.progress.update("scan", 1, 1)
        for source in sources:
            for text in source.warnings:
                self.progress.warning(text)
        for source in sources:
            if source.point_count == 0 and source.info.bounds_kind != "partial":
                raise InputError(source.path, "holds no points (header point count is 0)")
        plan = make_plan([s.info for s in sources], [s.point_count for s in sources], self.options,
                         self.progress, self.software)
        return sources, plan


@dataclass
class PointsRead:
    imin: np.ndarray   # exact integer bounds of the points read
    imax: np.ndarray
    points: int


@dataclass
class ReadStage:
    """Stream every source in chunks through its converter into the
    distributor's buckets, keeping the exact integer bounds."""

    sources: List[PointSource]
    plan: Plan
    distributor: Distributor
    options: BuildOptions
    progress: Progress

    def run(self) -> PointsRead:
        plan = self.plan
        read = PointsRead(np.full(3, np.iinfo(np.int64).max, np.int64),
                          np.full(3, np.iinfo(np.int64).min, np.int64), 0)
        converters = [s.converter(plan.layout, plan.scales, plan.offsets, plan.reprojection(i))
                      for i, s in enumerate(self.sources)]
        # One bucket and a known size: records are converted straight into
        # the bucket's own page, which the unit later takes without a copy.
        in_place = self.distributor.level == 0 and plan.total_points > 0
        direct_points = sum(s.point_count for s, c in zip(self.sources, converters) if c.writes_in_place)
        if in_place and direct_points:
            self.distributor.reserve_root(direct_points)
        for source, converter in zip(self.sources, converters):
            self._read_source(source, converter, in_place and converter.writes_in_place, read)
        if read.points == 0:
            raise InputError(self.sources[0].path if len(self.sources) == 1 else "(inputs)",
                             "hold no points")
        return read

    def _read_source(self, source: PointSource, converter, direct: bool, read: PointsRead) -> None:
        return_zero = 0
        for raw in source.chunks(self.options.chunk_points):
            with TIMINGS("read.convert"):
                room = self.distributor.room(len(raw)) if direct else None
                cols = converter.convert(raw, room) if room is not None else converter.convert(raw)
            with TIMINGS("read.distribute"):
                lo, hi = chunk_bounds(cols)
                np.minimum(read.imin, lo, out=read.imin)
                np.maximum(read.imax, hi, out=read.imax)
                if room is None:
                    self.distributor.add(cols, lo, hi)
            return_zero += return_zero_count(cols)
            read.points += len(cols)
            self.progress.update("read", read.points, self.plan.total_points)
        converter.moved.raise_if_failed(source.path)
        if return_zero:
            self.progress.warning(return_zero_warning(source.path, return_zero))


def chunk_bounds(cols: Columns) -> Tuple[np.ndarray, np.ndarray]:
    """The exact integer bounds (lowest, highest per axis) of a chunk's points."""
    lo = np.full(3, np.iinfo(np.int64).max, np.int64)
    hi = np.full(3, np.iinfo(np.int64).min, np.int64)
    int_bounds(cols.xyz, lo, hi)
    return lo, hi


def return_zero_count(cols: Columns) -> int:
    """Points with return number 0 (not valid LAS) in a chunk."""
    return int(np.count_nonzero((cols.rest[:, REST_RETURN] & 0x0F) == 0))


def return_zero_warning(path: str, count: int) -> str:
    return (f"{path}: {count:,} points have return number 0, which is not valid; the header counts them "
            f"as first returns")


@dataclass
class TreeStage:
    """Build the octree from the buckets; every node goes to the writer
    once final.  Returns how it went (units, pages spilled, peaks)."""

    store: PointStore
    distributor: Distributor
    writer: CopcWriter
    cube: Cube
    unit_points: int
    budget: MemoryBudget
    options: BuildOptions
    progress: Progress
    points: int
    done: int = field(default=0, init=False)   # points handed to the writer

    def run(self) -> dict:
        self.store.set_budget(self.budget.build_store_bytes())
        tree = TreeBuilder(self.store, self.cube, self.options.leaf_limit, self.unit_points,
                           self._emit, self.progress.check_cancel, self._emit_stream)
        tree.run()
        store = self.store
        return dict(units=tree.units_built, bucket_level=self.distributor.level,
                    spilled_pages=store.spilled_pages, loaded_pages=store.loaded_pages,
                    peak_temp_bytes=store.temp_bytes_peak, peak_store_bytes=store.peak_resident)

    def _emit(self, keys, counts, cols, index) -> None:
        self.writer.add_nodes(keys, counts, cols, index)
        self._count(len(index))

    def _emit_stream(self, key, parts) -> None:
        def counted():
            for cols, index in parts:
                yield cols, index
                self._count(len(index))
        self.writer.add_node_stream(key, counted())

    def _count(self, n: int) -> None:
        self.done += n
        self.progress.update("build", self.done, self.points)


@dataclass
class FinishStage:
    """Chunk table, hierarchy and header; the file renamed into place."""

    writer: CopcWriter
    progress: Progress

    def run(self) -> int:
        self.progress.update("finish", 0, 1, force=True)
        with TIMINGS("finish.write"):
            return self.writer.close()


def place_buckets(plan: Plan, read: PointsRead, distributor: Distributor, budget: MemoryBudget,
                  unit_points: int, progress: Progress) -> Cube:
    """The root cube, and the buckets made cells of it at the level the
    points read call for (redistributed when the headers were wrong)."""
    cube = choose_cube(plan, read.imin, read.imax)
    level = distributor.level or (budget.bucket_level(read.points, unit_points, cube)
                                  if read.points > unit_points else 0)
    distributor.settle(cube, level, progress)
    return cube

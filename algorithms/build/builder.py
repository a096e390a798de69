"""The build: the stages of ``build_stages.py`` in order over the plan, with the
store, temp folder and writer they share; the summary it returns.

    scan    open every input's header, make the plan (format, frame, CRS)
    read    stream every input in chunks into the node store, keeping the
            exact bounds (headers lie)
    build   choose the root cube; build the octree unit by unit, each node
            handed to the writer once final
    finish  chunk table, hierarchy, header; rename into place

The memory the stages may use is shared out by ``MemoryBudget``.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import List, Sequence

from ..common.options import BuildOptions
from ..common.progress import Progress
from ..common.timing import TIMINGS
from ..sources.input_paths import expand_inputs
from ..sources.resolve import is_path
from ..store import PointStore
from ..store.spill_file import WorkFolder
from ..writer.copc_writer import CopcWriter
from ..writer.qgis_stats_extension import writer_extensions
from ..writer.temporal_extension import temporal_extensions
from .build_stages import FinishStage, ReadStage, ScanStage, TreeStage, place_buckets
from .distribution import Distributor
from .memory_budget import MemoryBudget
from .output_target import OutputTarget, output_target


@dataclass
class BuildSummary:
    output: str
    points: int
    nodes: int
    depth: int
    seconds: float
    bytes: int
    point_format: int
    warnings: List[str] = field(default_factory=list)
    # How the build went: units, bucket level, pages spilled/loaded, peaks.
    stats: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return dict(self.__dict__)

    def describe(self) -> str:
        """One line for a log: what was written, how big, how fast."""
        return (f"wrote {self.output}: {self.points:,} points in {self.nodes:,} nodes, "
                f"{self.depth + 1} levels, {self.bytes / 1e6:.1f} MB in {self.seconds:.1f} s "
                f"({self.points / max(self.seconds, 1e-9) / 1e6:.2f} M points/s)")


class Build:
    """One build: the stages in order, with the store, temp folder and
    writer they share, all released however the build ends."""

    def __init__(self, inputs, output: str, options: BuildOptions, progress: Progress,
                 software: str):
        self.inputs = inputs
        self.output = output
        self.options = options
        self.progress = progress
        self.software = software
        self.stats: dict = {}

    def run(self) -> BuildSummary:
        t0 = time.perf_counter()
        TIMINGS.seconds.clear()
        inputs = expand_inputs(self.inputs, self.options.recursive, self.progress.info, self.options.storage)
        paths = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        target = output_target(self.output, [os.fspath(i) for i in paths if is_path(i)], self.options)
        try:
            return self._run(inputs, target, t0)
        finally:
            target.close()

    def _run(self, inputs, target: OutputTarget, t0: float) -> BuildSummary:
        sources, plan = ScanStage(inputs, self.options, self.progress, self.software).run()
        extensions = temporal_extensions(self.options, sources, self.progress)
        work = WorkFolder(self.options.temp_dir)
        store = writer = None
        try:
            budget = MemoryBudget(self.options.memory_budget)
            unit_points = budget.unit_points(plan.layout.bytes_per_point)
            store = PointStore(plan.layout.rest_size,
                               budget.read_store_bytes(plan.layout.bytes_per_point,
                                                       self.options.chunk_points),
                               work.path, self.options.page_points)
            distributor = Distributor.for_plan(store, plan, budget, unit_points)
            read = ReadStage(sources, plan, distributor, self.options, self.progress).run()
            cube = place_buckets(plan, read, distributor, budget, unit_points, self.progress)
            writer = CopcWriter(target.local_path, plan.header, cube, work.path,
                                self.options.hierarchy_page_levels,
                                writer_extensions(plan.header, self.options) + extensions)
            self.stats = TreeStage(store, distributor, writer, cube, unit_points, budget,
                                   self.options, self.progress, read.points).run()
            size = FinishStage(writer, self.progress).run()
            target.publish(self.progress)
            self.stats["seconds"] = TIMINGS.rounded()
        except BaseException:
            if writer is not None:
                writer.abort()
            raise
        finally:
            if store is not None:
                store.close()
            work.close()
        self.progress.update("finish", 1, 1, force=True)
        return BuildSummary(output=target.name, points=writer.points, nodes=writer.node_count,
                            depth=writer.depth, seconds=time.perf_counter() - t0, bytes=size,
                            point_format=plan.layout.point_format,
                            warnings=list(self.progress.warnings), stats=self.stats)

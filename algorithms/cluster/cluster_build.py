"""The build on a Dask cluster: the in-process build's stages as tasks.

    scan      on the client: every input's header, the plan (as in-process)
    read      a task per range of an input's points: exact bounds, and the
              points sorted into buckets (cells of one level of the cube the
              headers promise) in a shard file of the shared work folder
    settle    the cube from the exact bounds; when the headers' bounds did
              not hold, a task per shard puts its points into the real cube's
              buckets
    units     a task per group of buckets: each bucket's subtree built as the
              in-process build builds a unit, its final nodes LAZ-compressed
              into the task's spool, the bucket's own points to a shard
    top       on the client: the levels above the buckets, from those points
    finish    on the client: every spool's chunks in node-key order, the
              hierarchy, the EVLRs, the header; renamed into place

Every node's points are chosen by the same rule from the same candidates as
in-process, and the writer lays chunks out by key, so the output is the same
bytes whatever the number of workers.  Tasks write under temporary names and
rename, so a task Dask runs again (its worker died) leaves the same files.
"""
from __future__ import annotations

import copy
import os
import time
from typing import Dict, List, Optional

import numpy as np

from ..build.build_stages import FinishStage, ScanStage, return_zero_warning
from ..build.builder import BuildSummary
from ..build.memory_budget import MemoryBudget
from ..build.output_target import OutputTarget, output_target
from ..build.plan import Plan, choose_cube
from ..common.errors import InputError, OptionError
from ..common.options import BuildOptions
from ..common.progress import Progress
from ..common.timing import TIMINGS
from ..points.cube import Cube
from ..sources.input_paths import expand_inputs
from ..sources.las_file import LasFile
from ..sources.reprojected import TransformedCoordinates
from ..sources.resolve import is_path
from ..writer.copc_writer import CopcWriter
from ..writer.qgis_stats_extension import writer_extensions
from ..writer.temporal_extension import temporal_extensions
from .cluster_plan import cluster_level, plan_units, read_ranges
from .cluster_top import build_top, warm_top_kernels
from .session import ClusterSession
from .tasks import (Bucketing, RangeRead, ReadJob, RebucketJob, UnitsBuilt, UnitsJob, build_units, read_range,
                    rebucket)


class ClusterBuild:
    """One build on a Dask cluster; the same summary as ``builder.Build``."""

    def __init__(self, inputs, output: str, options: BuildOptions, progress: Progress, software: str):
        self.inputs, self.output, self.options = inputs, output, options
        self.progress, self.software = progress, software
        self.task_seconds: Dict[str, float] = {}
        self.read_tasks = 0

    def run(self) -> BuildSummary:
        t0 = time.perf_counter()
        TIMINGS.seconds.clear()
        opts = self.options
        if not opts.scheduler:
            ClusterSession.start_fork_server()
        inputs = expand_inputs(self.inputs, opts.recursive, self.progress.info, opts.storage)
        paths = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        target = output_target(self.output, [os.fspath(i) for i in paths if is_path(i)], opts)
        try:
            return self._run(inputs, target, t0)
        finally:
            target.close()

    def _run(self, inputs, target: OutputTarget, t0: float) -> BuildSummary:
        opts = self.options
        sources, plan = ScanStage(inputs, opts, self.progress, self.software).run()
        _only_files(sources)
        extensions = writer_extensions(plan.header, opts) + temporal_extensions(opts, sources, self.progress)
        session = ClusterSession(opts.scheduler, opts.workers, opts.temp_dir, self.progress)
        writer = None
        try:
            session.check_visible([s.path for s in sources if s.file.remote is None])   # URLs: workers read the store
            workers = max(session.worker_count, 1)
            threads = opts.threads or (max(1, (os.cpu_count() or 1) // workers) if session.local else None)
            budget = MemoryBudget(task_budget(opts.memory_budget, session.worker_memory()))
            unit_points = budget.unit_points(plan.layout.bytes_per_point)
            warm = warm_top_kernels(plan.layout, _any_cube(plan), extensions, session.folder("warm"))
            cube, level, shards, points = self._read(session, sources, plan, budget, unit_points, workers,
                                                     threads)
            writer = CopcWriter(target.local_path, plan.header, cube, session.folder("client"),
                                opts.hierarchy_page_levels, extensions)
            built = self._units(session, plan, cube, level, shards, points, budget, workers, threads,
                                extensions)
            for result in built:
                writer.add_part(result.part)
            warm.join()
            with TIMINGS("build.top"):
                build_top(writer, cube, built, plan.layout.rest_size, budget, unit_points, opts,
                          session.folder("top"), self.progress)
            size = FinishStage(writer, self.progress).run()
            target.publish(self.progress)
        except BaseException:
            if writer is not None:
                writer.abort()
            raise
        finally:
            session.close()
        self.progress.update("finish", 1, 1, force=True)
        stats = dict(units=sum(r.units for r in built), bucket_level=level, workers=workers,
                     unit_tasks=len(built), read_tasks=self.read_tasks,
                     shard_bytes=sum(sum(p[3]) for per_range in shards for pieces in per_range.values()
                                     for p in pieces),
                     spool_bytes=sum(e[1] for r in built for e in r.part.entries.values()),
                     seconds=TIMINGS.rounded(),
                     task_seconds={k: round(v, 3) for k, v in sorted(self.task_seconds.items())})
        return BuildSummary(output=target.name, points=writer.points, nodes=writer.node_count, depth=writer.depth,
                            seconds=time.perf_counter() - t0, bytes=size, point_format=plan.layout.point_format,
                            warnings=list(self.progress.warnings), stats=stats)

    # -- read and settle -------------------------------------------------------------
    def _read(self, session: ClusterSession, sources: List[LasFile], plan: Plan, budget: MemoryBudget,
              unit_points: int, workers: int, threads: Optional[int]):
        """Read every range into buckets; the final cube, level and shards."""
        provisional = plan.header_cube()
        level = cluster_level(plan.total_points, unit_points, workers, provisional, budget)
        ranges = read_ranges(sources, plan.total_points, workers, self.options.chunk_points)
        folder = session.folder("read")
        jobs = [ReadJob(i, sources[s], a, b, plan.layout, np.asarray(plan.scales), np.asarray(plan.offsets),
                        Bucketing(provisional, level), self.options.chunk_points,
                        os.path.join(folder, f"range-{i}.shard"), threads, packed=not session.local,
                        reprojection=plan.reprojection(s))
                for i, (s, a, b) in enumerate(ranges)]
        results: List[RangeRead] = []
        self.read_tasks = len(jobs)
        self.progress.update("read", 0, plan.total_points)

        def done(result: RangeRead) -> None:
            results.append(result)
            self._add_seconds(result.seconds)
            self.progress.update("read", sum(r.points for r in results), plan.total_points)

        session.run("read_range", read_range, jobs, done)
        results.sort(key=lambda r: r.index)
        raise_unprojected(sources, plan, ranges, results)
        warn_return_zero(self.progress, sources, ranges, results)
        points = sum(r.points for r in results)
        if points == 0:
            raise InputError(sources[0].path if len(sources) == 1 else "(inputs)", "hold no points")
        imin = np.min([r.imin for r in results], axis=0)
        imax = np.max([r.imax for r in results], axis=0)
        cube = choose_cube(plan, imin, imax)
        final_level = cluster_level(points, unit_points, workers, cube, budget)
        outside = any(r.outside for r in results)
        if outside or cube != provisional or final_level != level:
            if outside:
                self.progress.info("the headers' bounds do not hold every point; redistributing")
            results = self._rebucket(session, results, plan, Bucketing(cube, final_level), threads)
        return cube, final_level, [r.shards for r in results], points

    def _rebucket(self, session, results: List[RangeRead], plan: Plan, bucketing: Bucketing,
                  threads: Optional[int]) -> List[RangeRead]:
        folder = session.folder("rebucket")
        jobs = [RebucketJob(r.index, r.shards, plan.layout.rest_size, bucketing,
                            os.path.join(folder, f"range-{r.index}.shard"), threads, packed=not session.local)
                for r in results]
        again: List[RangeRead] = []
        with TIMINGS("build.redistribute"):
            session.run("rebucket", rebucket, jobs, again.append)
        return sorted(again, key=lambda r: r.index)

    # -- units -------------------------------------------------------------------------
    def _units(self, session, plan: Plan, cube: Cube, level: int, shards, points: int, budget: MemoryBudget,
               workers: int, threads: Optional[int], extensions) -> List[UnitsBuilt]:
        unit_points = budget.unit_points(plan.layout.bytes_per_point)
        merged: Dict[int, list] = {}
        for per_range in shards:   # in range order: a bucket's points in read order
            for key, pieces in per_range.items():
                merged.setdefault(key, []).extend(pieces)
        folder = session.folder("units")
        opts = self.options
        jobs = [UnitsJob(i, group, cube, plan.layout, opts.leaf_limit, unit_points, budget.total,
                         opts.page_points, tuple(copy.deepcopy(e) for e in extensions),
                         os.path.join(folder, f"units-{i}.laz"), os.path.join(folder, f"roots-{i}.shard"),
                         folder, threads, packed=not session.local)
                for i, group in enumerate(plan_units(merged, points, unit_points, opts.leaf_limit, level, workers))]
        built: List[UnitsBuilt] = []

        def done(result: UnitsBuilt) -> None:
            built.append(result)
            self._add_seconds(result.seconds)
            self.progress.update("build", sum(r.points for r in built), points)

        session.run("build_units", build_units, jobs, done)
        return sorted(built, key=lambda r: r.index)

    def _add_seconds(self, seconds: Dict[str, float]) -> None:
        for label, value in seconds.items():
            self.task_seconds[label] = self.task_seconds.get(label, 0.0) + value


def task_budget(memory_budget: int, worker_memory: Optional[int]) -> int:
    """The memory budget of one task: the build's, or less on workers with
    less memory (half their limit: Dask pauses a worker at 80 %, and the
    runtime takes its share)."""
    if worker_memory is None:
        return memory_budget
    return max(min(memory_budget, worker_memory // 2 - MemoryBudget.runtime_bytes), 16 << 20)


def _any_cube(plan: Plan) -> Cube:
    """A cube in the plan's frame (the headers' bounds, or a unit cube), for the warm-up."""
    zero = np.zeros(3, np.int64)
    return plan.header_cube() or Cube.enclosing(zero, zero, plan.scales, plan.offsets)


def warn_return_zero(progress: Progress, sources, ranges, results: List[RangeRead]) -> None:
    """The in-process build's warning for points with return number 0, one
    per input, from the ranges' counts."""
    counts = [0] * len(sources)
    for (s, _, _), result in zip(ranges, results):
        counts[s] += result.return_zero
    for source, n in zip(sources, counts):
        if n:
            progress.warning(return_zero_warning(source.path, n))


def raise_unprojected(sources, plan: Plan, ranges, results: List[RangeRead]) -> None:
    """The in-process build's error for points PROJ could not transform, from the ranges' counts."""
    for s, source in enumerate(sources):
        mine = [r for (index, _, _), r in zip(ranges, results) if index == s and r.unprojected]
        if mine:
            moved = TransformedCoordinates(plan.reprojection(s), plan.offsets)
            moved.failed = sum(r.unprojected for r in mine)
            moved.first_failed = mine[0].first_unprojected
            moved.raise_if_failed(source.path)


def _only_files(sources) -> None:
    for source in sources:
        if not isinstance(source, LasFile):
            raise OptionError(f"{source.path}: the cluster build reads LAS/LAZ files, which every worker opens "
                              f"itself; build arrays and PDAL pipelines without --scheduler/--workers")

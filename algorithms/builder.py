"""The build, stage by stage: scan -> read -> build -> finish.

    scan    open every input's header, make the plan (format, frame, CRS)
    read    stream every input in chunks into the node store, keeping the
            exact bounds (headers lie)
    build   choose the root cube; build the octree unit by unit, each node
            handed to the writer once final
    finish  chunk table, hierarchy, header; rename into place
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import List, Optional, Sequence

import numpy as np

from .copc_writer import CopcWriter
from .cube import Cube
from .distribution import Distributor
from .errors import InputError, OutputError
from .kernels.distribute import int_bounds
from .format.node_key import ROOT
from .options import BuildOptions
from .plan import Plan, choose_cube, make_plan
from .progress import Progress
from .qgis_stats_extension import writer_extensions
from .sources.las_records import RecordConverter
from .sources.resolve import _is_path, open_sources
from .store import PointStore
from .store.spill_file import WorkFolder
from .temp_files import temp_name_for
from .timing import TIMINGS
from .tree import TreeBuilder

# Bytes a point costs while its unit is built in memory, beyond its columns
# (taken twice: store pages and the unit's copy): codes, GPS keys, index
# pool, flags, sort buffers.
UNIT_OVERHEAD = 50
UNIT_SHARE = 0.7    # of the budget, for the unit being built
READ_SHARE = 0.65   # of the budget, for store pages while reading
STORE_SHARE = 0.15  # of the budget, for store pages while units are built


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


def check_output_path(output: str, inputs: Sequence[str]) -> str:
    path = os.path.abspath(os.fspath(output))
    folder = os.path.dirname(path)
    if os.path.isdir(path):
        raise OutputError(path, "is a folder; give a file name such as out.copc.laz")
    if not os.path.exists(folder):
        raise OutputError(path, f"the folder {folder} does not exist")
    if not os.path.isdir(folder):
        raise OutputError(path, f"{folder} is not a folder")
    for inp in inputs:
        if os.path.exists(inp) and os.path.exists(path) and os.path.samefile(inp, path):
            raise OutputError(path, "is also an input; choose another output name")
    # Find out now, not after reading every point, whether the folder takes files.
    probe = temp_name_for(path)
    try:
        with open(probe, "wb"):
            pass
        os.remove(probe)
    except OSError as exc:
        raise OutputError(path, f"cannot write here ({exc.strerror})") from None
    return path


class Build:
    def __init__(self, inputs, output: str, options: BuildOptions, progress: Progress,
                 software: str):
        self.inputs = inputs
        self.output = output
        self.options = options
        self.progress = progress
        self.software = software

    def run(self) -> BuildSummary:
        t0 = time.perf_counter()
        TIMINGS.seconds.clear()
        progress = self.progress
        paths = [i for i in (self.inputs if isinstance(self.inputs, (list, tuple)) else [self.inputs])
                 if _is_path(i)]
        output = check_output_path(self.output, [os.fspath(p) for p in paths])

        # -- scan ---------------------------------------------------------------
        files = open_sources(self.inputs, progress, self.options.chunk_points)
        progress.update("scan", 1, 1)
        for f in files:
            for text in getattr(f, "warnings", ()):
                progress.warning(text)
        for f in files:
            if f.point_count == 0 and f.info.bounds_kind != "partial":
                raise InputError(f.path, "holds no points (header point count is 0)")
        plan = make_plan([f.info for f in files], [f.point_count for f in files], self.options,
                         progress, self.software)

        work = WorkFolder(self.options.temp_dir)
        store = None
        writer = None
        try:
            budget = self.options.memory_budget
            per_point = 2 * plan.layout.bytes_per_point + UNIT_OVERHEAD
            # The budget is for point data; Python, numba and the libraries
            # take about a further 200 MB, the writer's batches a little more.
            unit_points = int(budget * UNIT_SHARE) // per_point
            chunk_bytes = self.options.chunk_points * (3 * plan.layout.bytes_per_point + 64)
            store = PointStore(plan.layout.rest_size, max(int(budget * READ_SHARE) - chunk_bytes, 0),
                               work.path, self.options.page_points)
            distributor = self._distributor(store, plan, unit_points)

            # -- read -----------------------------------------------------------
            imin, imax, total = self._read(files, plan, distributor)
            if total == 0:
                raise InputError(files[0].path if len(files) == 1 else "(inputs)", "hold no points")

            # -- build ----------------------------------------------------------
            cube = choose_cube(plan, imin, imax)
            level = distributor.level or (self._bucket_level(total, unit_points, cube)
                                          if total > unit_points else 0)
            if level != distributor.level or (level and (distributor.broken or distributor.cube != cube)):
                if distributor.level:
                    progress.info("the headers' bounds do not hold every point; redistributing")
                with TIMINGS("build.redistribute"):
                    distributor.redistribute(cube, level)
            writer = CopcWriter(output, plan.header, cube, work.path, self.options.hierarchy_page_levels,
                                extensions=writer_extensions(plan.header, self.options))
            store.set_budget(int(budget * STORE_SHARE))
            done = [0]

            def emit(keys, counts, c, index):
                writer.add_nodes(keys, counts, c, index)
                done[0] += len(index)
                progress.update("build", done[0], total)

            def emit_stream(key, parts):
                def counted():
                    for cols, index in parts:
                        yield cols, index
                        done[0] += len(index)
                        progress.update("build", done[0], total)
                writer.add_node_stream(key, counted())

            tree = TreeBuilder(store, cube, self.options.leaf_limit, unit_points, emit,
                               progress.check_cancel, emit_stream)
            tree.run()
            self.stats = dict(units=tree.units_built, bucket_level=distributor.level,
                              spilled_pages=store.spilled_pages, loaded_pages=store.loaded_pages,
                              peak_temp_bytes=store.temp_bytes_peak,
                              peak_store_bytes=store.peak_resident)
            progress.update("finish", 0, 1, force=True)
            with TIMINGS("finish.write"):
                size = writer.close()
            self.stats["seconds"] = TIMINGS.rounded()
        except BaseException:
            if writer is not None:
                writer.abort()
            raise
        finally:
            if store is not None:
                store.close()
            work.close()
        progress.update("finish", 1, 1, force=True)
        return BuildSummary(output=output, points=writer.points, nodes=writer.node_count,
                            depth=writer.depth, seconds=time.perf_counter() - t0, bytes=size,
                            point_format=plan.layout.point_format, warnings=list(progress.warnings),
                            stats=self.stats)

    def _distributor(self, store: PointStore, plan: Plan, unit_points: int) -> Distributor:
        """One bucket (the root) when the cloud fits a unit, else cells of a
        level where a bucket holds about a quarter of a unit (aerial clouds
        spread over x and y, so a level has about 4**level filled cells)."""
        total = plan.total_points
        if total <= unit_points:   # includes streams of unknown size (0)
            return Distributor(store, None, 0)
        cube = None
        if plan.header_bounds is not None:
            cube = Cube.enclosing(plan.header_bounds[0], plan.header_bounds[1], plan.scales, plan.offsets)
        return Distributor(store, cube, self._bucket_level(total, unit_points, cube))

    @staticmethod
    def _bucket_level(total: int, unit_points: int, cube: Optional[Cube]) -> int:
        """The level whose cells hold about a quarter of a unit, 8 at most
        and no deeper than the cube can split."""
        target = max(unit_points // 4, 1)
        level = 1
        while total / 4 ** level > target and level < 8:
            level += 1
        return level if cube is None else min(level, max(cube.max_depth, 1))

    def _read(self, files, plan: Plan, distributor: Distributor):
        progress = self.progress
        imin = np.full(3, np.iinfo(np.int64).max, np.int64)
        imax = np.full(3, np.iinfo(np.int64).min, np.int64)
        lo = np.empty(3, np.int64)
        hi = np.empty(3, np.int64)
        done = 0
        total = plan.total_points
        # One bucket and a known size: LAS records are converted straight into
        # the bucket's own page, which the unit later takes without a copy.
        converters = [f.converter(plan.layout, plan.scales, plan.offsets) for f in files]
        in_place = distributor.level == 0 and total > 0
        direct_points = sum(f.point_count for f, c in zip(files, converters) if isinstance(c, RecordConverter))
        if in_place and direct_points:
            distributor.store.claim_page(ROOT, direct_points)
        for f, converter in zip(files, converters):
            direct = in_place and isinstance(converter, RecordConverter)
            for raw in f.chunks(self.options.chunk_points):
                with TIMINGS("read.convert"):
                    room = distributor.store.claim(ROOT, len(raw)) if direct else None
                    cols = converter.convert(raw, room) if room is not None else converter.convert(raw)
                with TIMINGS("read.distribute"):
                    lo[:] = np.iinfo(np.int64).max
                    hi[:] = np.iinfo(np.int64).min
                    int_bounds(cols.xyz, lo, hi)
                    np.minimum(imin, lo, out=imin)
                    np.maximum(imax, hi, out=imax)
                    if room is None:
                        distributor.add(cols, lo, hi)
                done += len(cols)
                progress.update("read", done, total)
        return imin, imax, done

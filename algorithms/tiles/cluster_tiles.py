"""The tiled build on a Dask cluster: the cluster build's read tasks, with
tiles for buckets, then one task per group of tiles.

    scan      on the client, as in-process
    read      a task per range of an input's points (cluster.tasks.read_range):
              the points sorted by tile into the task's shard
    tiles     a task per group of tiles (tile_tasks.build_tiles): each tile
              built as in-process into the shared work folder, its root
              points to a shard
    overview  on the client, from the roots' shards, as in-process
    finish    the tiles moved from the work folder, the .vpc written, all put
              in place

A tile's points, cube and header are those of the in-process build, so every
file is the same bytes whatever the number of workers.
"""
from __future__ import annotations

import copy
import os
import shutil
from typing import Dict, List, Optional

import numpy as np

from ..build.memory_budget import MemoryBudget
from ..cluster.cluster_build import raise_unprojected, task_budget, warn_return_zero
from ..cluster.cluster_plan import TASKS_PER_WORKER, read_ranges
from ..cluster.session import ClusterSession
from ..cluster.shards import load_pieces
from ..cluster.tasks import RangeRead, ReadJob, read_range
from ..common.errors import InputError, OptionError
from ..sources.las_file import LasFile
from .grid import cell_key, key_cell
from .overview import RootCollector
from .tile_distribution import fold_bounds
from .tile_tasks import TileBucketing, TilesBuilt, TilesJob, build_tiles
from .tiled_build import TiledBuild


class ClusterTiledBuild(TiledBuild):
    session: Optional[ClusterSession] = None

    def run(self):
        if not self.options.scheduler:
            ClusterSession.start_fork_server()
        try:
            return super().run()
        finally:
            if self.session is not None:
                self.session.close()

    def _tiles(self, sources, plan, grid, store, settings, outputs) -> RootCollector:
        for source in sources:
            if not isinstance(source, LasFile):
                raise OptionError(f"{source.path}: the cluster build reads LAS/LAZ files, which every worker opens "
                                  f"itself; build arrays and PDAL pipelines without --scheduler/--workers")
        opts = self.options
        self.session = session = ClusterSession(opts.scheduler, opts.workers, opts.temp_dir, self.progress)
        session.check_visible([s.path for s in sources if s.file.remote is None])   # URLs: workers read the store
        workers = max(session.worker_count, 1)
        threads = opts.threads or (max(1, (os.cpu_count() or 1) // workers) if session.local else None)
        budget = MemoryBudget(task_budget(opts.memory_budget, session.worker_memory()))
        shards = self._read(session, sources, plan, grid, workers, threads)
        built = self._build(session, plan, grid, shards, budget, workers, threads, outputs, settings)
        roots = RootCollector(store)
        for result in built:
            for cell, written in result.written.items():
                shutil.move(written.path, outputs.tile_path(grid.name(outputs.stem, cell)))
                self.written[cell] = written
            for key, pieces in sorted(result.roots.items()):
                cell = key_cell(key)
                for piece in pieces:
                    cols = load_pieces([piece], plan.layout.rest_size)
                    store.append(cell_key(cell, overview=True), cols)
                    roots.counts[cell] = roots.counts.get(cell, 0) + len(cols)
                fold_bounds(roots.bounds, cell, *result.root_bounds[cell])
        return roots

    def _read(self, session: ClusterSession, sources, plan, grid, workers: int, threads) -> Dict[int, list]:
        ranges = read_ranges(sources, plan.total_points, workers, self.options.chunk_points)
        folder = session.folder("read")
        jobs = [ReadJob(i, sources[s], a, b, plan.layout, np.asarray(plan.scales), np.asarray(plan.offsets),
                        TileBucketing(grid), self.options.chunk_points, os.path.join(folder, f"range-{i}.shard"),
                        threads, packed=not session.local, reprojection=plan.reprojection(s))
                for i, (s, a, b) in enumerate(ranges)]
        results: List[RangeRead] = []

        def done(result: RangeRead) -> None:
            results.append(result)
            self.progress.update("read", sum(r.points for r in results), plan.total_points)

        session.run("read_range", read_range, jobs, done)
        results.sort(key=lambda r: r.index)
        raise_unprojected(sources, plan, ranges, results)
        warn_return_zero(self.progress, sources, ranges, results)
        self.points = sum(r.points for r in results)
        if self.points == 0:
            raise InputError(sources[0].path if len(sources) == 1 else "(inputs)", "hold no points")
        merged: Dict[int, list] = {}
        for result in results:   # in range order: a tile's points in read order
            for key, pieces in result.shards.items():
                merged.setdefault(key, []).extend(pieces)
        return merged

    def _build(self, session, plan, grid, shards: Dict[int, list], budget: MemoryBudget, workers: int, threads,
               outputs, settings) -> List[TilesBuilt]:
        folder = session.folder("tiles")
        opts = self.options
        target = max(1, self.points // (TASKS_PER_WORKER * workers))
        groups: List[list] = []
        size = 0
        for key in sorted(shards):
            n = sum(p[2] for p in shards[key])
            if not groups or size + n > target:
                groups.append([])
                size = 0
            cell = key_cell(key)
            groups[-1].append((cell, grid.name(outputs.stem, cell), shards[key]))
            size += n
        jobs = [TilesJob(i, group, plan.header, tuple(copy.deepcopy(e) for e in settings.extensions),
                         opts.leaf_limit, budget.unit_points(plan.layout.bytes_per_point), budget.total,
                         opts.page_points, opts.hierarchy_page_levels, folder,
                         os.path.join(folder, f"roots-{i}.shard"), folder, threads, packed=not session.local)
                for i, group in enumerate(groups)]
        built: List[TilesBuilt] = []

        def done(result: TilesBuilt) -> None:
            built.append(result)
            self._count(result.points)

        session.run("build_tiles", build_tiles, jobs, done)
        return sorted(built, key=lambda r: r.index)

"""The tiled build: the single build with one more cut.

    scan      every input's header, the plan (format, frame, CRS), as for one file
    read      every input once: the points go to their tiles in the read itself
              (tile_distribution.py)
    tiles     each non-empty tile built as its own COPC, one after another,
              within the memory budget (tile_copc.py); each tile's root node
              kept for the overview
    overview  one COPC of the tiles' roots (overview.py), split on a coarser
              grid when too large
    finish    the .vpc (STAC ItemCollection); every file moved into place
              (vpc_outputs.py)
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Dict, List, Tuple

from ..build.build_stages import ReadStage, ScanStage
from ..build.builder import BuildSummary
from ..build.distribution import Distributor
from ..build.memory_budget import MemoryBudget
from ..common.errors import OptionError
from ..common.options import BuildOptions
from ..common.progress import Progress
from ..common.timing import TIMINGS
from ..format.node_key import ROOT
from ..format.vpc_record import collection_bytes
from ..sources.input_paths import expand_inputs
from ..sources.resolve import is_path
from ..store import PointStore
from ..store.spill_file import WorkFolder
from ..writer.qgis_stats_extension import writer_extensions
from ..writer.temporal_extension import temporal_extensions
from .grid import TileGrid, cell_key
from .overview import RootCollector, gather_part, overview_factor, overview_parts
from .tile_copc import CopcWritten, TileSettings, write_copc_from_columns, write_copc_from_store
from .tile_distribution import TileDistributor, tiles_in_memory
from .vpc_items import Footprints, make_item, pc_schemas
from .vpc_outputs import VpcOutputs, vpc_outputs

Cell = Tuple[int, int]


@dataclass
class TilesSummary(BuildSummary):
    """A tiled build's summary: ``output`` is the .vpc, ``tiles`` and ``overviews`` the COPC files."""

    tiles: List[dict] = field(default_factory=list)        # name, path, points, bytes
    overviews: List[dict] = field(default_factory=list)

    def describe(self) -> str:
        over = sum(o["points"] for o in self.overviews)
        return (f"wrote {self.output}: {self.points:,} points in {len(self.tiles):,} tiles "
                f"({self.bytes / 1e6:.1f} MB), overview {over:,} points in {len(self.overviews)} file(s), "
                f"in {self.seconds:.1f} s ({self.points / max(self.seconds, 1e-9) / 1e6:.2f} M points/s)")


def tiled_plan(options: BuildOptions, plan) -> Tuple[TileGrid, Footprints]:
    if not plan.header.wkt:
        raise OptionError("a tiled build needs a CRS (the .vpc places every tile in WGS 84); the inputs have "
                          "none: assign one with --a-srs (a_srs=, or CRS in QGIS)")
    return TileGrid(options.tile_size, plan.scales, plan.offsets), Footprints(plan.header.wkt)


class TiledBuild:
    """One tiled build; everything it made is removed however it ends, but its outputs on success."""

    def __init__(self, inputs, output: str, options: BuildOptions, progress: Progress, software: str):
        self.inputs, self.output, self.options = inputs, output, options
        self.progress, self.software = progress, software
        self.written: Dict[Cell, CopcWritten] = {}
        self.done = 0
        self.points = 0

    def run(self) -> TilesSummary:
        t0 = time.perf_counter()
        TIMINGS.seconds.clear()
        inputs = expand_inputs(self.inputs, self.options.recursive, self.progress.info, self.options.storage)
        paths = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        outputs = vpc_outputs(self.output, [os.fspath(i) for i in paths if is_path(i)], self.options, self.progress)
        work = store = None
        try:
            sources, plan = ScanStage(inputs, self.options, self.progress, self.software).run()
            grid, footprints = tiled_plan(self.options, plan)
            extensions = writer_extensions(plan.header, self.options) + temporal_extensions(
                self.options, sources, self.progress)
            work = WorkFolder(self.options.temp_dir)
            budget = MemoryBudget(self.options.memory_budget)
            unit_points = budget.unit_points(plan.layout.bytes_per_point)
            store = PointStore(plan.layout.rest_size, budget.read_store_bytes(
                plan.layout.bytes_per_point, self.options.chunk_points), work.path, self.options.page_points)
            settings = TileSettings(plan.header, tuple(extensions), self.options.leaf_limit, unit_points, budget,
                                    work.path, self.options.hierarchy_page_levels, self.progress.check_cancel,
                                    self._count)
            self.points = plan.total_points
            roots = self._tiles(sources, plan, grid, store, settings, outputs)
            overviews = self._overviews(grid, roots, settings, outputs) if self.options.overview else []
            self.progress.update("finish", 0, 1, force=True)
            items = self._items(plan, grid, footprints, outputs, overviews)
            outputs.commit(collection_bytes(items), [o["name"] for o in overviews])
        except BaseException:
            outputs.abort()
            raise
        finally:
            if store is not None:
                store.close()
            if work is not None:
                work.close()
        self.progress.update("finish", 1, 1, force=True)
        return self._summary(outputs, plan, overviews, time.perf_counter() - t0, store)

    # -- read and tiles -------------------------------------------------------------------
    def _tiles(self, sources, plan, grid: TileGrid, store: PointStore, settings: TileSettings,
               outputs: VpcOutputs) -> RootCollector:
        roots = RootCollector(store)
        if plan.total_points and plan.total_points <= settings.unit_points:
            # As for one file: read in place into the root bucket, then tile in memory.
            read = ReadStage(sources, plan, Distributor(store, None, 0), self.options, self.progress).run()
            self.points = read.points
            store.set_budget(settings.budget.build_store_bytes())
            cols = store.take(ROOT)
            for cell, part, (lo, hi) in tiles_in_memory(cols, grid, read.imin, read.imax):
                self.progress.check_cancel()
                name = grid.name(outputs.stem, cell)
                with TIMINGS("build.tiles"):
                    self.written[cell] = write_copc_from_columns(part, lo, hi, outputs.tile_path(name), settings,
                                                                 roots.sink(cell))
            return roots
        distributor = TileDistributor(store, grid)
        read = ReadStage(sources, plan, distributor, self.options, self.progress).run()
        self.points = read.points
        store.set_budget(settings.budget.build_store_bytes())
        for cell in distributor.cells():
            self.progress.check_cancel()
            lo, hi = distributor.bounds[cell]
            name = grid.name(outputs.stem, cell)
            with TIMINGS("build.tiles"):
                self.written[cell] = write_copc_from_store(store, cell_key(cell), lo, hi, outputs.tile_path(name),
                                                           settings, roots.sink(cell))
        return roots

    def _count(self, n: int) -> None:
        self.done += n
        self.progress.update("build", self.done, self.points)

    # -- overview ----------------------------------------------------------------------------
    def _overviews(self, grid: TileGrid, roots: RootCollector, settings: TileSettings,
                   outputs: VpcOutputs) -> List[dict]:
        factor = overview_factor(grid.size, self.options.overview_size, roots.counts)
        quiet = TileSettings(**{**settings.__dict__, "on_points": lambda n: None})
        made = []
        for part in overview_parts(grid, outputs.overview_stem, factor, sorted(self.written)):
            self.progress.check_cancel()
            key, (lo, hi) = gather_part(roots, part)
            with TIMINGS("build.overview"):
                written = write_copc_from_store(roots.store, key, lo, hi, outputs.overview_path(part.name), quiet)
            made.append(dict(name=part.name, path=outputs.final_overview(part.name), points=written.points,
                             bytes=written.bytes, tiles=part.tiles))
        return made

    # -- the .vpc --------------------------------------------------------------------------------
    def _items(self, plan, grid: TileGrid, footprints: Footprints, outputs: VpcOutputs, overviews: List[dict]):
        overview_of = {cell: o["name"] for o in overviews for cell in o["tiles"]}
        schemas = pc_schemas(plan.layout)
        items = []
        for cell in sorted(self.written):
            w = self.written[cell]
            name = grid.name(outputs.stem, cell)
            hrefs = [outputs.overview_href(overview_of[cell])] if cell in overview_of else []
            items.append(make_item(name, outputs.tile_href(name), w.points, w.imin, w.imax, plan.header,
                                   footprints, hrefs, schemas))
        return items

    def _summary(self, outputs: VpcOutputs, plan, overviews, seconds: float, store) -> TilesSummary:
        written = [self.written[c] for c in sorted(self.written)]
        tiles = [dict(name=os.path.basename(w.path)[:-len(".copc.laz")],
                      path=outputs.final_tile(os.path.basename(w.path)[:-len(".copc.laz")]),
                      points=w.points, nodes=w.nodes, bytes=w.bytes) for w in written]
        stats = dict(tiles=len(tiles), seconds=TIMINGS.rounded(),
                     spilled_pages=store.spilled_pages if store else 0,
                     peak_temp_bytes=store.temp_bytes_peak if store else 0,
                     peak_store_bytes=store.peak_resident if store else 0)
        for o in overviews:
            o.pop("tiles", None)
        return TilesSummary(output=outputs.vpc, points=sum(w.points for w in written),
                            nodes=sum(w.nodes for w in written), depth=max((w.depth for w in written), default=0),
                            seconds=seconds, bytes=sum(w.bytes for w in written),
                            point_format=plan.layout.point_format, warnings=list(self.progress.warnings),
                            stats=stats, tiles=tiles, overviews=overviews)

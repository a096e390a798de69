"""The public API: ``build_copc(inputs, output, **options)``, and every name
the hosts (command line, QGIS, the PDAL stage) use.  Hosts import the core
only through this module or the root package; nothing here imports pdal,
qgis or dask (the PDAL parts import pdal when called).
"""
from __future__ import annotations

import os
from typing import Callable, Optional

from .build.builder import Build, BuildSummary
from .build.kernel_warm import kernels_compiled, warm_kernels
from .common.errors import (BuildCancelled, CopcBuilderError, DependencyError, InputError, OptionError,
                            OutputError)
from .common.options import (CHUNK_POINTS, DEFAULT_MEMORY_BUDGET, LEAF_LIMIT, BuildOptions, parse_size,
                             parse_triple)
from .common.progress import Progress
from .common.threads import prepare_threads, set_threads
from .inspection.dry_run import DryRun, plan_dry_run
from .inspection.info import copc_info, format_info
from .inspection.info_compare import compare_infos, format_compare
from .inspection.info_picture import Picture, draw_info_png
from .kernels.numba_target import load_numba_target
from .sources.laspy_module import load_laspy
from .sources.pdal_pipeline import PipelineInput
from .sources.pdal_stage_points import stage_source
from .sources.pdal_support import STAGE_INSTALL, import_pdal, pdal_missing_message
from .storage.storage_options import StorageOptions, redacted_storage_text
from .storage.storage_options import storage_options as parse_storage_options
from .storage.urls import is_url, shown_name
from .validate import ValidationReport, format_report, validate_copc

__all__ = [
    "build_copc", "BuildSummary", "dry_run", "DryRun", "DEFAULT_MEMORY_BUDGET", "PipelineInput",
    "validate_copc", "ValidationReport", "format_report", "copc_info", "format_info",
    "compare_infos", "format_compare", "draw_info_png", "Picture",
    "CopcBuilderError", "InputError", "OutputError", "OptionError", "DependencyError", "BuildCancelled",
    "prepare_threads", "stage_source", "STAGE_INSTALL", "import_pdal", "pdal_missing_message",
    "StorageOptions", "parse_storage_options", "is_url", "shown_name", "redacted_storage_text",
    "warm_kernels", "kernels_compiled", "load_numba_target", "load_laspy",
]


def _version() -> str:
    from copc_builder import __version__

    return __version__


def build_copc(inputs, output, *, memory_budget=DEFAULT_MEMORY_BUDGET, temp_dir: Optional[str] = None,
               threads: Optional[int] = None, scale=None, offset=None, a_srs: Optional[str] = None,
               observer=None, cancel: Optional[Callable[[], bool]] = None,
               leaf_limit: int = LEAF_LIMIT, chunk_points: int = CHUNK_POINTS,
               page_points: Optional[int] = None, hierarchy_page_levels: int = 0,
               temporal_index: Optional[int] = None, statistics: bool = True,
               recursive: bool = False, scheduler: Optional[str] = None,
               workers: int = 0, storage_options=None, tile_size: Optional[float] = None, overview: bool = True,
               overview_size: Optional[float] = None, t_srs: Optional[str] = None) -> BuildSummary:
    """Build one COPC file from LAS/LAZ files.

    inputs      a path or a list of paths (LAS/LAZ 1.0-1.4, any point format; a
                folder stands for its .las/.laz files, sorted by path, and
                "@list.txt" for the paths in the file, one a line); or
                points as numpy structured arrays with PDAL dimension names: one
                array, a list of arrays or any iterable of arrays (one cloud);
                or a pdal.Pipeline
    output      the .copc.laz to write; it appears only when the build succeeds
    memory_budget  bytes or a size such as "512M", "2G" (default
                options.DEFAULT_MEMORY_BUDGET)
    temp_dir    where spilled pages go (default: the system temp folder)
    threads     worker threads for numba kernels and LAZ compression
    scale, offset  one value or three (x, y, z); default: the inputs' own
    a_srs       CRS to assign ("EPSG:2056", WKT...), overriding the inputs'
    temporal_index  stride S: add the COPC temporal index (each node's GPS times at
                its points 0, S, 2S, ... and the last); needs inputs with GPS time
    recursive   folders among the inputs: their subfolders' LAS/LAZ files too
    observer    object with on_progress(event) / on_message(level, text)
    cancel      callable polled between units of work; True stops the build
    statistics  add the exact point statistics QGIS reads (an EVLR); False leaves it out
    scheduler   run on a Dask cluster: its scheduler's address (tcp://host:8786)
                or scheduler file; needs dask[distributed], a temp_dir every
                worker sees, and inputs the workers can read at the same paths
    workers     run on a local Dask cluster of this many worker processes
                (the output is the same bytes as the in-process build's)
    storage_options  for s3:// and http(s):// inputs and an s3:// output: a dict
                ({"anon": True, "region": "eu-central-2", "endpoint_url": ...,
                "key": ..., "secret": ...}) or "KEY=VALUE" strings, over what the
                AWS environment variables and profiles give; needs the storage extra
    tile_size   COPC tiles of this size (output CRS units) in OUTPUT-tiles/ and
                ``output`` a .vpc listing them (README: Tiles; an s3:// one is uploaded); a TilesSummary
    overview, overview_size  the overview COPC of the tiles' roots (default on),
                split on cells of overview_size (whole tiles) when given
    t_srs       reproject every point to this CRS as it is read (README: Reprojection)
    """
    options = _options(memory_budget=memory_budget, temp_dir=temp_dir, threads=threads, scale=scale,
                       offset=offset, a_srs=a_srs, leaf_limit=leaf_limit, chunk_points=chunk_points,
                       page_points=page_points, hierarchy_page_levels=hierarchy_page_levels,
                       temporal_index=temporal_index, statistics=statistics, recursive=recursive,
                       scheduler=scheduler, workers=workers, storage=storage_options, t_srs=t_srs)
    options = _with_tiles(options, output, tile_size, overview, overview_size)
    progress = Progress(observer, cancel)
    with set_threads(options.threads):
        if options.tile_size is not None:
            return _build_tiles(inputs, output, options, progress)
        if options.on_cluster:
            from .cluster.cluster_build import ClusterBuild

            return ClusterBuild(inputs, output, options, progress, f"copc_builder {_version()}").run()
        return Build(inputs, output, options, progress, f"copc_builder {_version()}").run()


def _with_tiles(options: BuildOptions, output, tile_size, overview, overview_size) -> BuildOptions:
    """The options with the tiled build's (checked)."""
    from .tiles.grid import check_size

    options.tile_size = check_size(tile_size) if tile_size is not None else None
    options.overview = bool(overview)
    options.overview_size = check_size(overview_size, "overview size") if overview_size is not None else None
    if options.tile_size is None and str(output).lower().endswith(".vpc"):
        raise OptionError(f"{output}: a .vpc lists tiles; give a tile size (--tile-size) to write one")
    return options.checked()


def _build_tiles(inputs, output, options: BuildOptions, progress: Progress) -> BuildSummary:
    if options.on_cluster:
        from .tiles.cluster_tiles import ClusterTiledBuild

        return ClusterTiledBuild(inputs, output, options, progress, f"copc_builder {_version()}").run()
    from .tiles.tiled_build import TiledBuild

    return TiledBuild(inputs, output, options, progress, f"copc_builder {_version()}").run()


def dry_run(inputs, output=None, *, memory_budget=DEFAULT_MEMORY_BUDGET, temp_dir: Optional[str] = None,
            scale=None, offset=None, a_srs: Optional[str] = None, recursive: bool = False,
            observer=None, leaf_limit: int = LEAF_LIMIT, chunk_points: int = CHUNK_POINTS,
            storage_options=None, t_srs: Optional[str] = None) -> DryRun:
    """What ``build_copc`` would do with these inputs and options, from the
    inputs' headers alone (no point read, nothing written): the frame, the
    cube, the expected depth, units, bucket level, temp bytes and peak
    memory.  ``output``, when given, is checked without being written."""
    options = _options(memory_budget=memory_budget, temp_dir=temp_dir, threads=None, scale=scale,
                       offset=offset, a_srs=a_srs, leaf_limit=leaf_limit, chunk_points=chunk_points,
                       page_points=None, hierarchy_page_levels=0, temporal_index=None, statistics=True,
                       recursive=recursive, scheduler=None, workers=0, storage=storage_options, t_srs=t_srs)
    return plan_dry_run(inputs, options, Progress(observer), f"copc_builder {_version()}", output)


def _options(*, memory_budget, temp_dir, threads, scale, offset, a_srs, leaf_limit, chunk_points,
             page_points, hierarchy_page_levels, temporal_index, statistics, recursive, scheduler,
             workers, storage=None, t_srs=None) -> BuildOptions:
    return BuildOptions(
        memory_budget=parse_size(memory_budget),
        temp_dir=os.fspath(temp_dir) if temp_dir is not None else None,
        threads=threads,
        scale=parse_triple(scale, "scale") if scale is not None else None,
        offset=parse_triple(offset, "offset") if offset is not None else None,
        a_srs=a_srs,
        leaf_limit=leaf_limit,
        chunk_points=chunk_points,
        page_points=page_points,
        hierarchy_page_levels=hierarchy_page_levels,
        temporal_index=temporal_index,
        statistics=statistics,
        recursive=bool(recursive),
        scheduler=os.fspath(scheduler) if scheduler else None,
        workers=int(workers or 0),
        storage=parse_storage_options(storage) if storage is not None else None,
        t_srs=t_srs or None,
    ).checked()

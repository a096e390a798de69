"""The Python API: ``build_copc(inputs, output, **options)``."""
from __future__ import annotations

import os
from typing import Callable, Optional

from .builder import Build, BuildSummary
from .options import BuildOptions, parse_size, parse_triple
from .progress import Progress
from .threads import set_threads

__all__ = ["build_copc", "BuildSummary"]


def _version() -> str:
    from copc_builder import __version__

    return __version__


def build_copc(inputs, output, *, memory_budget="2G", temp_dir: Optional[str] = None,
               threads: Optional[int] = None, scale=None, offset=None, a_srs: Optional[str] = None,
               observer=None, cancel: Optional[Callable[[], bool]] = None,
               leaf_limit: int = 100_000, chunk_points: int = 1_000_000,
               page_points: Optional[int] = None, hierarchy_page_levels: int = 0,
               statistics: bool = True) -> BuildSummary:
    """Build one COPC file from LAS/LAZ files.

    inputs      a path or a list of paths (LAS/LAZ 1.0-1.4, any point format); or
                points as numpy structured arrays with PDAL dimension names: one
                array, a list of arrays or any iterable of arrays (one cloud);
                or a pdal.Pipeline
    output      the .copc.laz to write; it appears only when the build succeeds
    memory_budget  bytes or a size such as "512M", "2G"
    temp_dir    where spilled pages go (default: the system temp folder)
    threads     worker threads for numba kernels and LAZ compression
    scale, offset  one value or three (x, y, z); default: the inputs' own
    a_srs       CRS to assign ("EPSG:2056", WKT...), overriding the inputs'
    observer    object with on_progress(event) / on_message(level, text)
    cancel      callable polled between units of work; True stops the build
    statistics  add the exact point statistics QGIS reads (an EVLR); False leaves it out
    """
    options = BuildOptions(
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
        statistics=statistics,
    ).checked()
    progress = Progress(observer, cancel)
    with set_threads(options.threads):
        return Build(inputs, output, options, progress, f"copc_builder {_version()}").run()

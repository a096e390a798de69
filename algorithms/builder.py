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
from typing import List, Sequence

import numpy as np

from .columns import Columns
from .copc_writer import CopcWriter
from .errors import InputError, OutputError
from .node_key import ROOT
from .octree_unit import build_unit
from .options import BuildOptions
from .plan import Plan, choose_cube, make_plan
from .progress import Progress
from .sources.las_file import LasFile
from .sources.las_records import RecordConverter


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

    def as_dict(self) -> dict:
        return dict(self.__dict__)


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
    return path


class Build:
    def __init__(self, paths: Sequence[str], output: str, options: BuildOptions, progress: Progress,
                 software: str):
        self.paths = [os.fspath(p) for p in paths]
        self.output = output
        self.options = options
        self.progress = progress
        self.software = software

    def run(self) -> BuildSummary:
        t0 = time.perf_counter()
        progress = self.progress
        output = check_output_path(self.output, self.paths)
        if not self.paths:
            raise InputError("(no input)", "give at least one LAS/LAZ file")

        # -- scan ---------------------------------------------------------------
        files = []
        for i, path in enumerate(self.paths):
            files.append(LasFile(path))
            progress.update("scan", i + 1, len(self.paths))
        for f in files:
            if f.point_count == 0:
                raise InputError(f.path, "holds no points (header point count is 0)")
        plan = make_plan([f.info for f in files], [f.point_count for f in files], self.options,
                         progress, self.software)

        # -- read ---------------------------------------------------------------
        parts, imin, imax = self._read(files, plan)

        # -- build --------------------------------------------------------------
        cube = choose_cube(plan, imin, imax)
        cols = Columns.concat(parts, plan.layout.rest_size)
        del parts
        writer = CopcWriter(output, plan.header, cube, self.options.hierarchy_page_levels)
        try:
            total = len(cols)
            done = [0]

            def emit(keys, counts, c, index):
                writer.add_nodes(keys, counts, c, index)
                done[0] += len(index)
                progress.update("build", done[0], total)

            build_unit(cols, ROOT, cube, self.options.leaf_limit, emit, True, progress.check_cancel)
            del cols
            progress.update("finish", 0, 1, force=True)
            size = writer.close()
        except BaseException:
            writer.abort()
            raise
        progress.update("finish", 1, 1, force=True)
        return BuildSummary(output=output, points=writer.points, nodes=writer.node_count,
                            depth=writer.depth, seconds=time.perf_counter() - t0, bytes=size,
                            point_format=plan.layout.point_format, warnings=list(progress.warnings))

    def _read(self, files: Sequence[LasFile], plan: Plan):
        progress = self.progress
        imin = np.full(3, np.iinfo(np.int64).max, np.int64)
        imax = np.full(3, np.iinfo(np.int64).min, np.int64)
        parts: List[Columns] = []
        done = 0
        total = plan.total_points
        for f in files:
            converter = RecordConverter(f.info, plan.layout, plan.scales, plan.offsets)
            for raw in f.chunks(self.options.chunk_points):
                cols = converter.convert(raw)
                np.minimum(imin, cols.xyz.min(axis=0), out=imin)
                np.maximum(imax, cols.xyz.max(axis=0), out=imax)
                parts.append(cols)
                done += len(cols)
                progress.update("read", done, total)
        return parts, imin, imax

"""What a build would do, from the inputs' headers alone: no point is read,
nothing is written.

    estimate = dry_run(["a.laz", "b.laz"], memory_budget="256M")
    print(estimate.describe())

The plan (point format, frame, CRS) is the build's own (``ScanStage``); the
root cube is the one the headers' bounds give (the build keeps it when the
points lie inside it, see ``plan.choose_cube``); units and bucket level
follow ``MemoryBudget`` as the build does.  Three figures are estimates:

- depth and units assume points spread evenly over the headers' bounds
  (units cut as the build's planner cuts them), with the densest cell or
  unit UNEVEN times that (aerial clouds are not even);
- temp bytes: the points that cannot stay in the store's share of the
  budget, compressed as well as lz4 does on byte-shuffled columns, which
  is about LAZ_TO_STORE times the inputs' own LAZ ratio (or
  LAS_STORE_RATIO for uncompressed inputs);
- peak memory: the runtime (Python, numba, the libraries) plus the larger
  of the read stage (store pages and a chunk in flight) and the build stage
  (the biggest unit in memory and what stays of the store).
"""
from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from typing import List, Optional, Tuple

from ..build.build_stages import ScanStage
from ..build.memory_budget import MemoryBudget
from ..build.plan import Plan
from ..common.errors import CopcBuilderError
from ..common.options import BuildOptions
from ..common.progress import Progress
from ..points.cube import Cube
from ..sources.input_paths import expand_inputs
from ..sources.source import PointSource
from ..storage.urls import is_url

# Densest cell over the mean, for depth and units (measured on airborne tiles).
UNEVEN = 2.0
# lz4 on byte-shuffled store columns over LAZ, for the same points (about
# 1.3 on airborne tiles), and the lz4 ratio assumed for uncompressed inputs.
LAZ_TO_STORE = 1.3
LAS_STORE_RATIO = 0.35
# Copies of a chunk in flight while reading (raw records, converted columns,
# their bucketed copy), in store bytes a point: what builds measure, where
# MemoryBudget.chunk_overhead plans with a margin.
CHUNK_COPIES = 3


@dataclass
class DryRun:
    """The plan of a build and what it is expected to take."""

    inputs: int
    points: int
    point_format: int
    bytes_per_point: int          # in the node store
    scale: Tuple[float, float, float]
    offset: Tuple[float, float, float]
    crs: Optional[str]            # the WKT's name, or None
    cube_center: Optional[Tuple[float, float, float]]   # None: the headers' bounds are not usable
    cube_halfsize: Optional[float]
    depth: Optional[int]          # expected deepest level (root = 0)
    memory_budget: int
    unit_points: int              # points of the biggest unit built in memory
    units: int                    # expected units
    bucket_level: int             # 0: one bucket, the root (the cloud fits one unit)
    temp_bytes: int               # expected peak size of the spill file
    peak_memory: int              # expected peak resident memory of the process
    notes: List[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        mb = 1 << 20
        lines = [f"inputs:        {self.inputs} ({self.points:,} points by their headers)",
                 f"output:        point format {self.point_format}, {self.bytes_per_point} bytes a point in the store",
                 f"frame:         scale {_triple(self.scale)}, offset {_triple(self.offset)}",
                 f"CRS:           {self.crs or 'none'}"]
        if self.cube_center is not None:
            lines.append(f"cube:          center {_triple(self.cube_center)}, halfsize {self.cube_halfsize:.15g}")
        else:
            lines.append("cube:          from the points (the headers' bounds are not usable)")
        lines += [f"depth:         about {self.depth} (deepest level; root = 0)" if self.depth is not None
                  else "depth:         unknown",
                  f"memory budget: {self.memory_budget / mb:,.0f} MiB; units of up to {self.unit_points:,} points, "
                  f"about {self.units:,} unit{'' if self.units == 1 else 's'}",
                  f"bucket level:  {self.bucket_level}" + (" (one bucket: the cloud fits one unit)"
                                                           if self.bucket_level == 0 else ""),
                  f"temp bytes:    about {self.temp_bytes / mb:,.1f} MiB",
                  f"peak memory:   about {self.peak_memory / mb:,.0f} MiB"]
        lines += [f"note:          {n}" for n in self.notes]
        return "\n".join(lines)


def _triple(values) -> str:
    return "(" + ", ".join(f"{v:.15g}" for v in values) + ")"


def filled_cells(plan: Plan, cube: Cube, level: int) -> int:
    """Cells of ``level`` the headers' bounds cover (the cube's corner sits at their minimum)."""
    lo, hi = plan.header_bounds
    cell = cube.side / 2 ** level
    cells = 1
    for a in range(3):
        extent = (int(hi[a]) - int(lo[a]) + 1) * plan.scales[a]
        cells *= min(2 ** level, max(1, math.ceil(extent / cell)))
    return cells


def level_for(plan: Plan, cube: Optional[Cube], points_per_cell: int) -> Optional[int]:
    """The first level whose densest cell holds at most ``points_per_cell``."""
    if cube is None or plan.total_points <= 0:
        return None
    for level in range(cube.max_depth + 1):
        if plan.total_points * UNEVEN / filled_cells(plan, cube, level) <= points_per_cell:
            return level
    return cube.max_depth


def store_ratio(sources: List[PointSource]) -> float:
    """Expected compressed over raw size of spilled store pages."""
    packed = raw = 0
    for s in sources:
        info = s.info
        if info.compressed and info.record_length and s.point_count:
            packed += max(info.point_data[1] - info.point_data[0], 0)
            raw += s.point_count * info.record_length
    if raw == 0:
        return LAS_STORE_RATIO
    return min(1.0, max(0.05, LAZ_TO_STORE * packed / raw))


def axis_shares(plan: Plan, cube: Cube, level: int, index: Tuple[int, int, int]) -> float:
    """Share of the points in cell ``index`` of ``level``, for points spread
    evenly over the headers' bounds (the cube's corner sits at their minimum)."""
    lo, hi = plan.header_bounds
    cell = cube.side / 2 ** level
    share = 1.0
    for a in range(3):
        extent = (int(hi[a]) - int(lo[a]) + 1) * plan.scales[a]
        start = index[a] * cell
        share *= max(0.0, min(start + cell, extent) - start) / extent
    return share


def even_units(plan: Plan, cube: Cube, unit_points: int) -> Tuple[int, int]:
    """(units, points of the biggest) as the build's planner cuts an evenly
    spread cloud: a cell is a unit when it holds at most ``unit_points``,
    else its eight children are looked at."""
    total = plan.total_points
    units, biggest = 0, 0
    todo = [(0, (0, 0, 0))]
    while todo:
        level, index = todo.pop()
        points = total * axis_shares(plan, cube, level, index)
        if points <= 0:
            continue
        if points <= unit_points or level >= cube.max_depth:
            units, biggest = units + 1, max(biggest, int(points))
            continue
        todo += [(level + 1, (2 * index[0] + dx, 2 * index[1] + dy, 2 * index[2] + dz))
                 for dx in (0, 1) for dy in (0, 1) for dz in (0, 1)]
    return units, biggest


def expected_units(plan: Plan, cube: Optional[Cube], unit_points: int) -> Tuple[int, int]:
    """(units, points of the biggest unit); real clouds are uneven, so the
    biggest is taken UNEVEN times that of an even one, at most a unit."""
    total = plan.total_points
    if total <= unit_points:
        return 1, total
    if cube is None:
        return math.ceil(total / unit_points), unit_points
    units, biggest = even_units(plan, cube, unit_points)
    return units, min(unit_points, int(biggest * UNEVEN))


def expected_peak(budget: MemoryBudget, total: int, bpp: int, options: BuildOptions,
                  unit_points: int, biggest_unit: int) -> int:
    """The runtime plus the larger of the read and the build stage."""
    chunk = min(total, options.chunk_points) * CHUNK_COPIES * bpp
    if total <= unit_points:
        # One bucket, written in place; the unit takes its page without a copy.
        read = total * bpp + chunk
        build = total * (bpp + budget.unit_overhead)
    else:
        read = min(total * bpp, budget.read_store_bytes(bpp, options.chunk_points)) + chunk
        build = biggest_unit * (2 * bpp + budget.unit_overhead) + budget.build_store_bytes()
    return budget.runtime_bytes + max(read, build)


def expected_temp(budget: MemoryBudget, total: int, bpp: int, options: BuildOptions,
                  unit_points: int, ratio: float) -> int:
    """The spill file's peak: what the store cannot keep, compressed."""
    if total <= unit_points:
        return 0
    resident = min(budget.read_store_bytes(bpp, options.chunk_points), budget.build_store_bytes())
    return int(max(0, total * bpp - resident) * ratio)


def plan_dry_run(inputs, options: BuildOptions, progress: Progress, software: str,
                 output=None) -> DryRun:
    """Open the inputs' headers, make the build's plan, and estimate the rest."""
    inputs = expand_inputs(inputs, options.recursive, progress.info, options.storage)
    sources, plan = ScanStage(inputs, options, progress, software).run()
    try:
        result = estimate(sources, plan, options)
    finally:
        for source in sources:
            source.close()
    problem = output_problem(output, options.storage) if output is not None else None
    if problem:
        result.notes.append(f"the output cannot be written: {problem}")
    return result


def estimate(sources: List[PointSource], plan: Plan, options: BuildOptions) -> DryRun:
    """The dry run of a build of ``sources`` with ``plan`` and ``options``."""
    budget = MemoryBudget(options.memory_budget)
    bpp = plan.layout.bytes_per_point
    unit_points = budget.unit_points(bpp)
    total = plan.total_points
    cube = plan.header_cube()
    bucket_level = 0 if total <= unit_points else budget.bucket_level(total, unit_points, cube)
    units, biggest_unit = expected_units(plan, cube, unit_points)
    notes = []
    if any(not s.info.compressed and s.info.record_length == 0 for s in sources):
        notes.append("arrays and pipelines have no file to estimate the spill's compression from")
    if cube is None:
        notes.append("the headers' bounds are not usable; the cube comes from the points when built")
    return DryRun(
        inputs=len(sources), points=total, point_format=plan.layout.point_format, bytes_per_point=bpp,
        scale=plan.scales, offset=plan.offsets, crs=wkt_name(plan.header.wkt),
        cube_center=cube.center if cube else None, cube_halfsize=cube.halfsize if cube else None,
        depth=level_for(plan, cube, options.leaf_limit), memory_budget=options.memory_budget,
        unit_points=unit_points, units=units, bucket_level=bucket_level,
        temp_bytes=expected_temp(budget, total, bpp, options, unit_points, store_ratio(sources)),
        peak_memory=expected_peak(budget, total, bpp, options, unit_points, biggest_unit), notes=notes)


def wkt_name(wkt: Optional[str]) -> Optional[str]:
    """The CRS's name, or the start of the WKT when pyproj cannot read it."""
    if not wkt:
        return None
    try:
        import pyproj

        return pyproj.CRS.from_wkt(wkt).name
    except Exception:   # CRSError, or no pyproj: show what the WKT says
        return wkt[:60] + ("..." if len(wkt) > 60 else "")


def output_problem(output, storage=None) -> Optional[str]:
    """Why ``output`` could not be written, checked without writing; None when it could.
    An s3:// output: its bucket exists and takes uploads (one started and aborted)."""
    if is_url(output):
        from ..storage.storage_options import storage_options
        from ..storage.upload import check_destination, output_location

        try:
            check_destination(output_location(output), storage_options(storage))
        except CopcBuilderError as exc:
            return getattr(exc, "problem", str(exc))
        return None
    path = os.path.abspath(os.fspath(output))
    folder = os.path.dirname(path)
    if os.path.isdir(path):
        return f"{path} is a folder"
    if not os.path.isdir(folder):
        return f"the folder {folder} does not exist"
    if not os.access(folder, os.W_OK):
        return f"the folder {folder} is not writable"
    return None

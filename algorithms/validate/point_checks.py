"""Checks of the points, decoded one node at a time: each node's LAZ chunk
(node.*), points inside their node's cube (points.cube), and the totals
against the header and the info VLR (bounds, gpstime, counts.by_return,
returns).
"""
from __future__ import annotations

import math
from typing import Optional

import numpy as np

from ..common.errors import CopcBuilderError
from ..format import CopcInfo, HierarchyEntry, layered_chunk_header, layered_chunk_size
from .context import ValidationContext
from .extra_range_check import check_extra_ranges, extra_ranges_to_check
from .info_checks import cube_problems
from .report import ERROR, MAX_FINDINGS_PER_CHECK, num, xyz


class _PointStats:
    """What the point checks sum up over all nodes."""

    def __init__(self, header):
        self.scale = np.asarray(header.scale, dtype=np.float64)
        self.offset = np.asarray(header.offset, dtype=np.float64)
        self.count = 0
        self.int_min = np.full(3, np.iinfo(np.int64).max, dtype=np.int64)
        self.int_max = np.full(3, np.iinfo(np.int64).min, dtype=np.int64)
        self.gps_min = math.inf
        self.gps_max = -math.inf
        self.returns = np.zeros(16, dtype=np.int64)
        self.return_above_count = 0
        self.outside_points = 0
        self.outside_nodes = 0


def check_points(ctx: ValidationContext) -> None:
    """Decodes every node that has a chunk, in file order, reporting progress."""
    f, info = ctx.file, ctx.info
    dtype = f.point_dtype()
    cube_info = None if cube_problems(info) else info
    stats = _PointStats(ctx.header)
    todo = sorted((e for e in ctx.entries if e.point_count > 0 and e.byte_size > 0
                   and e.offset + e.byte_size <= f.size), key=lambda e: e.offset)
    total = sum(e.point_count for e in todo)
    ctx.progress.update("finish", 0, total)
    extra_ranges = extra_ranges_to_check(ctx)
    done = 0
    for entry in todo:
        points = _decode_node(ctx, entry, dtype)
        if points is None:
            continue
        if len(points):
            _check_node_points(ctx, entry, points, cube_info, stats)
            if extra_ranges is not None:
                extra_ranges.fold(np.ascontiguousarray(points).view(np.uint8).reshape(len(points), -1))
        done += entry.point_count
        ctx.progress.update("finish", done, total)
    ctx.report.decoded_points = stats.count
    _check_totals(ctx, stats)
    if extra_ranges is not None:
        check_extra_ranges(ctx, extra_ranges)


def _decode_node(ctx: ValidationContext, entry: HierarchyEntry, dtype) -> Optional[np.ndarray]:
    """The node's records, after checking its chunk's head against its entry;
    None when the chunk does not decode."""
    f, laz = ctx.file, ctx.laz
    data = f.read_chunk(entry)
    try:
        in_chunk, layers = layered_chunk_header(data, laz)
    except ValueError as exc:
        ctx.error("node.decode", f"node {entry.key}: {exc}")
        return None
    if in_chunk != entry.point_count:
        ctx.error("node.count", f"node {entry.key}: the hierarchy says {entry.point_count} points, "
                  f"its LAZ chunk holds {in_chunk}")
    expected_size = layered_chunk_size(laz, layers)
    if expected_size != entry.byte_size:
        ctx.error("node.chunk_size", f"node {entry.key}: the hierarchy says {entry.byte_size} bytes, "
                  f"its LAZ chunk's layers make {expected_size}")
    # Decode no more than the chunk says it holds: a corrupt count in
    # the hierarchy must not make us allocate gigabytes.
    count = min(entry.point_count, in_chunk)
    try:
        return f.decode_chunk(data, count, laz, entry.key, dtype)
    except CopcBuilderError as exc:
        ctx.error("node.decode", exc.problem)
    except MemoryError:
        ctx.error("node.decode", f"node {entry.key}: {count} points do not fit in memory")
    return None


def _check_node_points(ctx: ValidationContext, entry: HierarchyEntry, points: np.ndarray,
                       info: Optional[CopcInfo], stats: _PointStats) -> None:
    """Adds the node's points to ``stats``; with a usable cube (``info``),
    checks that they lie inside the node's cube."""
    stats.count += len(points)
    ints = [points[axis] for axis in ("X", "Y", "Z")]
    lo_int = np.array([a.min() for a in ints], dtype=np.int64)
    hi_int = np.array([a.max() for a in ints], dtype=np.int64)
    np.minimum(stats.int_min, lo_int, out=stats.int_min)
    np.maximum(stats.int_max, hi_int, out=stats.int_max)
    gps = points["gps_time"]
    gps = gps[~np.isnan(gps)]   # NaN has no place in a range (writers skip it too)
    if len(gps):
        stats.gps_min = min(stats.gps_min, float(gps.min()))
        stats.gps_max = max(stats.gps_max, float(gps.max()))
    bits = points["return_bits"]
    ret = bits & 0x0F
    stats.returns += np.bincount(ret, minlength=16)
    stats.return_above_count += int(np.count_nonzero(ret > (bits >> 4)))

    if info is None:
        return
    # x = X*scale + offset is monotone in X, so the extremes decide
    # whether any point is out; the full pass runs only for bad nodes.
    scale, offset = stats.scale, stats.offset
    cube_lo, cube_hi = entry.key.cube(info)
    lo = lo_int * scale + offset
    hi = hi_int * scale + offset
    if np.all(lo >= cube_lo) and np.all(hi <= cube_hi):
        return
    coords = np.stack([a * s + o for a, s, o in zip(ints, scale, offset)], axis=1)
    out = np.any((coords < cube_lo) | (coords > cube_hi), axis=1)
    bad = int(np.count_nonzero(out))
    stats.outside_points += bad
    stats.outside_nodes += 1
    first = coords[np.argmax(out)]
    beyond = float(np.max(np.maximum(cube_lo - coords[out], coords[out] - cube_hi)))
    ctx.error("points.cube", f"node {entry.key}: {bad} point{'s' if bad != 1 else ''} outside its cube "
              f"(by up to {beyond:.3g}), first at {xyz(first)}, cube [{xyz(cube_lo)}, {xyz(cube_hi)}]")


def _check_totals(ctx: ValidationContext, stats: _PointStats) -> None:
    if stats.outside_nodes > MAX_FINDINGS_PER_CHECK:
        # The total always shows, past the per-check limit.
        ctx.findings.add_always(ERROR, "points.cube", f"in all, {stats.outside_points} points in "
                                f"{stats.outside_nodes} nodes lie outside their node's cube")
    if stats.count == 0:
        return
    _check_bounds(ctx, stats)
    info, h = ctx.info, ctx.header
    if (info.gpstime_minimum, info.gpstime_maximum) != (stats.gps_min, stats.gps_max):
        ctx.error("gpstime", f"info VLR GPS time range is [{num(info.gpstime_minimum)}, "
                  f"{num(info.gpstime_maximum)}], the points' range is [{num(stats.gps_min)}, "
                  f"{num(stats.gps_max)}]")
    # Return number 0 is not valid; it counts as return 1 (as the writer and
    # LAS 1.2 headers count it), so the sums still add up to the point count.
    real = [int(c) for c in stats.returns[1:16]]
    real[0] += int(stats.returns[0])
    if real != [int(c) for c in h.points_by_return]:
        ctx.error("counts.by_return", f"header points by return {list(h.points_by_return)}, "
                  f"the points have {real}")
    if stats.returns[0]:
        ctx.warning("returns", f"{int(stats.returns[0])} points have return number 0")
    if stats.return_above_count:
        ctx.warning("returns", f"{stats.return_above_count} points have a return number above "
                    "their number of returns")


def _check_bounds(ctx: ValidationContext, stats: _PointStats) -> None:
    """Header bounds: compared in the quantized grid, so a bound written as
    the unrounded double of the same integer still matches."""
    h, scale, offset = ctx.header, stats.scale, stats.offset
    with np.errstate(all="ignore"):
        hdr_lo = np.round((np.asarray(h.mins) - offset) / scale)
        hdr_hi = np.round((np.asarray(h.maxs) - offset) / scale)
    real_lo = stats.int_min * scale + offset
    real_hi = stats.int_max * scale + offset
    for i, axis in enumerate("xyz"):
        if hdr_lo[i] != stats.int_min[i]:
            ctx.error("bounds", f"header min {axis} is {num(h.mins[i])}, the points' min {axis} "
                      f"is {num(real_lo[i])}")
        if hdr_hi[i] != stats.int_max[i]:
            ctx.error("bounds", f"header max {axis} is {num(h.maxs[i])}, the points' max {axis} "
                      f"is {num(real_hi[i])}")

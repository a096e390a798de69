"""``--t-srs``: the plan's side of reprojection.

Each input is transformed from its own CRS (or ``--a-srs``) to the target,
so inputs in different CRSs merge.  Here, before a point is read, the plan
decides per input how (heights or not, the lattice's cell size), says which
operation PROJ chose and which grids it missed, and turns the inputs' facts
into the target's: header bounds transformed (an estimate: the cube comes
from the points, see ``plan.choose_cube``) and a scale for the target's
units.  The points themselves are transformed in the read stage
(``points/reprojection.py``).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..common.errors import InputError
from ..common.options import BuildOptions
from ..common.progress import Progress
from ..points.crs_operations import (EARTH_RADIUS, CrsFacts, box_samples, crs_facts, describe_operation,
                                     lonlat_area, nearest_power_of_two, power_of_two_at_most, same_crs)
from ..points.reprojection import Reprojection
from ..sources.source_info import SourceInfo

# The lattice's cells: about this many points each, at most this wide on the
# ground (interpolation errors grow with the square of the width: 8 m keeps
# them near 1e-11 degree, 1e-6 m), and this tall.
CELL_POINTS = 1024
MAX_CELL_METRES = 8.0
CELL_HEIGHT_METRES = 64.0
# A geographic output's scale: 1e-7 degree, about a centimetre on the ground.
GEOGRAPHIC_SCALE_DEGREES = 1e-7
# Scale for inputs with no frame of their own, in the target's linear unit.
DEFAULT_LINEAR_SCALE = 0.001
# Interpolated values may differ from PROJ's by this fraction of the output's scale.
TOLERANCE_OF_SCALE = 1e-3


@dataclass
class ReprojectionPlan:
    infos: List[SourceInfo]          # the inputs' facts in the target CRS
    reprojections: List[Reprojection]
    scale: Tuple[float, float, float]
    target: CrsFacts


def plan_reprojection(infos: Sequence[SourceInfo], options: BuildOptions,
                      progress: Progress) -> Optional[ReprojectionPlan]:
    """How each input reaches the target CRS; None when every input is in it
    already (the build is then the build without --t-srs, but for the WKT)."""
    target = crs_facts(options.t_srs, "the target CRS")
    assigned = crs_facts(options.a_srs, "the assigned CRS") if options.a_srs else None
    facts: Dict[str, CrsFacts] = {}
    sources = []
    for info in infos:
        if assigned is None and not info.crs_wkt:
            raise InputError(info.path, f"has no CRS ({info.crs_note}), so it cannot be reprojected; "
                                        f"assign one with --a-srs")
        if assigned is None and info.crs_wkt not in facts:
            facts[info.crs_wkt] = _facts_of_input(info)
        sources.append(assigned or facts[info.crs_wkt])
    if all(same_crs(source, target) for source in set(sources)):
        progress.info(f"the input{'s are' if len(infos) > 1 else ' is'} in {target.name} already; "
                      f"nothing to reproject")
        return None
    reprojections = [Reprojection(info.path, source.text, target.text, _heights(source, target),
                                  lattice_steps(info, source), source_name=source.name, target_name=target.name)
                     for info, source in zip(infos, sources)]
    _report(infos, sources, reprojections, target, progress)
    moved = [_in_target(info, rep) for info, rep in zip(infos, reprojections)]
    if target.geographic:
        progress.warning(stretched_warning(target, moved))
    scale = target_scale(infos, sources, reprojections, target)
    progress.info(f"output scale for {target.name}: {tuple(float(s) for s in scale)}"
                  + ("" if options.scale is None else " (overridden by the scale given)"))
    return ReprojectionPlan(moved, reprojections, scale, target)


def stretched_warning(target: CrsFacts, moved: Sequence[SourceInfo]) -> str:
    """What a geographic output does to the octree, with the inputs' extent."""
    text = (f"the output CRS {target.name} is geographic: the octree's cube takes its degrees and the heights' "
            f"units as the same numbers, so on the ground its cells are far from cubes (a degree is about "
            f"111 km)")
    bounded = [i for i in moved if i.mins is not None and i.maxs is not None]
    if bounded:
        span = np.max([i.maxs for i in bounded], axis=0) - np.min([i.mins for i in bounded], axis=0)
        text += (f"; the inputs span about {span[0]:.3g} by {span[1]:.3g} in longitude and latitude and "
                 f"{span[2]:.3g} in height")
        if span[2] > max(span[0], span[1]):
            text += ", so the coarse levels split heights alone"
    return text + "; viewers still show it, a projected CRS makes a better octree"


def _facts_of_input(info: SourceInfo) -> CrsFacts:
    try:
        return crs_facts(info.crs_wkt, "its CRS")
    except Exception as exc:
        raise InputError(info.path, f"{exc}; assign a CRS with --a-srs") from None


def _heights(source: CrsFacts, target: CrsFacts) -> bool:
    """Heights are transformed when both CRSs have a vertical axis, and always
    to or from geocentric coordinates (where X and Y depend on them)."""
    return (source.vertical and target.vertical) or source.geocentric or target.geocentric


def _heights_note(source: CrsFacts, target: CrsFacts, heights: bool) -> Optional[str]:
    if heights and not source.vertical:
        return (f"{source.name} has no vertical axis; its heights are taken as ellipsoidal heights "
                f"(in metres) for {target.name}")
    if heights:
        return None
    flat = [c.name for c in (source, target) if not c.vertical]
    return (f"heights are kept as they were read ({' and '.join(flat)} "
            f"{'have' if len(flat) > 1 else 'has'} no vertical axis); only X and Y are transformed")


def _report(infos, sources, reprojections, target: CrsFacts, progress: Progress) -> None:
    """Per source CRS: the operation PROJ uses, the grids it lacks, what becomes of heights."""
    groups: Dict[str, List[int]] = {}
    for i, source in enumerate(sources):
        groups.setdefault(source.text, []).append(i)
    for members in groups.values():
        source, rep = sources[members[0]], reprojections[members[0]]
        named = infos[members[0]].path if len(members) == 1 else \
            f"{len(members)} inputs ({infos[members[0]].path}, ...)"
        area = lonlat_area(source, [(infos[i].mins, infos[i].maxs) for i in members
                                    if infos[i].mins is not None and infos[i].maxs is not None])
        used, notes = describe_operation(rep.transformer(), source, target, area)
        progress.info(f"{named}: from {source.name} to {target.name} with PROJ's {used}")
        for note in notes:
            progress.warning(f"{named}: {note}")
        note = _heights_note(source, target, rep.heights)
        if note:
            progress.warning(f"{named}: {note}")


def lattice_steps(info: SourceInfo, source: CrsFacts) -> Tuple[float, float, float]:
    """The lattice's cell size in the input's units: powers of two, about
    CELL_POINTS points a cell by the header's density, at most MAX_CELL_METRES
    wide; CELL_HEIGHT_METRES tall (transformations are nearly linear in
    height)."""
    metres = MAX_CELL_METRES
    if info.mins is not None and info.maxs is not None and info.point_count > 0:
        extent = np.abs(np.asarray(info.maxs, np.float64) - np.asarray(info.mins, np.float64))
        ground = [source.ground(float(extent[0])), source.ground(float(extent[1]))]
        if source.geocentric:
            ground = sorted(float(e) * source.xy_unit for e in extent)[1:]
        area = ground[0] * ground[1]
        if np.isfinite(area) and area > 0:
            metres = min(metres, math.sqrt(area * CELL_POINTS / info.point_count))
    h = nearest_power_of_two(max(source.from_ground(metres), 1e-12))
    if source.ground(h) > MAX_CELL_METRES:
        h /= 2
    if source.geocentric:
        return (h, h, h)
    z_unit = source.z_unit or (1.0 if source.geographic else source.xy_unit)
    return (h, h, power_of_two_at_most(CELL_HEIGHT_METRES / z_unit))


def _in_target(info: SourceInfo, rep: Reprojection) -> SourceInfo:
    """The input's facts in the target CRS: bounds from the header's box
    transformed (sampled on a grid: an estimate), no frame of its own."""
    mins = maxs = None
    if info.mins is not None and info.maxs is not None and np.all(np.isfinite(info.mins)) \
            and np.all(np.isfinite(info.maxs)):
        moved = rep.transform(box_samples(info.mins, info.maxs, per_axis=11, z_levels=2), exact=True)
        moved = moved[np.isfinite(moved).all(axis=1)]
        if len(moved):
            mins, maxs = moved.min(axis=0), moved.max(axis=0)
    kind = "header" if info.bounds_kind == "exact" else info.bounds_kind
    return dataclasses.replace(info, mins=mins, maxs=maxs, scales=None, offsets=None, bounds_kind=kind,
                               crs_wkt=rep.target_crs, reader_frames=(), frame_from_crs=False)


def target_scale(infos, sources, reprojections, target: CrsFacts) -> Tuple[float, float, float]:
    """Horizontal: the inputs' finest on the ground in the target's unit (kept
    as it is when the units agree, else a power of ten not coarser); 1e-7
    degree for a geographic target unless the inputs are finer than a
    centimetre.  Z: converted the same way when heights are transformed,
    else the inputs' own.  Geocentric: the finest of those for all three axes."""
    framed = [(i.scales, s, r) for i, s, r in zip(infos, sources, reprojections) if i.scales is not None]
    ground = min((s.ground(float(min(sc[0], sc[1]))) for sc, s, _ in framed), default=None)
    same_unit = bool(framed) and not target.geographic and \
        all(not s.geographic and s.xy_unit == target.xy_unit for _, s, _ in framed)
    if target.geographic:
        degrees = GEOGRAPHIC_SCALE_DEGREES if ground is None else \
            min(GEOGRAPHIC_SCALE_DEGREES, 10.0 ** round(math.log10(ground / (EARTH_RADIUS * math.pi / 180))))
        xy = float(f"{degrees * (math.pi / 180) / target.xy_unit:.12g}")
    elif ground is None:
        xy = DEFAULT_LINEAR_SCALE
    elif same_unit:
        xy = float(min(min(sc[0], sc[1]) for sc, _, _ in framed))
    else:
        xy = power_of_ten_at_most(ground / target.xy_unit)
    z = _z_scale(framed, target)
    if target.geocentric:
        xy = z = min(xy, z)
    return (xy, xy, z)


def _z_scale(framed, target: CrsFacts) -> float:
    """Z's scale: the inputs' own when heights are kept or their unit is the
    target's, else their finest converted, as a power of ten not coarser."""
    if not framed:
        return DEFAULT_LINEAR_SCALE
    z_unit = target.z_unit if target.z_unit is not None else (1.0 if target.geocentric else None)
    if z_unit is None or not all(r.heights for _, _, r in framed):
        return float(min(sc[2] for sc, _, _ in framed))
    units = [s.z_unit or 1.0 for _, s, _ in framed]   # PROJ takes a 2D CRS's heights as metres
    if all(u == z_unit for u in units):
        return float(min(sc[2] for sc, _, _ in framed))
    return power_of_ten_at_most(min(float(sc[2]) * u for (sc, _, _), u in zip(framed, units)) / z_unit)


def power_of_ten_at_most(value: float) -> float:
    """The largest power of ten not above ``value`` (a hair of rounding allowed)."""
    return 10.0 ** math.floor(math.log10(value) + 1e-9)


def with_tolerance(reprojections: Sequence[Reprojection], scales) -> Tuple[Reprojection, ...]:
    """The reprojections, accepting interpolation errors up to a
    thousandth of the output's scale."""
    tolerance = tuple(float(s) * TOLERANCE_OF_SCALE for s in scales)
    return tuple(dataclasses.replace(r, tolerance=tolerance) for r in reprojections)

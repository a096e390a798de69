"""The plan: output format, frame (scale/offset), CRS, from the inputs' headers.

Everything here is decided before a point is read, from headers and options.
Sources only report facts (``SourceInfo``); the frame policy (the inputs'
own frame, the finest of several, a centred offset, 0.001 for arrays,
1e-7 for degrees) is decided here and nowhere else; with ``--t-srs``,
``reproject_plan.py`` first turns the inputs' facts into the target CRS's
and picks the scale for its units.
The root cube is decided after reading (see ``choose_cube``), because headers
can lie about bounds.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np

from ..common.errors import InputError, OptionError
from ..common.options import BuildOptions
from ..common.progress import Progress
from ..kernels.point_formats import NIR_OFFSET, RGB_OFFSET, WAVEFORM_FORMATS
from ..points.cube import Cube
from ..points.point_layout import ExtraDim, PointLayout, choose_point_format
from ..points.quantize import INT32_MAX, INT32_MIN
from ..points.reprojection import Reprojection
from ..sources.source_info import SourceInfo
from ..writer.output_header import HeaderTemplate
from .reproject_plan import plan_reprojection, with_tolerance

# Scale for inputs with no integer grid of their own (numpy arrays of floats).
DEFAULT_ARRAY_SCALE = 0.001
# Scale for a pipeline's coordinates in degrees when it has no frame of its
# own: 1e-7 degree is about a centimetre.
GEOGRAPHIC_SCALE = (1e-7, 1e-7, 0.001)
# Scales outside this range are damaged headers, not resolutions.
MIN_SCALE, MAX_SCALE = 1e-12, 1e12


@dataclass
class Plan:
    header: HeaderTemplate
    total_points: int
    # Integer bounds from the headers in the output frame (None: not usable).
    header_bounds: Optional[Tuple[np.ndarray, np.ndarray]] = None
    # --t-srs: how each input's points reach the output CRS, in input order.
    reprojections: Tuple[Reprojection, ...] = ()

    def reprojection(self, index: int) -> Optional[Reprojection]:
        """How input ``index`` is reprojected, or None (coordinates kept)."""
        return self.reprojections[index] if self.reprojections else None

    @property
    def layout(self) -> PointLayout:
        return self.header.layout

    def header_cube(self) -> Optional[Cube]:
        """The root cube of the headers' bounds, or None when they are not usable."""
        if self.header_bounds is None:
            return None
        return Cube.enclosing(self.header_bounds[0], self.header_bounds[1], self.scales, self.offsets)

    @property
    def scales(self) -> Tuple[float, float, float]:
        return self.header.scales

    @property
    def offsets(self) -> Tuple[float, float, float]:
        return self.header.offsets


def merge_extra_dims(infos: Sequence[SourceInfo]) -> Tuple[ExtraDim, ...]:
    """Union of the inputs' extra dimensions, in order of first appearance."""
    merged: List[ExtraDim] = []
    seen = {}
    for info in infos:
        for dim in info.extra:
            first = seen.get(dim.name)
            if first is None:
                seen[dim.name] = (dim, info.path)
                merged.append(dim)
            elif first[0].key() != dim.key():
                raise InputError(info.path, f"extra dimension '{dim.name}' is {dim.dtype} here but "
                                            f"{first[0].dtype} in {first[1]}")
    return tuple(merged)


def _common_or_none(values: Sequence[np.ndarray]) -> Optional[np.ndarray]:
    first = values[0]
    return first if all(np.array_equal(v, first) for v in values) else None


def centred_offsets(mins, maxs, scales) -> np.ndarray:
    """An offset at the centre of the bounds, rounded to a whole number of
    the coarsest unit among 1 and the scales, so inputs' values stay exact."""
    step = max(1.0, float(np.max(scales)))
    return np.round((np.asarray(mins) + np.asarray(maxs)) / 2.0 / step) * step


def _is_geographic(wkt: Optional[str]) -> bool:
    if not wkt:
        return False
    try:
        import pyproj

        return bool(pyproj.CRS.from_user_input(wkt).is_geographic)
    except Exception:
        return False


def settle_frame(info: SourceInfo) -> SourceInfo:
    """The frame of a source that reports only facts to choose one from (a
    PDAL pipeline): its readers' frame (the finest scale; their offset when
    they share it, else centred), or 1e-7 degree for a geographic CRS.
    Other sources are returned as they are."""
    if info.scales is not None:
        return info
    frames = info.reader_frames
    if frames:
        scales = np.min([s for s, _ in frames], axis=0)
        if all(np.array_equal(s, scales) and np.array_equal(o, frames[0][1]) for s, o in frames):
            offsets = frames[0][1]
        else:
            offsets = centred_offsets(info.mins, info.maxs, scales)
    elif info.frame_from_crs and _is_geographic(info.crs_wkt):
        scales = np.array(GEOGRAPHIC_SCALE)
        offsets = centred_offsets(info.mins, info.maxs, scales)
    else:
        return info
    return dataclasses.replace(info, scales=scales, offsets=offsets)


def _suggest_scale(reach: float) -> float:
    """Smallest power of ten at which coordinates up to ``reach`` from the
    offset fit an int32."""
    needed = reach / (INT32_MAX - 1)
    return 10.0 ** math.ceil(math.log10(needed)) if needed > 0 else 1.0


def choose_frame(infos: Sequence[SourceInfo], options: BuildOptions, progress: Progress):
    """Output (scales, offsets, integer header bounds or None)."""
    for info in infos:
        if info.scales is not None and not (np.all(np.isfinite(info.scales)) and np.all(info.scales > 0)):
            raise InputError(info.path, f"its header's scale {tuple(info.scales)} is not positive")
        if info.scales is not None and not np.all((info.scales >= MIN_SCALE) & (info.scales <= MAX_SCALE)):
            raise InputError(info.path, f"its header's scale {tuple(info.scales)} is not plausible "
                                        f"(expected {MIN_SCALE:g} to {MAX_SCALE:g})")
        if info.offsets is not None and not np.all(np.isfinite(info.offsets)):
            raise InputError(info.path, f"its header's offset {tuple(info.offsets)} is not a number")
    bounded = [i for i in infos if i.mins is not None and i.maxs is not None]
    bounds_ok = len(bounded) == len(infos) and all(
        np.all(np.isfinite(i.mins)) and np.all(np.isfinite(i.maxs)) and np.all(i.mins <= i.maxs)
        for i in infos)
    mins = np.min([i.mins for i in bounded], axis=0) if bounded else None
    maxs = np.max([i.maxs for i in bounded], axis=0) if bounded else None

    framed = [i for i in infos if i.scales is not None and i.offsets is not None]
    same_frame = len(framed) == len(infos) and \
        _common_or_none([i.scales for i in infos]) is not None and \
        _common_or_none([i.offsets for i in infos]) is not None
    if options.scale is None and options.offset is None and same_frame:
        # The inputs' own frame: their integers are kept as they are, and
        # they fit 32 bits by construction, whatever the headers' bounds say.
        scales, offsets = infos[0].scales.copy(), infos[0].offsets.copy()
    else:
        scales, offsets = _new_frame(infos, framed, options, mins, maxs, bounds_ok, progress)
    header_bounds = None
    if bounds_ok and all(i.bounds_kind in ("header", "exact") for i in infos):
        lo = np.floor((mins - offsets) / scales + 1e-6)
        hi = np.ceil((maxs - offsets) / scales - 1e-6)
        # Bounds that do not even fit 32 bits are not the points' bounds.
        if np.all(lo >= INT32_MIN) and np.all(hi <= INT32_MAX):
            header_bounds = (lo.astype(np.int64), hi.astype(np.int64))
    return tuple(float(s) for s in scales), tuple(float(o) for o in offsets), header_bounds


def _inputs_named(infos: Sequence[SourceInfo]) -> str:
    """The inputs as a message names them: the path of one, or a few of many."""
    if len(infos) == 1:
        return infos[0].path
    names = ", ".join(i.path for i in infos[:3]) + (", ..." if len(infos) > 3 else "")
    return f"the {len(infos)} inputs ({names})"


def _new_frame(infos, framed, options, mins, maxs, bounds_ok, progress):
    """Scale/offset when the user sets them, the inputs disagree, or an input
    (numpy arrays) has no frame of its own."""
    if options.scale is not None:
        scales = np.array(options.scale, np.float64)
    elif framed:
        scales = np.min([i.scales for i in framed], axis=0)
        if _common_or_none([i.scales for i in framed]) is None:
            progress.info(f"inputs have different scales; using the finest, {tuple(scales)}")
    else:
        scales = np.full(3, DEFAULT_ARRAY_SCALE)
        progress.info(f"the input has no scale of its own; using {DEFAULT_ARRAY_SCALE} "
                      f"(set one with --scale)")

    def fits(offsets):
        if mins is None:
            return True
        lo = (mins - offsets) / scales
        hi = (maxs - offsets) / scales
        return bool(np.all(lo >= INT32_MIN) and np.all(hi <= INT32_MAX))

    common = _common_or_none([i.offsets for i in framed]) if len(framed) == len(infos) else None
    if options.offset is not None:
        offsets = np.array(options.offset, np.float64)
    elif common is not None and fits(common):
        offsets = common.copy()
    elif mins is not None:
        offsets = centred_offsets(mins, maxs, scales)
    else:
        offsets = np.zeros(3)
    if mins is not None and not fits(offsets):
        span = float(np.max(maxs - mins))
        reach = float(np.max(np.maximum(np.abs(maxs - offsets), np.abs(mins - offsets))))
        raise OptionError(
            f"{_inputs_named(infos)} span{'s' if len(infos) == 1 else ''} {span:,.3f} units; at scale {tuple(scales)} and offset {tuple(offsets)} "
            f"that does not fit a 32-bit integer; use --scale {_suggest_scale(reach):g} or coarser"
            + ("" if options.offset is None else ", or an offset nearer the points"))
    return scales, offsets


def choose_crs(infos: Sequence[SourceInfo], options: BuildOptions, progress: Progress) -> Optional[str]:
    from ..points.crs import crs_to_wkt, same_crs

    if options.t_srs:
        return _written(crs_to_wkt(options.t_srs), options.t_srs, progress)
    if options.a_srs:
        return _written(crs_to_wkt(options.a_srs), options.a_srs, progress)
    with_crs = [i for i in infos if i.crs_wkt]
    without = [i for i in infos if not i.crs_wkt]
    if not with_crs:
        reasons = "; ".join(f"{i.path}: {i.crs_note}" for i in infos[:3])
        progress.warning(f"no CRS in the input ({reasons}); the output has no WKT VLR "
                         f"(assign one with --a-srs)")
        return None
    first = with_crs[0]
    for info in with_crs[1:]:
        if not same_crs(first.crs_wkt, info.crs_wkt):
            raise InputError(info.path, f"its CRS differs from that of {first.path}; reproject the "
                                        f"inputs to one CRS (--t-srs), or assign one CRS to all (--a-srs)")
    for info in without:
        progress.warning(f"{info.path}: no CRS ({info.crs_note}); assuming that of {first.path}")
    return _written(first.crs_wkt, first.path, progress)


def _written(wkt: str, where: str, progress: Progress) -> str:
    """The WKT readers accept (see crs.writable_wkt), with a warning when a vertical CRS is left out."""
    from ..points.crs import writable_wkt

    text, dropped = writable_wkt(wkt)
    if dropped:
        progress.warning(f"{where}: the output's WKT holds the horizontal CRS only; the vertical CRS "
                         f"({dropped}) is left out, as proj4js-based COPC readers cannot parse compound CRSs")
    return text


def make_plan(infos: Sequence[SourceInfo], counts: Sequence[int], options: BuildOptions,
              progress: Progress, software: str) -> Plan:
    infos = [settle_frame(i) for i in infos]
    reprojections: Sequence[Reprojection] = ()
    target = plan_reprojection(infos, options, progress) if options.t_srs else None
    if target is not None:
        infos, reprojections = target.infos, target.reprojections
        options = dataclasses.replace(options, scale=options.scale or target.scale)
    any_rgb = any(i.point_format in RGB_OFFSET for i in infos)
    any_nir = any(i.point_format in NIR_OFFSET for i in infos)
    layout = PointLayout(choose_point_format(any_rgb, any_nir), merge_extra_dims(infos))
    for info in infos:
        if info.point_format in WAVEFORM_FORMATS:
            progress.warning(f"{info.path}: point format {info.point_format} has waveform data; "
                             f"the points are kept, the waveform packets are dropped")
    scales, offsets, header_bounds = choose_frame(infos, options, progress)
    if reprojections:
        reprojections = with_tolerance(reprojections, scales)
    wkt = choose_crs(infos, options, progress)
    gps_types = {i.gps_standard for i in infos}
    if len(gps_types) > 1:
        progress.warning("inputs mix GPS week time and adjusted standard GPS time; "
                         "the output says adjusted standard GPS time")
    sources = {i.file_source_id for i in infos}
    header = HeaderTemplate(
        layout=layout, scales=scales, offsets=offsets, wkt=wkt,
        gps_standard=any(gps_types) if len(gps_types) > 1 else gps_types.pop(),
        creation=infos[0].creation,
        file_source_id=sources.pop() if len(sources) == 1 else 0,
        software=software,
    )
    return Plan(header=header, total_points=int(sum(counts)), header_bounds=header_bounds,
                reprojections=tuple(reprojections))


def choose_cube(plan: Plan, imin: np.ndarray, imax: np.ndarray) -> Cube:
    """The root cube: from the headers when they hold every point and are not
    much looser than the points, else from the points' own bounds.

    The same rule runs whatever the memory budget, so the in-memory and the
    out-of-core paths agree on the cube.
    """
    exact = Cube.enclosing(imin, imax, plan.scales, plan.offsets)
    if plan.header_bounds is not None:
        lo, hi = plan.header_bounds
        if np.all(lo <= imin) and np.all(hi >= imax):
            from_header = plan.header_cube()
            if from_header.m <= exact.m + 1:
                return from_header
    return exact

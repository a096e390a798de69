"""A synthetic airborne lidar survey, written as LAZ, so there is always
something to convert: the README's first command needs no data at hand.

The scene is a 600 m x 600 m patch of hilly country in ETRS89 / UTM 32N: a
valley with a small lake, a road with a village along it, a farm, forest
stands, garden and roadside trees, meadows with shrubs.  It is "flown" the way
a real survey is: parallel, alternating flight lines with side lap, an
oscillating mirror sweeping the beam across each strip, one GPS time per
pulse and up to five returns per pulse through tree crowns.  Points are
written in acquisition order (GPS time), LAS 1.4 point format 7, coloured
from a synthetic orthophoto of the same scene.

Everything is numpy-vectorised and streamed flight line by flight line, in
blocks of pulses, so memory does not grow with the point count; the same
seed gives the same bytes.
"""

from __future__ import annotations

import datetime
import math
import os
import pathlib
import uuid
from dataclasses import dataclass
from typing import Dict, Iterator, List, Tuple

import numpy as np

from .errors import OptionError, OutputError

# --- the scene ---------------------------------------------------------------
SIZE = 600.0  # side of the square scene, metres
MARGIN = 30.0  # rasters reach past the square (edge trees, displaced returns)
ORIGIN = (467_000.0, 5_552_000.0)  # local (0, 0), metres in EPSG:25832
EPSG = 25832  # ETRS89 / UTM zone 32N
SCALE = 0.01
BASE_HEIGHT = 165.0  # metres above sea level, roughly the Rhine-Main hills

# --- the acquisition ---------------------------------------------------------
SPEED = 60.0  # aircraft ground speed, m/s
ALTITUDE = 350.0  # flying height above the mean terrain, m
HALF_FOV = math.radians(20.0)  # mirror swings +-20 degrees
HEADING = math.radians(12.0)  # flight lines run 12 degrees east of north
SIDELAP = 0.30  # neighbouring strips overlap by 30 % of a swath
TURN_TIME = 95.0  # seconds between the end of a line and the next start
GPS_START = 305_112_000.0  # adjusted standard GPS time (GPS seconds - 1e9)
MAX_RETURNS = 5
MIN_POINTS = 100  # below this the scan pattern is too coarse to hold a scene
BLOCK_PULSES = 1 << 16  # pulses simulated (and written) at a time
SCAN_ANGLE_UNIT = 0.006  # LAS 1.4 scan angle increment, degrees

# --- fixed header fields, so a seed always gives the same bytes --------------
SYSTEM_IDENTIFIER = "copc_builder synthetic survey"
GENERATING_SOFTWARE = "copc_builder sample_scene"
CREATION_DATE = datetime.date(2024, 6, 3)
_GUID_NAMESPACE = uuid.UUID("6f1c2b9e-3d0a-4c5e-9b7a-2f8e1d4c6a35")

# Pulse targets (what the beam hits first).
_GROUND, _ROOF, _TREE, _WATER, _SHRUB, _HIGH_NOISE, _LOW_NOISE = range(7)

# LAS 1.4 classes.
_C_LOW_VEG, _C_MED_VEG, _C_HIGH_VEG = 3, 4, 5
_C_GROUND, _C_BUILDING, _C_LOW_NOISE, _C_WATER, _C_HIGH_NOISE = 2, 6, 7, 9, 18

# Chance of 1..5 returns for a pulse that enters a crown.
_TREE_RETURNS_CDF = np.cumsum([0.12, 0.28, 0.30, 0.20, 0.10])
_MIN_RETURN_SEPARATION = 1.5  # metres: closer echoes merge in the detector

_SUN_AZIMUTH = math.radians(160.0)
_SUN_ELEVATION = math.radians(50.0)


def write_sample_scene(path, points: int = 1_000_000, seed: int = 0) -> pathlib.Path:
    """Write the synthetic survey to ``path`` and return it as a Path.

    ``points`` (at least MIN_POINTS) is a target: the file holds within
    about 1 % of it from 10 000 points up (the header says exactly how
    many).  The same ``seed`` gives the same bytes; another seed gives
    another village, forest and lake.  A ``.las`` suffix
    writes uncompressed LAS, anything else LAZ.  The file appears only
    complete: it is written beside ``path`` under a temporary name first.
    """
    import laspy

    path = pathlib.Path(path)
    if isinstance(points, bool) or int(points) != points or points < MIN_POINTS:
        raise OptionError(f"sample scene: points must be a whole number >= {MIN_POINTS}, got {points!r}")
    if isinstance(seed, bool) or int(seed) != seed or seed < 0:
        raise OptionError(f"sample scene: seed must be a whole number >= 0, got {seed!r}")
    points, seed = int(points), int(seed)

    scene = _build_scene(seed)
    plan = _plan_flight(scene, _calibrate_pulse_area(scene, points, seed))
    header = _header(seed)
    compress = path.suffix.lower() != ".las"
    backends = (laspy.LazBackend.LazrsParallel, laspy.LazBackend.Lazrs)

    tmp = path.with_name(path.name + ".part")
    try:
        with open(tmp, "wb") as stream:
            writer = laspy.LasWriter(
                stream,
                header,
                do_compress=compress,
                laz_backend=backends if compress else None,
                closefd=False,
            )
            with writer:
                for chunk in _acquire(scene, plan, seed, stream_id=0):
                    writer.write_points(_point_record(chunk, header))
        os.replace(tmp, path)
    except OSError as error:
        tmp.unlink(missing_ok=True)
        raise OutputError(str(path), f"cannot write the sample scene: {error.strerror or error}") from error
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


# =============================================================================
# Header
# =============================================================================


def _header(seed: int):
    import laspy
    import pyproj
    from laspy.header import GpsTimeType

    header = laspy.LasHeader(point_format=7, version="1.4")
    header.offsets = np.array([ORIGIN[0], ORIGIN[1], 0.0])
    header.scales = np.array([SCALE, SCALE, SCALE])
    header.add_crs(pyproj.CRS.from_epsg(EPSG))
    header.global_encoding.gps_time_type = GpsTimeType.STANDARD
    header.system_identifier = SYSTEM_IDENTIFIER
    header.generating_software = GENERATING_SOFTWARE
    header.creation_date = CREATION_DATE
    header.uuid = uuid.uuid5(_GUID_NAMESPACE, f"sample-scene-{seed}")
    header.file_source_id = 0
    return header


def _point_record(chunk: Dict[str, np.ndarray], header):
    import laspy

    rec = laspy.ScaleAwarePointRecord.zeros(chunk["x"].size, header=header)
    # Offsets are the local origin and 0, so the integers are local cm.
    rec["X"] = np.round(chunk["x"] / SCALE).astype(np.int32)
    rec["Y"] = np.round(chunk["y"] / SCALE).astype(np.int32)
    rec["Z"] = np.round(chunk["z"] / SCALE).astype(np.int32)
    for name in (
        "intensity",
        "return_number",
        "number_of_returns",
        "scan_direction_flag",
        "edge_of_flight_line",
        "overlap",
        "classification",
        "scan_angle",
        "point_source_id",
        "gps_time",
        "red",
        "green",
        "blue",
    ):
        rec[name] = chunk[name]
    return rec


# =============================================================================
# Scene: terrain, lake, road, buildings, trees, shrubs, orthophoto
# =============================================================================


@dataclass
class _Buildings:
    cx: np.ndarray  # centre
    cy: np.ndarray
    ux: np.ndarray  # unit vector along the ridge (length axis)
    uy: np.ndarray
    half_len: np.ndarray
    half_wid: np.ndarray
    base: np.ndarray  # ground height at the centre
    eave: np.ndarray  # eave height above base
    rise: np.ndarray  # ridge above eave; 0 for a flat roof
    reflectance: np.ndarray
    color: np.ndarray  # (n, 3) float, 0..255

    def __len__(self) -> int:
        return self.cx.size

    def local(self, i: np.ndarray, x: np.ndarray, y: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Coordinates of (x, y) along and across building i's ridge."""
        dx, dy = x - self.cx[i], y - self.cy[i]
        return dx * self.ux[i] + dy * self.uy[i], -dx * self.uy[i] + dy * self.ux[i]

    def roof_height(self, i: np.ndarray, across: np.ndarray) -> np.ndarray:
        slope_part = 1.0 - np.abs(across) / self.half_wid[i]
        return self.base[i] + self.eave[i] + self.rise[i] * slope_part


@dataclass
class _Trees:
    x: np.ndarray
    y: np.ndarray
    height: np.ndarray  # above the ground
    radius: np.ndarray  # crown radius
    crown_base: np.ndarray  # absolute height of the crown's lowest branches
    conifer: np.ndarray  # bool
    color: np.ndarray  # (n, 3) float


@dataclass
class _Scene:
    dtm: np.ndarray  # (661, 661) float64, 1 m nodes from -MARGIN
    slope_x: np.ndarray  # dz/dx, same nodes
    slope_y: np.ndarray
    z_mean: float
    z_min: float
    lake: Tuple[float, ...]  # cx, cy, semi-axis x, semi-axis y, phase3, phase5
    water_level: float
    road: Tuple[float, float, float, float]  # x0, amplitude, wavelength, phase
    buildings: _Buildings
    building_cells: np.ndarray  # (660, 660) int32 1 m cells, building index + 1
    trees: _Trees
    tree_cells: np.ndarray  # (1320, 1320) int32 0.5 m cells, tree index + 1
    canopy: np.ndarray  # (1320, 1320) float32 absolute crown surface
    shrub_cells: np.ndarray  # (660, 660) bool
    ground_reflectance: np.ndarray  # (660, 660) float32
    ortho: np.ndarray  # (1320, 1320, 3) uint8

    # -- look-ups, all vectorised over points ---------------------------------

    def ground(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return _bilinear(self.dtm, x, y)

    def lake_radius(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """< 1 on the water; the shore is a wobbly ellipse."""
        cx, cy, ax, ay, p3, p5 = self.lake
        u, v = (x - cx) / ax, (y - cy) / ay
        ang = np.arctan2(v, u)
        return np.hypot(u, v) / (1.0 + 0.12 * np.sin(3 * ang + p3) + 0.07 * np.sin(5 * ang + p5))

    def road_distance(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        x0, amp, wave, phase = self.road
        k = 2 * math.pi / wave
        centre = x0 + amp * np.sin(k * y + phase)
        slope = amp * k * np.cos(k * y + phase)
        return np.abs(x - centre) / np.sqrt(1.0 + slope * slope)

    def building_at(self, x: np.ndarray, y: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """(index or -1, distance across the ridge) of the roof over (x, y)."""
        cand = self.building_cells[_cell(y, 1.0, 660), _cell(x, 1.0, 660)] - 1
        hit = np.flatnonzero(cand >= 0)
        along, across = self.buildings.local(cand[hit], x[hit], y[hit])
        b = self.buildings
        inside = (np.abs(along) <= b.half_len[cand[hit]]) & (np.abs(across) <= b.half_wid[cand[hit]])
        index = np.full(x.size, -1, np.int64)
        index[hit[inside]] = cand[hit[inside]]
        across_all = np.zeros(x.size)
        across_all[hit] = across
        return index, across_all


def _cell(v: np.ndarray, res: float, n: int) -> np.ndarray:
    return np.clip(((v + MARGIN) / res).astype(np.int64), 0, n - 1)


def _bilinear(grid: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Sample a 1 m node grid starting at (-MARGIN, -MARGIN)."""
    n = grid.shape[0]
    gx = np.clip(x + MARGIN, 0.0, n - 1.000001)
    gy = np.clip(y + MARGIN, 0.0, n - 1.000001)
    ix, iy = gx.astype(np.int64), gy.astype(np.int64)
    tx, ty = gx - ix, gy - iy
    flat = grid.ravel()
    i00 = iy * n + ix
    z00, z01 = flat[i00], flat[i00 + 1]
    z10, z11 = flat[i00 + n], flat[i00 + n + 1]
    top = z00 + (z01 - z00) * tx
    bottom = z10 + (z11 - z10) * tx
    return top + (bottom - top) * ty


def _fbm(
    rng: np.random.Generator, axis: np.ndarray, cell: float, octaves: int, gain: float = 0.5, dtype=np.float64
) -> np.ndarray:
    """Fractal value noise on the square grid axis x axis, about in [-1, 1]."""
    out = np.zeros((axis.size, axis.size), dtype)
    amplitude, total = 1.0, 0.0
    for _ in range(octaves):
        gx = (axis - axis[0]) / cell + rng.uniform(0, 1)
        gy = (axis - axis[0]) / cell + rng.uniform(0, 1)
        ix, iy = np.floor(gx).astype(np.int64), np.floor(gy).astype(np.int64)
        tx, ty = _smootherstep(gx - ix), _smootherstep(gy - iy)
        lattice = rng.uniform(-1, 1, (iy[-1] + 2, ix[-1] + 2))
        # Separable: along x on the few lattice rows, then along y.
        rows = (lattice[:, ix] * (1 - tx) + lattice[:, ix + 1] * tx).astype(dtype)
        upper = rows[iy]
        upper *= (amplitude * (1 - ty)[:, None]).astype(dtype)
        lower = rows[iy + 1]
        lower *= (amplitude * ty[:, None]).astype(dtype)
        out += upper
        out += lower
        del upper, lower
        total += amplitude
        amplitude *= gain
        cell /= 2
    return out / total


def _smootherstep(t: np.ndarray) -> np.ndarray:
    return t * t * t * (t * (t * 6 - 15) + 10)


def _build_scene(seed: int) -> _Scene:
    rng = np.random.default_rng([seed, 0x5CE7E])
    nodes = np.arange(661, dtype=np.float64) - MARGIN  # 1 m nodes
    cells = nodes[:-1] + 0.5  # 1 m cell centres
    X, Y = np.meshgrid(nodes, nodes)

    # Terrain: rolling hills, a general tilt, a meandering valley.
    dtm = BASE_HEIGHT + 26.0 * _fbm(rng, nodes, 240.0, 6, gain=0.5)
    dtm += 0.025 * (X - SIZE / 2) - 0.012 * (Y - SIZE / 2)
    hill = rng.uniform(80, 160), rng.uniform(420, 520)
    dtm += 14.0 * np.exp(-((X - hill[0]) ** 2 + (Y - hill[1]) ** 2) / 160.0**2)
    valley_phase = rng.uniform(0, 2 * math.pi)

    def valley_centre(y):
        return 400.0 + 45.0 * np.sin(2 * math.pi * y / 650.0 + valley_phase)

    dtm -= 20.0 * np.exp(-(((X - valley_centre(Y)) / 85.0) ** 2))

    # Lake in the valley floor; the shore never drops below the water.
    lake_y = rng.uniform(360, 440)
    lake = (float(valley_centre(lake_y)), lake_y, rng.uniform(28, 36), rng.uniform(50, 64),
            rng.uniform(0, 2 * math.pi), rng.uniform(0, 2 * math.pi))
    water_level = float(_bilinear(dtm, np.array([lake[0]]), np.array([lake[1]]))[0]) + 1.0
    road = (150.0 + rng.uniform(-10, 10), 35.0, 520.0, rng.uniform(0, 2 * math.pi))
    proto = _Scene(dtm, dtm, dtm, 0.0, 0.0, lake, water_level, road, *([None] * 8))
    r = proto.lake_radius(X, Y)
    shore = water_level + 0.25 + 0.25 * (r - 1.0) * min(lake[2], lake[3])
    dtm = np.where(r < 1.0, water_level - 1.5, np.maximum(dtm, shore))
    slope_y, slope_x = np.gradient(dtm)
    inner = dtm[int(MARGIN):-int(MARGIN), int(MARGIN):-int(MARGIN)]
    proto.dtm, proto.slope_x, proto.slope_y = dtm, slope_x, slope_y
    proto.z_mean, proto.z_min = float(inner.mean()), float(inner.min())

    proto.buildings = _place_buildings(rng, proto)
    proto.building_cells = _rasterise_buildings(proto.buildings, cells)
    proto.trees = _place_trees(rng, proto, cells)
    fine = np.arange(1320, dtype=np.float64) * 0.5 - MARGIN + 0.25  # 0.5 m cell centres
    proto.tree_cells, proto.canopy = _rasterise_trees(rng, proto.trees, fine)

    CX, CY = np.meshgrid(cells, cells)
    shrubs = _fbm(rng, cells, 70.0, 3)
    proto.shrub_cells = (
        (shrubs > np.quantile(shrubs, 0.8))
        & (proto.lake_radius(CX, CY) > 1.1)
        & (proto.road_distance(CX, CY) > 4.0)
    )
    _paint_ortho(rng, proto, cells, fine)
    return proto


def _place_buildings(rng: np.random.Generator, scene: _Scene) -> _Buildings:
    """A village strung along the road, and a farm on the far side of the valley."""
    rows: List[Tuple[float, ...]] = []  # cx, cy, angle, length, width, big

    def free(cx, cy, length, width):
        if not (12 < cx < SIZE - 12 and 12 < cy < SIZE - 12):
            return False
        if scene.lake_radius(np.array([cx]), np.array([cy]))[0] < 1.6:
            return False
        radius = 0.5 * math.hypot(length, width)
        if scene.road_distance(np.array([cx]), np.array([cy]))[0] < radius + 4.0:
            return False
        return all(
            math.hypot(cx - r[0], cy - r[1]) > radius + 0.5 * math.hypot(r[3], r[4]) + 3.0 for r in rows
        )

    x0, amp, wave, phase = scene.road
    k = 2 * math.pi / wave
    y = rng.uniform(15, 30)
    while y < SIZE - 15:
        road_x = x0 + amp * math.sin(k * y + phase)
        heading = math.atan2(1.0, amp * k * math.cos(k * y + phase))  # road direction
        nx, ny = math.sin(heading), -math.cos(heading)  # road normal
        for side, behind in ((-1.0, 0.0), (1.0, 0.0), (-1.0, 1.0), (1.0, 1.0)):
            if rng.random() > (0.85 if behind == 0 else 0.35):
                continue
            big = rng.random() < 0.12
            length = rng.uniform(20, 32) if big else rng.uniform(10, 17)
            width = rng.uniform(12, 17) if big else rng.uniform(8, 12)
            angle = heading + (math.pi / 2 if rng.random() < 0.25 else 0.0)
            setback = 6.0 + 0.5 * math.hypot(length, width) + rng.uniform(0.5, 5)
            setback += behind * rng.uniform(22, 30)  # second row, behind the first
            cx, cy = road_x + side * setback * nx, y + side * setback * ny
            if free(cx, cy, length, width):
                rows.append((cx, cy, angle + rng.normal(0, 0.04), length, width, big))
        y += rng.uniform(14, 26)

    farm = (rng.uniform(500, 540), rng.uniform(100, 160))
    for _ in range(40):
        if sum(1 for r in rows if math.hypot(r[0] - farm[0], r[1] - farm[1]) < 60) >= 5:
            break
        big = rng.random() < 0.5
        length = rng.uniform(22, 36) if big else rng.uniform(10, 15)
        width = rng.uniform(12, 18) if big else rng.uniform(8, 10)
        cx, cy = farm[0] + rng.uniform(-45, 45), farm[1] + rng.uniform(-45, 45)
        angle = 0.3 + (math.pi / 2 if rng.random() < 0.5 else 0.0) + rng.normal(0, 0.03)
        if free(cx, cy, length, width):
            rows.append((cx, cy, angle, length, width, big))

    a = np.array(rows, dtype=np.float64)
    n = len(a)
    big = a[:, 5] > 0
    flat = np.where(big, rng.random(n) < 0.65, rng.random(n) < 0.15)
    eave = np.where(big, rng.uniform(5, 9, n), rng.uniform(3, 6.5, n))
    pitch = np.radians(rng.uniform(25, 45, n))
    rise = np.where(flat, 0.0, 0.5 * a[:, 4] * np.tan(pitch))
    palette = np.array(
        [
            [168, 66, 48],  # red clay tiles
            [140, 58, 44],  # weathered tiles
            [72, 72, 78],  # anthracite
            [118, 96, 82],  # brown
            [132, 132, 126],  # grey gravel (flat roofs)
        ],
        dtype=np.float64,
    )
    reflect = np.array([0.34, 0.30, 0.10, 0.22, 0.26])
    pick = np.where(flat, 4, rng.choice(4, n, p=[0.45, 0.25, 0.2, 0.1]))
    base = scene.ground(a[:, 0], a[:, 1])
    return _Buildings(
        cx=a[:, 0],
        cy=a[:, 1],
        ux=np.cos(a[:, 2]),
        uy=np.sin(a[:, 2]),
        half_len=0.5 * a[:, 3],
        half_wid=0.5 * a[:, 4],
        base=base,
        eave=eave,
        rise=rise,
        reflectance=reflect[pick] * rng.uniform(0.85, 1.15, n),
        color=np.clip(palette[pick] + rng.normal(0, 8, (n, 3)), 0, 255),
    )


def _rasterise_buildings(b: _Buildings, cells: np.ndarray) -> np.ndarray:
    """1 m cells touched by a footprint, grown by half a cell diagonal so an
    exact per-point test behind it never misses an edge."""
    out = np.zeros((cells.size, cells.size), np.int32)
    grow = 0.75
    for i in range(len(b)):
        reach = math.hypot(b.half_len[i], b.half_wid[i]) + grow
        x0, x1 = np.searchsorted(cells, [b.cx[i] - reach, b.cx[i] + reach])
        y0, y1 = np.searchsorted(cells, [b.cy[i] - reach, b.cy[i] + reach])
        gx, gy = np.meshgrid(cells[x0:x1], cells[y0:y1])
        idx = np.full(gx.shape, i)
        along, across = b.local(idx, gx, gy)
        inside = (np.abs(along) <= b.half_len[i] + grow) & (np.abs(across) <= b.half_wid[i] + grow)
        out[y0:y1, x0:x1][inside] = i + 1
    return out


def _place_trees(rng: np.random.Generator, scene: _Scene, cells: np.ndarray) -> _Trees:
    """Forest stands where a noise field is high, garden trees by the houses,
    an avenue along part of the road."""
    forest = _fbm(rng, cells, 220.0, 3)
    stand_kind = _fbm(rng, cells, 150.0, 2)  # > 0: conifer stand
    b = scene.buildings

    # Forest: a jittered 4.6 m grid kept where the forest field is high.
    g = np.arange(-8.0, SIZE + 8.0, 4.6)
    gx, gy = np.meshgrid(g, g)
    x = gx.ravel() + rng.uniform(-1.6, 1.6, gx.size)
    y = gy.ravel() + rng.uniform(-1.6, 1.6, gx.size)
    ci, cj = _cell(y, 1.0, cells.size), _cell(x, 1.0, cells.size)
    level = forest[ci, cj]
    keep = (level > np.quantile(forest, 0.66)) & (rng.random(x.size) < 0.92)
    keep &= scene.lake_radius(x, y) > 1.25
    keep &= scene.road_distance(x, y) > 7.0
    near_house = np.zeros(x.size, bool)
    for i in range(len(b)):
        near_house |= np.hypot(x - b.cx[i], y - b.cy[i]) < math.hypot(b.half_len[i], b.half_wid[i]) + 9.0
    keep &= ~near_house
    fx, fy = x[keep], y[keep]
    f_conifer = stand_kind[ci[keep], cj[keep]] > 0.05
    f_height = np.clip(20.0 + 6.0 * level[keep] / level.max() + rng.normal(0, 2.5, fx.size), 12, 32)

    # Gardens: up to three trees beside each house, clear of every roof.
    gxs, gys = [], []
    for i in range(len(b)):
        reach = math.hypot(b.half_len[i], b.half_wid[i])
        for _ in range(rng.integers(0, 4)):
            ang, dist = rng.uniform(0, 2 * math.pi), reach + rng.uniform(4, 9)
            gxs.append(b.cx[i] + dist * math.cos(ang))
            gys.append(b.cy[i] + dist * math.sin(ang))

    # Avenue: one side of the road, for a stretch.
    x0, amp, wave, phase = scene.road
    start = rng.uniform(0, SIZE / 2)
    ay = np.arange(start, start + SIZE / 2, 13.0)
    ax = x0 + amp * np.sin(2 * math.pi * ay / wave + phase) + 6.5
    extra_x = np.concatenate([np.array(gxs), ax])
    extra_y = np.concatenate([np.array(gys), ay])
    clear = scene.lake_radius(extra_x, extra_y) > 1.2
    for i in range(len(b)):
        reach = math.hypot(b.half_len[i], b.half_wid[i])
        clear &= np.hypot(extra_x - b.cx[i], extra_y - b.cy[i]) > reach + 3.5
    clear &= (extra_x > -5) & (extra_x < SIZE + 5) & (extra_y > -5) & (extra_y < SIZE + 5)
    ex, ey = extra_x[clear], extra_y[clear]
    e_height = rng.uniform(7, 15, ex.size)
    e_conifer = rng.random(ex.size) < 0.15

    x = np.concatenate([fx, ex])
    y = np.concatenate([fy, ey])
    height = np.concatenate([f_height, e_height])
    conifer = np.concatenate([f_conifer, e_conifer])
    n = x.size
    radius = np.where(conifer, rng.uniform(0.13, 0.18, n), rng.uniform(0.2, 0.28, n)) * height
    radius = np.minimum(radius, 6.5)
    base_fraction = np.where(conifer, rng.uniform(0.25, 0.45, n), rng.uniform(0.35, 0.55, n))
    ground = scene.ground(x, y)
    color = np.where(
        conifer[:, None],
        np.array([34.0, 62.0, 38.0]) + rng.normal(0, 5, (n, 3)),
        np.array([62.0, 98.0, 42.0]) + rng.normal(0, 9, (n, 3)),
    )
    return _Trees(
        x=x,
        y=y,
        height=ground + height,
        radius=radius,
        crown_base=ground + base_fraction * height,
        conifer=conifer,
        color=np.clip(color, 0, 255),
    )


def _rasterise_trees(rng: np.random.Generator, t: _Trees, fine: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Crown surface (the highest crown at each 0.5 m cell) and which tree it is."""
    n = fine.size
    canopy = np.full((n, n), -np.inf, np.float32)
    owner = np.zeros((n, n), np.int32)
    for i in range(t.x.size):
        r = t.radius[i]
        x0, x1 = np.searchsorted(fine, [t.x[i] - r, t.x[i] + r])
        y0, y1 = np.searchsorted(fine, [t.y[i] - r, t.y[i] + r])
        if x0 >= x1 or y0 >= y1:
            continue
        dx = fine[x0:x1] - t.x[i]
        dy = fine[y0:y1, None] - t.y[i]
        q = np.sqrt(dx * dx + dy * dy) / r
        depth = t.height[i] - t.crown_base[i]
        if t.conifer[i]:
            surface = t.height[i] - depth * q
        else:
            half = 0.5 * depth
            surface = t.crown_base[i] + half + half * np.sqrt(np.maximum(0.0, 1.0 - q * q))
        window = canopy[y0:y1, x0:x1]
        higher = (q < 1.0) & (surface > window)
        window[higher] = surface[higher]
        owner[y0:y1, x0:x1][higher] = i + 1
    leafy = owner > 0
    canopy[leafy] += rng.normal(0, 0.25, int(leafy.sum())).astype(np.float32)  # leaf clumps
    return owner, canopy


def _paint_ground(rng: np.random.Generator, s: _Scene, cells: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Bare-earth colours at 1 m: grass and dry grass, bare soil on steep
    slopes, striped farm fields, asphalt; lit by the sun.  Also returns the
    ground's reflectance at the laser's wavelength."""
    sun = np.array([math.sin(_SUN_AZIMUTH), math.cos(_SUN_AZIMUTH)])  # towards the sun
    CX, CY = np.meshgrid(cells, cells)
    z = 0.25 * (s.dtm[:-1, :-1] + s.dtm[1:, :-1] + s.dtm[:-1, 1:] + s.dtm[1:, 1:])
    gx = 0.5 * (s.slope_x[:-1, :-1] + s.slope_x[1:, 1:])
    gy = 0.5 * (s.slope_y[:-1, :-1] + s.slope_y[1:, 1:])
    slope = np.hypot(gx, gy)
    tan_e = math.tan(_SUN_ELEVATION)
    hillshade = (tan_e - gx * sun[0] - gy * sun[1]) / np.sqrt(1 + gx * gx + gy * gy) / math.hypot(1, tan_e)

    grass = np.array([88.0, 124.0, 56.0])
    dry = np.array([152.0, 140.0, 92.0])
    soil = np.array([128.0, 102.0, 74.0])
    moist = _fbm(rng, cells, 90.0, 4)
    w_dry = np.clip(0.35 + 0.55 * moist + 0.02 * (z - s.z_mean), 0, 1)[..., None]
    w_soil = np.clip((slope - 0.14) * 4.0, 0, 0.8)[..., None]
    color = (grass * (1 - w_dry) + dry * w_dry) * (1 - w_soil) + soil * w_soil
    refl = (0.38 - 0.06 * w_dry[..., 0]) * (1 - w_soil[..., 0]) + 0.26 * w_soil[..., 0]

    for _ in range(4):
        fx, fy = rng.uniform(430, 560), rng.uniform(230, 560)
        ang = rng.uniform(0, math.pi)
        u = (CX - fx) * math.cos(ang) + (CY - fy) * math.sin(ang)
        v = -(CX - fx) * math.sin(ang) + (CY - fy) * math.cos(ang)
        inside = (np.abs(u) < rng.uniform(25, 45)) & (np.abs(v) < rng.uniform(20, 35))
        crop = np.array([[196, 176, 96], [112, 84, 60], [120, 150, 60]], float)[rng.integers(0, 3)]
        stripes = 1.0 + 0.06 * np.sin(v * 2 * math.pi / 3.0)
        color[inside] = crop * stripes[inside][:, None]
        refl[inside] = 0.3

    road = s.road_distance(CX, CY) < 3.0
    color[road] = [92.0, 92.0, 96.0]
    refl[road] = 0.12
    color *= (0.72 + 0.4 * hillshade)[..., None]
    return color.astype(np.float32), refl.astype(np.float32)


def _paint_ortho(rng: np.random.Generator, s: _Scene, cells: np.ndarray, fine: np.ndarray) -> None:
    """A 0.5 m orthophoto: the bare earth, water, roofs shaded by their
    pitch, crowns, cast shadows."""
    sun = np.array([math.sin(_SUN_AZIMUTH), math.cos(_SUN_AZIMUTH)])  # towards the sun
    color, s.ground_reflectance = _paint_ground(rng, s, cells)

    # To 0.5 m, with fine-grained texture.
    photo = np.repeat(np.repeat(color, 2, axis=0), 2, axis=1)
    del color
    texture = _fbm(rng, fine, 6.0, 2, dtype=np.float32)
    texture *= 0.08
    texture += 1.0
    photo *= texture[..., None]
    del texture
    photo += 5.0 * rng.standard_normal(photo.shape[:2], dtype=np.float32)[..., None]
    z = 0.25 * (s.dtm[:-1, :-1] + s.dtm[1:, :-1] + s.dtm[:-1, 1:] + s.dtm[1:, 1:])
    surface = np.repeat(np.repeat(z.astype(np.float32), 2, axis=0), 2, axis=1)
    del z

    cx, cy, ax, ay = s.lake[:4]
    reach = 1.3 * max(ax, ay)
    x0, x1 = np.searchsorted(fine, [cx - reach, cx + reach])
    y0, y1 = np.searchsorted(fine, [cy - reach, cy + reach])
    water = s.lake_radius(*np.meshgrid(fine[x0:x1], fine[y0:y1]))
    wet = water < 1.0
    depth = np.clip(1.0 - water[wet], 0, 1)[:, None]
    blue = np.array([70.0, 92.0, 88.0]) * (1 - depth) + np.array([34.0, 56.0, 70.0]) * depth
    photo[y0:y1, x0:x1][wet] = blue.astype(np.float32)
    surface[y0:y1, x0:x1][wet] = s.water_level

    # Roofs: the slope facing the sun is brighter.
    b = s.buildings
    for i in range(len(b)):
        reach = math.hypot(b.half_len[i], b.half_wid[i])
        x0, x1 = np.searchsorted(fine, [b.cx[i] - reach, b.cx[i] + reach])
        y0, y1 = np.searchsorted(fine, [b.cy[i] - reach, b.cy[i] + reach])
        px, py = np.meshgrid(fine[x0:x1], fine[y0:y1])
        idx = np.full(px.shape, i)
        along, across = b.local(idx, px, py)
        inside = (np.abs(along) <= b.half_len[i]) & (np.abs(across) <= b.half_wid[i])
        if b.rise[i] > 0:
            normal_across = np.sign(across) * (-b.uy[i] * sun[0] + b.ux[i] * sun[1])
            shade = np.where(normal_across > 0, 1.15, 0.78)
        else:
            shade = np.full(px.shape, 1.0)
        tile = b.color[i] * shade[..., None] * (1.0 + 0.04 * np.sin(along * 2 * math.pi / 0.4))[..., None]
        photo[y0:y1, x0:x1][inside] = tile[inside]
        surface[y0:y1, x0:x1][inside] = b.roof_height(idx, across)[inside]

    # Crowns: lit on the sun side, darker towards the rim.
    t = s.trees
    crown = s.tree_cells > 0
    who = s.tree_cells[crown] - 1
    rows, cols = np.nonzero(crown)
    dx, dy = fine[cols] - t.x[who], fine[rows] - t.y[who]
    q = np.hypot(dx, dy) / t.radius[who]
    lit = (dx * sun[0] + dy * sun[1]) / t.radius[who]
    shade = (0.85 + 0.3 * lit - 0.2 * q * q) * rng.uniform(0.85, 1.15, who.size)
    photo[crown] = (t.color[who] * shade[:, None]).astype(np.float32)
    surface[crown] = np.maximum(surface[crown], s.canopy[crown])
    del crown, who, rows, cols, dx, dy, q, lit, shade

    # Cast shadows: march towards the sun; anything rising above the sun's ray shades.
    shadow = np.zeros(surface.shape, bool)
    n = surface.shape[0]
    for step in range(1, 21):
        dist = 1.5 * step
        sx, sy = int(round(dist * sun[0] / 0.5)), int(round(dist * sun[1] / 0.5))
        here_y, there_y = slice(max(0, -sy), min(n, n - sy)), slice(max(0, sy), min(n, n + sy))
        here_x, there_x = slice(max(0, -sx), min(n, n - sx)), slice(max(0, sx), min(n, n + sx))
        rise = dist * math.tan(_SUN_ELEVATION) + 0.3
        shadow[here_y, here_x] |= surface[there_y, there_x] > surface[here_y, here_x] + rise
    photo[shadow] *= 0.55
    s.ortho = np.clip(photo, 0, 255).astype(np.uint8)


# =============================================================================
# Acquisition: flight lines, scan pattern, returns
# =============================================================================


@dataclass
class _Line:
    number: int  # point source id
    centre: float  # cross-track position of the line (along _RIGHT)
    direction: float  # +1 flown along _AHEAD, -1 against it
    u_start: float  # along-track position at its first pulse
    pulses: int
    gps_start: float


@dataclass
class _Plan:
    lines: List[_Line]
    pulses_per_sweep: int
    pulse_rate: float  # Hz
    z_air: float
    half_swath: float


_AHEAD = np.array([math.sin(HEADING), math.cos(HEADING)])
_RIGHT = np.array([math.cos(HEADING), -math.sin(HEADING)])  # right of _AHEAD


def _plan_flight(scene: _Scene, pulse_area: float) -> _Plan:
    """Flight lines over the square, and a scan pattern giving one pulse per
    ``pulse_area`` square metres in each strip."""
    z_air = scene.z_mean + ALTITUDE
    half_swath = ALTITUDE * math.tan(HALF_FOV)
    widest = (z_air - scene.z_min) * math.tan(HALF_FOV)

    pulses_per_sweep = max(2, int(round(2 * half_swath / math.sqrt(pulse_area))))
    across_spacing = 2 * half_swath / pulses_per_sweep
    sweep_time = pulse_area / across_spacing / SPEED  # along-track spacing / speed
    pulse_rate = pulses_per_sweep / sweep_time

    # Line centres across the square's projection, side lap SIDELAP.
    g = np.linspace(0.0, SIZE, 121)
    px, py = (a.ravel() - SIZE / 2 for a in np.meshgrid(g, g))
    u, v = px * _AHEAD[0] + py * _AHEAD[1], px * _RIGHT[0] + py * _RIGHT[1]
    spacing = 2 * half_swath * (1 - SIDELAP)
    count = int(math.ceil((v.max() - v.min() - 2 * half_swath) / spacing)) + 1
    centres = 0.5 * (v.max() + v.min()) + (np.arange(count) - 0.5 * (count - 1)) * spacing

    lines = []
    gps = GPS_START
    for i, c in enumerate(centres):
        band = np.abs(v - c) <= widest + 2.0
        lo, hi = u[band].min() - 3.0, u[band].max() + 3.0
        direction = 1.0 if i % 2 == 0 else -1.0
        pulses = int(math.ceil((hi - lo) / SPEED * pulse_rate)) + 1
        lines.append(_Line(i + 1, float(c), direction, lo if direction > 0 else hi, pulses, gps))
        gps += pulses / pulse_rate + TURN_TIME
    return _Plan(lines, pulses_per_sweep, pulse_rate, z_air, half_swath)


def _calibrate_pulse_area(scene: _Scene, points: int, seed: int) -> float:
    """Pulse footprint area giving about ``points`` points: fly a sparse pilot
    survey and scale (points grow as 1 / area)."""
    pilot_area = 1.4 * SIZE * SIZE / 40_000
    plan = _plan_flight(scene, pilot_area)
    counted = sum(c["x"].size for c in _acquire(scene, plan, seed, stream_id=1, points_only=True))
    return pilot_area * counted / points


def _acquire(
    scene: _Scene, plan: _Plan, seed: int, stream_id: int, points_only: bool = False
) -> Iterator[Dict[str, np.ndarray]]:
    """Points, in GPS time order, block after block of pulses."""
    for line in plan.lines:
        for block, first in enumerate(range(0, line.pulses, BLOCK_PULSES)):
            rng = np.random.default_rng([seed, stream_id, line.number, block])
            last = min(line.pulses, first + BLOCK_PULSES)
            pulses = _line_pulses(scene, plan, line, first, last)
            if pulses["x"].size:
                chunk = _returns(scene, plan, pulses, rng, points_only)
                if chunk["x"].size:
                    yield chunk


def _line_pulses(scene: _Scene, plan: _Plan, line: _Line, first: int, last: int) -> Dict[str, np.ndarray]:
    """Pulses first..last-1 of a line: a zig-zag across the strip as the
    aircraft moves on; only those landing inside the square are kept."""
    k = np.arange(first, last, dtype=np.int64)
    pps = plan.pulses_per_sweep
    sweep, j = np.divmod(k, pps)
    rising = sweep % 2 == 0  # mirror swinging left to right: positive direction
    frac = (j + 0.5) / pps
    theta = np.where(rising, -HALF_FOV + 2 * HALF_FOV * frac, HALF_FOV - 2 * HALF_FOV * frac)
    t = k / plan.pulse_rate
    along = line.u_start + line.direction * SPEED * t
    right = line.direction * _RIGHT  # right of the aircraft on this line
    bx = SIZE / 2 + along * _AHEAD[0] + line.centre * _RIGHT[0]
    by = SIZE / 2 + along * _AHEAD[1] + line.centre * _RIGHT[1]
    tan = np.tan(theta)
    c = ALTITUDE * tan
    zg = scene.ground(bx + c * right[0], by + c * right[1])
    c = (plan.z_air - zg) * tan  # where the beam meets the terrain, near enough
    x, y = bx + c * right[0], by + c * right[1]
    keep = (x >= 0) & (x < SIZE) & (y >= 0) & (y < SIZE)
    return {
        "x": x[keep],
        "y": y[keep],
        "theta": theta[keep],
        "gps_time": line.gps_start + t[keep],
        "rising": rising[keep],
        "edge": (j == pps - 1)[keep],
        "right": right,
        "line": line,
    }


def _returns(
    scene: _Scene, plan: _Plan, p: Dict, rng: np.random.Generator, points_only: bool
) -> Dict[str, np.ndarray]:
    """What each pulse hits, and the points it brings back."""
    x, y, theta = p["x"], p["y"], p["theta"]
    rx, ry = p["right"]
    n = x.size
    zg = scene.ground(x, y)

    # What the beam meets first.
    target = np.full(n, _GROUND, np.int8)
    house, across = scene.building_at(x, y)
    on_roof = house >= 0
    target[on_roof] = _ROOF
    fi, fj = _cell(y, 0.5, 1320), _cell(x, 0.5, 1320)
    tree = scene.tree_cells[fi, fj] - 1
    top = scene.canopy[fi, fj].astype(np.float64)
    conifer = scene.trees.conifer[np.maximum(tree, 0)]
    gap = rng.random(n) < np.where(conifer, 0.12, 0.07)  # straight through a hole in the crown
    in_crown = ~on_roof & (tree >= 0) & (top > zg + 1.0) & ~gap
    target[in_crown] = _TREE
    lake_r = scene.lake_radius(x, y)
    on_water = ~on_roof & ~in_crown & (lake_r < 1.0)
    target[on_water] = _WATER
    ci, cj = _cell(y, 1.0, 660), _cell(x, 1.0, 660)
    shrub = (target == _GROUND) & scene.shrub_cells[ci, cj] & (rng.random(n) < 0.5)
    target[shrub] = _SHRUB
    u = rng.random(n)
    target[u < 1.5e-4] = _HIGH_NOISE  # birds, haze
    target[(u >= 1.5e-4) & (u < 2.5e-4)] = _LOW_NOISE  # multipath

    # How many returns: water mostly swallows the pulse except near nadir;
    # crowns split it into up to five echoes at least 1.5 m apart.
    count = np.ones(n, np.int64)
    echo = 0.12 + 0.8 * np.exp(-((theta / 0.05) ** 2))
    count[(target == _WATER) & (rng.random(n) > echo)] = 0
    trees = target == _TREE
    drawn = np.searchsorted(_TREE_RETURNS_CDF, rng.random(n) * _TREE_RETURNS_CDF[-1], side="right") + 1
    room = 1 + np.floor(np.maximum(top - zg, 0.0) / _MIN_RETURN_SEPARATION).astype(np.int64)
    count[trees] = np.clip(np.minimum(drawn, room), 1, MAX_RETURNS)[trees]
    to_ground = trees & (count >= 2) & (rng.random(n) < np.where(conifer, 0.6, 0.75))

    pulse = np.repeat(np.arange(n), count)
    m = pulse.size
    if points_only:
        return {"x": np.empty(m)}
    start = np.cumsum(count) - count
    rn = np.arange(m) - start[pulse] + 1
    nr = count[pulse]
    kind = target[pulse]
    px, py, pz_ground = x[pulse], y[pulse], zg[pulse]

    z = pz_ground.copy()
    cls = np.full(m, _C_GROUND, np.uint8)
    refl = np.zeros(m)
    cos_inc = np.ones(m)
    energy = np.ones(m)
    beam_tan = np.tan(theta[pulse])

    # Roofs.
    sel = kind == _ROOF
    hb, hacross = house[pulse[sel]], across[pulse[sel]]
    b = scene.buildings
    z[sel] = b.roof_height(hb, hacross) + rng.normal(0, 0.02, hb.size)
    cls[sel] = _C_BUILDING
    refl[sel] = b.reflectance[hb]
    pitch = 2 * b.rise[hb] / (2 * b.half_wid[hb])
    sgn = np.sign(hacross)
    nx_, ny_ = pitch * sgn * -b.uy[hb], pitch * sgn * b.ux[hb]
    cos_inc[sel] = _incidence(nx_, ny_, beam_tan[sel], rx, ry)

    # Crowns: first echo at the top, the next ones deeper, maybe the ground last.
    sel = kind == _TREE
    ground_last = to_ground[pulse] & (rn == nr) & sel
    veg = sel & ~ground_last
    veg_n = nr - to_ground[pulse]
    # The ground echo comes from where the slanted beam meets the terrain,
    # which may be uphill: every crown echo stays above it.
    under = zg.copy()
    t_idx = np.flatnonzero(trees)
    reach = np.tan(theta[t_idx]) * (top[t_idx] - zg[t_idx])
    under[t_idx] = scene.ground(x[t_idx] + rx * reach, y[t_idx] + ry * reach)
    floor = np.maximum(zg, under) + 0.5
    crown_floor = np.maximum(floor, scene.trees.crown_base[np.maximum(tree, 0)] - 1.0)
    low = np.where(rng.random(n) < 0.3, floor, crown_floor)  # some pulses reach the undergrowth
    span = np.maximum(top - low, 0.0)[pulse]
    # Echo k of n sits in the k-th n-th of the crown depth: heights fall with k.
    frac = np.where(rn == 1, rng.uniform(0.0, 0.1, m), rn - 1 + rng.uniform(0.1, 0.9, m))
    frac /= np.maximum(veg_n, 1)
    z[veg] = top[pulse[veg]] - span[veg] * frac[veg]
    hag = z - pz_ground
    cls[veg] = np.where(hag[veg] < 2.0, _C_LOW_VEG, np.where(hag[veg] < 5.0, _C_MED_VEG, _C_HIGH_VEG))
    refl[veg] = np.where(conifer[pulse[veg]], 0.32, 0.45) * rng.uniform(0.7, 1.1, int(veg.sum()))
    cos_inc[veg] = rng.uniform(0.4, 1.0, int(veg.sum()))
    multi = sel & (nr > 1)
    k = int(multi.sum())
    energy[multi] = np.where(rn[multi] == 1, rng.uniform(0.35, 0.8, k), rng.uniform(0.15, 0.6, k))
    # Later echoes travelled further along the slanted beam.
    drop = np.where(sel, top[pulse] - z, 0.0)
    drop[ground_last] = top[pulse[ground_last]] - pz_ground[ground_last]
    px = px + rx * beam_tan * drop
    py = py + ry * beam_tan * drop
    z[ground_last] = under[pulse[ground_last]]

    # Water, shrubs, noise.
    sel = kind == _WATER
    z[sel] = scene.water_level + rng.normal(0, 0.03, int(sel.sum()))
    cls[sel] = _C_WATER
    refl[sel] = 0.02 + 0.5 * np.exp(-((theta[pulse[sel]] / 0.03) ** 2))  # glint at nadir
    sel = kind == _SHRUB
    hag = rng.uniform(0.2, 2.6, int(sel.sum()))
    z[sel] = pz_ground[sel] + hag
    cls[sel] = np.where(hag < 2.0, _C_LOW_VEG, _C_MED_VEG)
    refl[sel] = 0.4 * rng.uniform(0.8, 1.1, hag.size)
    cos_inc[sel] = rng.uniform(0.5, 1.0, hag.size)
    sel = kind == _HIGH_NOISE
    z[sel] = pz_ground[sel] + rng.uniform(40, 250, int(sel.sum()))
    cls[sel] = _C_HIGH_NOISE
    refl[sel] = rng.uniform(0.01, 0.1, int(sel.sum()))
    sel = kind == _LOW_NOISE
    z[sel] = pz_ground[sel] - rng.uniform(2, 25, int(sel.sum()))
    cls[sel] = _C_LOW_NOISE
    refl[sel] = rng.uniform(0.01, 0.1, int(sel.sum()))

    # Ground (and ground under crowns) from the reflectance map and the slope.
    sel = cls == _C_GROUND
    gi, gj = _cell(py[sel], 1.0, 660), _cell(px[sel], 1.0, 660)
    refl[sel] = scene.ground_reflectance[gi, gj]
    gx = _bilinear(scene.slope_x, px[sel], py[sel])
    gy = _bilinear(scene.slope_y, px[sel], py[sel])
    cos_inc[sel] = _incidence(-gx, -gy, beam_tan[sel], rx, ry)

    # Intensity: reflectance x incidence x share of the pulse / range squared.
    cos_theta = np.cos(theta[pulse])
    rng_ratio = np.minimum(ALTITUDE * cos_theta / np.maximum(plan.z_air - z, 1.0), 1.3)  # receiver saturates
    raw = 1.5 * refl * cos_inc * energy * rng_ratio**2 * rng.lognormal(0.0, 0.1, m)
    intensity = np.clip(np.round(raw * 65535), 0, 65535).astype(np.uint16)

    oi, oj = _cell(py, 0.5, 1320), _cell(px, 0.5, 1320)
    rgb = scene.ortho[oi, oj].astype(np.uint16) * 257

    line = p["line"]
    return {
        "x": px,
        "y": py,
        "z": z,
        "intensity": intensity,
        "return_number": rn.astype(np.uint8),
        "number_of_returns": nr.astype(np.uint8),
        "scan_direction_flag": p["rising"][pulse].astype(np.uint8),
        "edge_of_flight_line": p["edge"][pulse].astype(np.uint8),
        "overlap": _overlap(plan, line, px, py).astype(np.uint8),
        "classification": cls,
        "scan_angle": np.round(np.degrees(theta[pulse]) / SCAN_ANGLE_UNIT).astype(np.int16),
        "point_source_id": np.full(m, line.number, np.uint16),
        "gps_time": p["gps_time"][pulse],
        "red": rgb[:, 0],
        "green": rgb[:, 1],
        "blue": rgb[:, 2],
    }


def _incidence(nx: np.ndarray, ny: np.ndarray, beam_tan: np.ndarray, rx: float, ry: float) -> np.ndarray:
    """|cos| of the angle between a surface normal (nx, ny, 1) and the beam."""
    dot = nx * rx * beam_tan + ny * ry * beam_tan - 1.0
    return np.abs(dot) / np.sqrt((1 + nx * nx + ny * ny) * (1 + beam_tan * beam_tan))


def _overlap(plan: _Plan, line: _Line, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Points another strip also covers closer to its nadir: the overlap
    points a producer would flag (LAS 1.4 overlap bit)."""
    v = (x - SIZE / 2) * _RIGHT[0] + (y - SIZE / 2) * _RIGHT[1]
    own = np.abs(v - line.centre)
    flagged = np.zeros(x.size, bool)
    for other in plan.lines:
        if other is not line:
            d = np.abs(v - other.centre)
            flagged |= (d < plan.half_swath) & (d < own)
    return flagged

"""What each pulse hits (ground, roof, crown, water, shrub, noise) and the
points it brings back: heights, classes, intensities, colours and flags.
"""

from __future__ import annotations

from typing import Dict

import numpy as np

from .constants import (
    _C_BUILDING,
    _C_GROUND,
    _C_HIGH_NOISE,
    _C_HIGH_VEG,
    _C_LOW_NOISE,
    _C_LOW_VEG,
    _C_MED_VEG,
    _C_WATER,
    _GROUND,
    _HIGH_NOISE,
    _LOW_NOISE,
    _MIN_RETURN_SEPARATION,
    _ROOF,
    _SHRUB,
    _TREE,
    _TREE_RETURNS_CDF,
    _WATER,
    ALTITUDE,
    MAX_RETURNS,
    SCAN_ANGLE_UNIT,
    SIZE,
)
from .flight import _RIGHT, _Line, _Plan
from .rasters import _bilinear, _cell
from .scene import _Scene


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

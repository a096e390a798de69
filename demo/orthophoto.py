"""The colours: a 0.5 m orthophoto of the scene (bare earth, fields, road,
water, roofs, crowns, cast shadows) the points take their RGB from, and the
ground's reflectance at the laser's wavelength.
"""

from __future__ import annotations

import math
from typing import Tuple

import numpy as np

from .constants import _SUN_AZIMUTH, _SUN_ELEVATION
from .rasters import _fbm
from .scene import _Scene


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

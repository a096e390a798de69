"""The village and the farm: where the buildings stand, their roofs and
colours, and the 1 m cells their footprints touch.
"""

from __future__ import annotations

import math
from typing import List, Tuple

import numpy as np

from .constants import SIZE
from .scene import _Buildings, _Scene


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

"""Forest stands, garden trees and a roadside avenue: where the trees stand,
their heights and crowns, and the crown surface at 0.5 m.
"""

from __future__ import annotations

import math
from typing import Tuple

import numpy as np

from .constants import SIZE
from .rasters import _cell, _fbm
from .scene import _Scene, _Trees


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

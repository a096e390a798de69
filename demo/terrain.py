"""The scene built from a seed: rolling hills, a valley with a lake, a road;
then the buildings, trees and shrubs on it, and the orthophoto of it all.
"""

from __future__ import annotations

import math

import numpy as np

from .buildings import _place_buildings, _rasterise_buildings
from .constants import BASE_HEIGHT, MARGIN, SIZE
from .orthophoto import _paint_ortho
from .rasters import _bilinear, _fbm
from .scene import _Scene
from .trees import _place_trees, _rasterise_trees


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

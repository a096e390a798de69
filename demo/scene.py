"""What the scene holds: the buildings, the trees, and the scene itself with
its terrain, lake, road and rasters, and the look-ups the survey makes on it
(all vectorised over points).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Tuple

import numpy as np

from .rasters import _bilinear, _cell


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

"""Grids over the scene: the cell under a point, bilinear sampling of a 1 m
node grid, and fractal value noise for terrain, stands and textures.
"""

from __future__ import annotations

import numpy as np

from .constants import MARGIN


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

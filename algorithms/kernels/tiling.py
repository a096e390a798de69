"""Points into the cells of a tile grid, and gathering a cell's points."""
import numpy as np
from numba import njit, prange


@njit(cache=True, nogil=True, inline="always")
def _cell(x, y, cx, rx, cy, ry, kx0, ky0, ny):
    """Dense index of the cell of integer point (x, y): cell k on an axis holds
    c + k * r <= v < c + (k + 1) * r (floor division rounds down for negatives)."""
    return ((np.int64(x) - cx) // rx - kx0) * ny + ((np.int64(y) - cy) // ry - ky0)


@njit(cache=True, nogil=True)
def cell_order(xyz, cx, rx, cy, ry, kx0, ky0, nx, ny):
    """Stable counting sort of points by cell: (order, counts), counts[d] the
    points of dense cell d = (kx - kx0) * ny + (ky - ky0); cells of whole
    integer width rx, ry starting at cx, cy.  Every point must lie in the
    nx * ny cells from (kx0, ky0)."""
    n = xyz.shape[0]
    counts = np.zeros(nx * ny, np.int64)
    for i in range(n):
        counts[_cell(xyz[i, 0], xyz[i, 1], cx, rx, cy, ry, kx0, ky0, ny)] += 1
    pos = np.empty(nx * ny, np.int64)
    acc = 0
    for d in range(nx * ny):
        pos[d] = acc
        acc += counts[d]
    order = np.empty(n, np.int64)
    for i in range(n):
        d = _cell(xyz[i, 0], xyz[i, 1], cx, rx, cy, ry, kx0, ky0, ny)
        order[pos[d]] = i
        pos[d] += 1
    return order, counts


@njit(parallel=True, cache=True, nogil=True)
def gather_columns(xyz, gps, rest, index, out_xyz, out_gps, out_rest):
    """out[j] = points[index[j]] for the three columns, rows in parallel."""
    width = rest.shape[1]
    for j in prange(index.shape[0]):
        i = index[j]
        out_xyz[j, 0] = xyz[i, 0]
        out_xyz[j, 1] = xyz[i, 1]
        out_xyz[j, 2] = xyz[i, 2]
        out_gps[j] = gps[i]
        for b in range(width):
            out_rest[j, b] = rest[i, b]

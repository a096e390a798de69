"""Points into the cells of a tile grid (the gathering of a cell's points is kernels.distribute.gather_points)."""
import numpy as np
from numba import njit


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

"""A lattice of small cells over real coordinates, and trilinear
interpolation inside its cells: the fast path of reprojection.

The cells are anchored at whole multiples of ``steps`` (cell (i, j, k) spans
[i*sx, (i+1)*sx) ...), never at a chunk's own corner, so a point's cell, and
so its interpolated value, do not depend on which chunk carries it.
"""
import numpy as np
from numba import njit, prange

# The 8 corners of a cell, corner j at (j & 1, j >> 1 & 1, j >> 2 & 1).
CORNERS = np.array([[j & 1, (j >> 1) & 1, (j >> 2) & 1] for j in range(8)], np.int64)


@njit(parallel=True, cache=True, nogil=True)
def lattice_cells(real, steps, cells):
    """cells[i] = floor(real[i] / steps): each point's cell."""
    for i in prange(real.shape[0]):
        for a in range(3):
            cells[i, a] = np.int64(np.floor(real[i, a] / steps[a]))


@njit(cache=True, nogil=True)
def rank_cells(cells, lo, dims, rank, origins, cell_of):
    """Number the distinct cells in order of first appearance.

    ``rank`` (-1 filled, one entry per cell of the box lo .. lo + dims) gets
    each seen cell's number; ``origins[r]`` the cells themselves,
    ``cell_of[i]`` point i's cell number.  Returns how many cells were seen.
    """
    m = 0
    for i in range(cells.shape[0]):
        code = ((cells[i, 2] - lo[2]) * dims[1] + (cells[i, 1] - lo[1])) * dims[0] + (cells[i, 0] - lo[0])
        r = rank[code]
        if r < 0:
            r = m
            rank[code] = m
            for a in range(3):
                origins[m, a] = cells[i, a]
            m += 1
        cell_of[i] = r
    return m


@njit(parallel=True, cache=True, nogil=True)
def interpolate_in_cells(real, steps, cell_of, origins, corners, values, bad, keep_z, out, exact):
    """Trilinear interpolation of the corner ``values`` at each point.

    Point i lies in cell ``cell_of[i]`` (integer cell ``origins[c]``), whose
    corner j holds ``values[corners[c, j]]``.  Points of a ``bad`` cell are
    left alone and flagged in ``exact``.  The value is the first corner's
    plus weighted differences, so large coordinates lose no precision.
    ``keep_z``: Z is the point's own, not interpolated.
    """
    for i in prange(real.shape[0]):
        c = cell_of[i]
        if bad[c]:
            exact[i] = True
            continue
        tx = real[i, 0] / steps[0] - origins[c, 0]
        ty = real[i, 1] / steps[1] - origins[c, 1]
        tz = real[i, 2] / steps[2] - origins[c, 2]
        first = corners[c, 0]
        for a in range(2 if keep_z else 3):
            v0 = values[first, a]
            acc = 0.0
            for j in range(1, 8):
                w = ((tx if j & 1 else 1.0 - tx) * (ty if j & 2 else 1.0 - ty)
                     * (tz if j & 4 else 1.0 - tz))
                acc += w * (values[corners[c, j], a] - v0)
            out[i, a] = v0 + acc
        if keep_z:
            out[i, 2] = real[i, 2]


@njit(parallel=True, cache=True, nogil=True)
def dequantize(xyz, scales, offsets, out):
    """out = xyz * scales + offsets: integer coordinates back to real ones."""
    for i in prange(xyz.shape[0]):
        for a in range(3):
            out[i, a] = xyz[i, a] * scales[a] + offsets[a]


@njit(parallel=True, cache=True, nogil=True)
def quantize_xyz(real, scales, offsets, out):
    """out = rint((real - offsets) / scales) as int32, numpy's arithmetic in
    numpy's order (points.quantize); returns how many values do not fit an
    int32 (NaN included), out's values for those unspecified."""
    bad = 0
    for i in prange(real.shape[0]):
        for a in range(3):
            q = np.rint((real[i, a] - offsets[a]) / scales[a])
            if q >= -2147483648.0 and q <= 2147483647.0:
                out[i, a] = np.int32(q)
            else:
                out[i, a] = 0
                bad += 1
    return bad

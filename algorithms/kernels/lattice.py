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
            out[i, a], fits = _fit_int32(real[i, a], offsets[a], scales[a])
            if not fits:
                bad += 1
    return bad


@njit(cache=True, nogil=True, inline="always")
def _fit_int32(value, offset, scale):
    """(rint((value - offset) / scale) as int32, True), numpy's arithmetic in
    numpy's order; (0, False) when it does not fit an int32 (NaN included)."""
    q = np.rint((value - offset) / scale)
    if q >= -2147483648.0 and q <= 2147483647.0:
        return np.int32(q), True
    return np.int32(0), False


# -- integer coordinates in, integer coordinates out ---------------------------------
# The same arithmetic as dequantize, lattice_cells, interpolate_in_cells and
# quantize_xyz one after the other, without the arrays between them.

BOUND_PARTS = 64   # fixed, so nothing depends on the thread count


@njit(cache=True, nogil=True, inline="always")
def _real(xyz, i, a, scales, offsets):
    return xyz[i, a] * scales[a] + offsets[a]


@njit(parallel=True, cache=True, nogil=True)
def int_lattice_bounds(xyz, scales, offsets, steps, lo, hi):
    """lo/hi = the lowest and highest lattice cell of the points whose
    integer coordinates in the frame (scales, offsets) are ``xyz``."""
    n = xyz.shape[0]
    size = (n + BOUND_PARTS - 1) // BOUND_PARTS
    part_lo = np.empty((BOUND_PARTS, 3), np.int64)
    part_hi = np.empty((BOUND_PARTS, 3), np.int64)
    for p in prange(BOUND_PARTS):
        for a in range(3):
            part_lo[p, a] = np.iinfo(np.int64).max
            part_hi[p, a] = np.iinfo(np.int64).min
        for i in range(p * size, min(p * size + size, n)):
            for a in range(3):
                c = np.int64(np.floor(_real(xyz, i, a, scales, offsets) / steps[a]))
                part_lo[p, a] = min(part_lo[p, a], c)
                part_hi[p, a] = max(part_hi[p, a], c)
    for a in range(3):
        lo[a] = part_lo[:, a].min()
        hi[a] = part_hi[:, a].max()


@njit(cache=True, nogil=True, inline="always")
def _scaled(xyz, i, a, scales, offsets, steps):
    """(the point's real coordinate / steps[a], its floor: the point's cell)"""
    u = _real(xyz, i, a, scales, offsets) / steps[a]
    return u, np.int64(np.floor(u))


@njit(cache=True, nogil=True, inline="always")
def _box_code(cx, cy, cz, lo, dims):
    return ((cz - lo[2]) * dims[1] + (cy - lo[1])) * dims[0] + (cx - lo[0])


@njit(parallel=True, cache=True, nogil=True)
def number_int_cells(xyz, scales, offsets, steps, lo, dims, rank, origins):
    """Number the cells holding points, in the box's order (x fastest):
    ``rank`` (one entry per cell of the box lo .. lo + dims, zero filled)
    gets each such cell's number + 1, ``origins[r]`` the cells themselves.
    Returns how many there are."""
    for i in prange(xyz.shape[0]):
        cx = _scaled(xyz, i, 0, scales, offsets, steps)[1]
        cy = _scaled(xyz, i, 1, scales, offsets, steps)[1]
        cz = _scaled(xyz, i, 2, scales, offsets, steps)[1]
        rank[_box_code(cx, cy, cz, lo, dims)] = 1
    m = 0
    for code in range(rank.shape[0]):
        if rank[code]:
            m += 1
            rank[code] = m
            rest = code
            for a in range(3):
                origins[m - 1, a] = lo[a] + rest % dims[a]
                rest //= dims[a]
    return m


@njit(cache=True, nogil=True)
def cell_differences(corners, values):
    """table[c, 0] = the value at cell c's first corner, table[c, j] = corner j's
    minus the first's: what interpolate_in_cells computes for every point,
    once a cell, each cell's in one place."""
    m = corners.shape[0]
    table = np.empty((m, 8, 3))
    for c in range(m):
        for a in range(3):
            v0 = values[corners[c, 0], a]
            table[c, 0, a] = v0
            for j in range(1, 8):
                table[c, j, a] = values[corners[c, j], a] - v0
    return table


@njit(parallel=True, cache=True, nogil=True)
def interpolate_ints(xyz, scales, offsets, steps, lo, dims, rank, table, bad, keep_z, out_scales,
                     out_offsets, out, exact):
    """interpolate_in_cells, then quantize_xyz, of the points ``xyz`` (integer
    coordinates in the frame scales, offsets) into ``out`` (int32, the frame
    out_scales, out_offsets); ``table`` is cell_differences of the cells'
    corners.  A point of a ``bad`` cell is flagged in ``exact`` and its
    ``out`` left 0.  Returns how many values do not fit an int32."""
    overflow = 0
    for i in prange(xyz.shape[0]):
        ux, cx = _scaled(xyz, i, 0, scales, offsets, steps)
        uy, cy = _scaled(xyz, i, 1, scales, offsets, steps)
        uz, cz = _scaled(xyz, i, 2, scales, offsets, steps)
        c = rank[_box_code(cx, cy, cz, lo, dims)] - 1
        if bad[c]:
            exact[i] = True
            for a in range(3):
                out[i, a] = 0
            continue
        # the point's own cell: t as interpolate_in_cells computes it, and its
        # weights in its order ((x * y) * z; corner j at (j & 1, j >> 1 & 1, j >> 2 & 1))
        tx = ux - cx
        ty = uy - cy
        tz = uz - cz
        sx = 1.0 - tx
        sy = 1.0 - ty
        sz = 1.0 - tz
        w1 = tx * sy * sz
        w2 = sx * ty * sz
        w3 = tx * ty * sz
        w4 = sx * sy * tz
        w5 = tx * sy * tz
        w6 = sx * ty * tz
        w7 = tx * ty * tz
        for a in range(3):
            if a == 2 and keep_z:
                v = _real(xyz, i, 2, scales, offsets)
            else:
                acc = 0.0
                acc += w1 * table[c, 1, a]
                acc += w2 * table[c, 2, a]
                acc += w3 * table[c, 3, a]
                acc += w4 * table[c, 4, a]
                acc += w5 * table[c, 5, a]
                acc += w6 * table[c, 6, a]
                acc += w7 * table[c, 7, a]
                v = table[c, 0, a] + acc
            out[i, a], fits = _fit_int32(v, out_offsets[a], out_scales[a])
            if not fits:
                overflow += 1
    return overflow

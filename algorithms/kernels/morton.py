"""Morton codes of points at the fine level (21 bits per axis, 63 bits)."""
import numpy as np
from numba import njit, prange

FINE = 21


@njit(cache=True, inline="always")
def spread3(v):
    """Put the low 21 bits of v on every third bit."""
    v &= 0x1FFFFF
    v = (v | (v << 32)) & 0x1F00000000FFFF
    v = (v | (v << 16)) & 0x1F0000FF0000FF
    v = (v | (v << 8)) & 0x100F00F00F00F00F
    v = (v | (v << 4)) & 0x10C30C30C30C30C3
    v = (v | (v << 2)) & 0x1249249249249249
    return v


@njit(parallel=True, cache=True, nogil=True)
def fine_codes(xyz, imin, ratio, m1, out):
    """out[i] = Morton code (int64) of point i's cell at level 21.

    h = 2 * (X - imin) + 1 is the point's position in half units from the
    cube's lower corner; the cell along an axis is h * 2**21 // (2**m1 * ratio).
    Where every ratio is a power of two (1 wherever the three scales are
    equal, most files), a shift divides, flooring alike: the divisions were
    a third of this kernel's time (0.052 -> 0.035 s for 10.5 M points).
    """
    n = xyz.shape[0]
    shifts = np.zeros(3, np.int64)   # log2(ratio[a]), where every ratio is a power of two
    by_shift = True
    for a in range(3):
        r = ratio[a]
        by_shift = by_shift and r > 0 and r & (r - 1) == 0
        while by_shift and (np.int64(1) << shifts[a]) < r:
            shifts[a] += 1
    up = max(FINE - m1, 0)
    down = max(m1 - FINE, 0)
    if by_shift:
        for i in prange(n):
            code = np.int64(0)
            for a in range(3):
                h = (np.int64(2) * (np.int64(xyz[i, a]) - imin[a]) + 1) << up
                code |= spread3((h >> shifts[a]) >> down) << a
            out[i] = code
    else:
        for i in prange(n):
            code = np.int64(0)
            for a in range(3):
                h = np.int64(2) * (np.int64(xyz[i, a]) - imin[a]) + 1
                if m1 >= FINE:
                    c = (h // ratio[a]) >> (m1 - FINE)
                else:
                    c = (h << (FINE - m1)) // ratio[a]
                code |= spread3(c) << a
            out[i] = code


@njit(parallel=True, cache=True, nogil=True)
def fine_codes_float(xyz, scales, offsets, lower, side, max_depth, out):
    """fine_codes for scales with no common unit, in floating point.

    A point's cell along an axis comes from its real coordinate (X * scale +
    offset, as readers compute it), then is checked against each level's box
    as a reader computes it (low = lower + index * side / 2**level, high =
    low + side / 2**level) and moved across the boundary it sits on when
    rounding put it on the wrong side.
    """
    n = xyz.shape[0]
    top = (1 << FINE) - 1
    fine_size = side / 2.0 ** FINE
    for i in prange(n):
        code = np.int64(0)
        for a in range(3):
            x = np.float64(xyz[i, a]) * scales[a] + offsets[a]
            c = np.int64(np.floor((x - lower[a]) / fine_size))
            c = min(max(c, 0), top)
            for _ in range(4):
                moved = False
                for d in range(max_depth, 0, -1):
                    k = FINE - d
                    j = c >> k
                    size = side / 2.0 ** d
                    low = lower[a] + j * size
                    if x < low and j > 0:
                        c = (j << k) - 1
                        moved = True
                    elif x > low + size and j < (1 << d) - 1:
                        c = (j + 1) << k
                        moved = True
                if not moved:
                    break
            code |= spread3(c) << a
        out[i] = code

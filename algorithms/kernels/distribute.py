"""Distribution of a chunk of points into buckets (cells of one level)."""
import numpy as np
from numba import njit, prange


@njit(cache=True, nogil=True)
def bucket_order(codes, shift, mask):
    """Stable counting sort of points by bucket ``(codes >> shift) & mask``.

    Returns (order, counts): points order[...] grouped by bucket in bucket
    order, arrival order kept inside a bucket; counts[b] points in bucket b.
    """
    n = codes.shape[0]
    nbuckets = mask + 1
    counts = np.zeros(nbuckets, np.int64)
    for i in range(n):
        counts[(codes[i] >> shift) & mask] += 1
    pos = np.empty(nbuckets, np.int64)
    acc = 0
    for b in range(nbuckets):
        pos[b] = acc
        acc += counts[b]
    order = np.empty(n, np.int64)
    for i in range(n):
        b = (codes[i] >> shift) & mask
        order[pos[b]] = i
        pos[b] += 1
    return order, counts


@njit(cache=True, nogil=True)
def int_bounds(xyz, lo, hi):
    """Fold the points' integer bounds into lo/hi (in place)."""
    for i in range(xyz.shape[0]):
        for a in range(3):
            v = xyz[i, a]
            if v < lo[a]:
                lo[a] = v
            if v > hi[a]:
                hi[a] = v


@njit(parallel=True, cache=True, nogil=True)
def gather_points(xyz, gps, rest, index, out_xyz, out_gps, out_rest):
    """Row j of the out columns = row index[j] of the columns, rows in
    parallel (what ``Columns.take`` does with numpy, on one core)."""
    width = rest.shape[1]
    for j in prange(index.shape[0]):
        i = index[j]
        for a in range(3):
            out_xyz[j, a] = xyz[i, a]
        out_gps[j] = gps[i]
        for b in range(width):
            out_rest[j, b] = rest[i, b]

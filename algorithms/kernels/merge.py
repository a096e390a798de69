"""Kernels for nodes too big for memory: k-way merge of sorted runs, and
LOD sampling of a stream of points against one parent's grid."""
from numba import njit

from .octree import canonical_less, first_in_cell, lod_grid


@njit(cache=True, nogil=True)
def merge_heads(starts, ends, more, gbits, codes, xyz, rest, out):
    """Merge runs [starts[r], ends[r]) of one combined array, each in
    canonical order, writing indices into ``out``.

    Stops when ``out`` is full, or when a run with more data to come
    (more[r]) is used up: its next block must be loaded before going on.
    Returns the number of indices written; ``starts`` is advanced in place.
    """
    k = starts.shape[0]
    n = 0
    while n < out.shape[0]:
        best = -1
        for r in range(k):
            if starts[r] < ends[r]:
                if best < 0 or canonical_less(starts[r], starts[best], gbits, codes, xyz, rest):
                    best = r
            elif more[r]:
                return n
        if best < 0:
            return n
        out[n] = starts[best]
        starts[best] += 1
        n += 1
    return n


@njit(cache=True, nogil=True)
def sample_stream(codes, level, bitmap, flags):
    """One block of a child's points, visited in order, against its parent's
    grid (``bitmap``, from lod_grid, kept between blocks and children):
    flags[i] = 1 when point i is the first in its cell and moves up.
    Returns the count."""
    shift, mask, _ = lod_grid(level)
    count = 0
    for i in range(codes.shape[0]):
        if first_in_cell(bitmap, codes[i], shift, mask):
            flags[i] = 1
            count += 1
        else:
            flags[i] = 0
    return count

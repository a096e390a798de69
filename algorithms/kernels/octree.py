"""Octree kernels: split nodes into children, sort a node's points into their
canonical order, and sample levels of detail on a 128^3 grid.

All of them work on ``perm``-style index arrays (int32 or int64) into a unit's columns,
and on the points' fine Morton codes (kernels.morton), so they never move the
point data itself.  Node batches are processed in parallel (prange over
nodes); inside a node the work is sequential, so results never depend on the
thread count.
"""
import numpy as np
from numba import njit, prange

from .morton import FINE
from .prefetch import AHEAD, prefetch


@njit(cache=True, nogil=True)
def cell_bins(cells, levels, limit):
    """Where a node's points go, by their cell ``cells`` counts (8**levels cells,
    the node's descendants ``levels`` levels down, in Morton order).

    One level: cell g is child g, its own bin.  More levels: a descendant
    above the last level with at most ``limit`` points is a leaf, not split
    again, so all its cells go to one bin, its first cell's, and its points
    keep their order; the other points go by cell.
    Returns (bin of each cell, points in each bin)."""
    n = cells.shape[0]
    bins = np.arange(n).astype(np.uint16)
    whole = np.zeros(n, np.bool_)   # cells of a leaf found higher up
    for depth in range(1, levels):
        width = 8 ** (levels - depth)
        for first in range(0, n, width):
            if whole[first]:
                continue
            total = 0
            for g in range(first, first + width):
                total += cells[g]
            if total <= limit:
                for g in range(first, first + width):
                    bins[g] = first
                    whole[g] = True
    sizes = np.zeros(n, np.int64)
    for g in range(n):
        sizes[bins[g]] += cells[g]
    return bins, sizes


@njit(parallel=True, cache=True, nogil=True)
def split_nodes(codes, perm, starts, ends, shift, levels, limit, counts):
    """Stable counting sort of each segment perm[starts[j]:ends[j]] by cell.

    A point's cell is ``(codes[i] >> shift) & (8**levels - 1)``: its child
    (levels 1), or its descendant ``levels`` levels down (where a node of at
    most ``limit`` points above that stays whole: cell_bins).  counts[j, b] gets the
    number of node j's points in bin b.  The splits keep each node's indices
    ascending (they start as the identity and every split is stable), so the
    codes are gathered in increasing order.
    """
    mask = (1 << (3 * levels)) - 1
    for j in prange(starts.shape[0]):
        s = starts[j]
        e = ends[j]
        cells = np.zeros(mask + 1, np.int64)
        kid = np.empty(e - s, np.uint16)   # each point's cell, read once through perm
        for q in range(s, e):
            k = (codes[perm[q]] >> shift) & mask
            kid[q - s] = k
            cells[k] += 1
        bins, sizes = cell_bins(cells, levels, limit)
        pos = np.empty(mask + 1, np.int64)
        acc = 0
        for b in range(mask + 1):
            pos[b] = acc
            acc += sizes[b]
            counts[j, b] = sizes[b]
        tmp_p = np.empty(e - s, perm.dtype)
        for q in range(s, e):
            b = bins[kid[q - s]]
            tmp_p[pos[b]] = perm[q]
            pos[b] += 1
        perm[s:e] = tmp_p


SPLIT_PARTS = 64   # fixed, so the result never depends on the thread count


@njit(cache=True, nogil=True)
def _part_offsets(hist, levels, limit, counts):
    """(bin of each cell, where each part's points of each bin start): stable,
    part by part within a bin; counts[b] gets the bin's total."""
    cells = np.zeros(hist.shape[1], np.int64)
    for p in range(SPLIT_PARTS):
        for g in range(hist.shape[1]):
            cells[g] += hist[p, g]
    bins, sizes = cell_bins(cells, levels, limit)
    in_bin = np.zeros((SPLIT_PARTS, hist.shape[1]), np.int64)
    for p in range(SPLIT_PARTS):
        for g in range(hist.shape[1]):
            in_bin[p, bins[g]] += hist[p, g]
    pos = np.empty((SPLIT_PARTS, hist.shape[1]), np.int64)
    acc = 0
    for b in range(hist.shape[1]):
        counts[b] = sizes[b]
        for p in range(SPLIT_PARTS):
            pos[p, b] = acc
            acc += in_bin[p, b]
    return bins, pos


@njit(parallel=True, cache=True, nogil=True)
def split_big_node(codes, perm, s, e, shift, levels, limit, counts, tmp_p, kid):
    """split_nodes for one large node, in parallel: a stable counting sort
    done part by part (per-part histograms, then each part scatters).

    tmp_p (at least e - s long, perm's dtype) and kid (as long, uint16: each
    point's cell, so the scatter does not read the codes through perm a
    second time) are scratch: the caller allocates them once for every big
    node of a partition, so their pages are touched once rather than at
    every level."""
    n = e - s
    mask = (1 << (3 * levels)) - 1
    size = (n + SPLIT_PARTS - 1) // SPLIT_PARTS
    hist = np.zeros((SPLIT_PARTS, mask + 1), np.int64)
    for p in prange(SPLIT_PARTS):
        a = s + p * size
        b = min(a + size, e)
        for q in range(a, b):
            k = (codes[perm[q]] >> shift) & mask
            kid[q - s] = k
            hist[p, k] += 1
    bins, pos = _part_offsets(hist, levels, limit, counts)
    for p in prange(SPLIT_PARTS):
        a = s + p * size
        b = min(a + size, e)
        mine = pos[p].copy()
        for q in range(a, b):
            k = bins[kid[q - s]]
            tmp_p[mine[k]] = perm[q]
            mine[k] += 1
    for q in prange(n):
        perm[s + q] = tmp_p[q]


@njit(parallel=True, cache=True, nogil=True)
def split_root(codes, shift, levels, limit, perm, counts):
    """split_big_node of a whole unit while its perm is still the identity:
    writes perm directly, so the first and largest split needs no scratch."""
    n = codes.shape[0]
    mask = (1 << (3 * levels)) - 1
    size = (n + SPLIT_PARTS - 1) // SPLIT_PARTS
    hist = np.zeros((SPLIT_PARTS, mask + 1), np.int64)
    for p in prange(SPLIT_PARTS):
        for q in range(p * size, min(p * size + size, n)):
            hist[p, (codes[q] >> shift) & mask] += 1
    bins, pos = _part_offsets(hist, levels, limit, counts)
    for p in prange(SPLIT_PARTS):
        mine = pos[p].copy()
        for q in range(p * size, min(p * size + size, n)):
            k = bins[(codes[q] >> shift) & mask]
            perm[mine[k]] = q
            mine[k] += 1


@njit(cache=True, nogil=True, inline="always")
def gps_key(b):
    """Order-preserving uint64 key of a float64 GPS time's bits ``b``, one
    per bit pattern (IEEE total order: negative NaNs first, positive NaNs
    last), so equal keys mean equal GPS bytes."""
    top = np.uint64(1) << np.uint64(63)
    if b & top:
        return ~b
    return b | top


@njit(parallel=True, cache=True, nogil=True)
def gps_sort_keys(gps, out):
    """gps_key of every GPS time.  The sorting kernels take the GPS bits
    (``gps.view(np.uint64)``) and make these keys as they compare, so a
    unit never holds an array of them."""
    bits = gps.view(np.uint64)
    for i in prange(gps.shape[0]):
        out[i] = gps_key(bits[i])


@njit(cache=True, nogil=True, inline="always")
def _record_less(a, b, xyz, rest):
    """Total order on whole records: X, Y, Z, then the other bytes."""
    for k in range(3):
        if xyz[a, k] != xyz[b, k]:
            return xyz[a, k] < xyz[b, k]
    for k in range(rest.shape[1]):
        if rest[a, k] != rest[b, k]:
            return rest[a, k] < rest[b, k]
    return False


@njit(cache=True, nogil=True, inline="always")
def canonical_less(a, b, gbits, codes, xyz, rest):
    """Point a before point b in canonical order: GPS key (gps_key of the
    GPS bits ``gbits``), Morton code, then the record's bytes (shared with
    kernels.merge)."""
    if gbits[a] != gbits[b]:
        return gps_key(gbits[a]) < gps_key(gbits[b])
    if codes[a] != codes[b]:
        return codes[a] < codes[b]
    return _record_less(a, b, xyz, rest)


@njit(cache=True, nogil=True, inline="always")
def _tie_less(a, b, codes, xyz, rest):
    """canonical_less of two points with the same GPS time: Morton code,
    then the record's bytes."""
    if codes[a] != codes[b]:
        return codes[a] < codes[b]
    return _record_less(a, b, xyz, rest)


@njit(cache=True, nogil=True)
def _insertion_sort(seg, start, stop, codes, xyz, rest):
    """Stable insertion sort of seg[start:stop] in canonical order, for the
    short runs of points sharing a GPS time (the returns of one pulse):
    their GPS keys are equal, so only codes and records are compared."""
    for q in range(start + 1, stop):
        v = seg[q]
        p = q - 1
        while p >= start and _tie_less(v, seg[p], codes, xyz, rest):
            seg[p + 1] = seg[p]
            p -= 1
        seg[p + 1] = v


@njit(cache=True, nogil=True)
def _sort_run_by(out, start, stop, keys):
    """Order out[start:stop] stably by ``keys`` of its points."""
    run = out[start:stop].copy()
    c = np.empty(stop - start, keys.dtype)
    for q in range(stop - start):
        c[q] = keys[run[q]]
    order = np.argsort(c, kind="mergesort")
    for q in range(stop - start):
        out[start + q] = run[order[q]]


@njit(cache=True, nogil=True)
def _sort_run_by_gps(out, n, gbits):
    """Order out[:n] stably by the GPS keys of its points."""
    run = out[:n].copy()
    c = np.empty(n, np.uint64)
    for q in range(n):
        c[q] = gps_key(gbits[run[q]])
    order = np.argsort(c, kind="mergesort")
    for q in range(n):
        out[q] = run[order[q]]


@njit(cache=True, nogil=True)
def _sort_segment(seg, gbits, codes, xyz, rest):
    """Sort indices seg (in place) into canonical order.

    Points usually arrive in acquisition order, so GPS times are mostly
    already in order: that case costs one pass plus short insertion sorts.
    """
    n = seg.shape[0]
    if n < 2:
        return
    in_order = True
    for q in range(1, n):
        if gps_key(gbits[seg[q]]) < gps_key(gbits[seg[q - 1]]):
            in_order = False
            break
    if not in_order:
        _sort_run_by_gps(seg, n, gbits)
    # Ties in GPS time (returns of one pulse, or no GPS at all): by code,
    # then, for points in the same fine cell, by the whole record.  Each
    # point's GPS bits are read once (0.067 s instead of 0.090 s for the
    # leaves of 10.5 M points, with _insertion_sort comparing codes only).
    i = 0
    gi = gbits[seg[0]]
    while i < n:
        j = i + 1
        gj = gi
        while j < n:
            gj = gbits[seg[j]]
            if gj != gi:
                break
            j += 1
        if j - i > 1:
            if j - i <= 32:
                _insertion_sort(seg, i, j, codes, xyz, rest)
            else:
                _sort_run_by(seg, i, j, codes)
                a = i
                while a < j:
                    ca = codes[seg[a]]
                    b = a + 1
                    while b < j and codes[seg[b]] == ca:
                        b += 1
                    if b - a > 1:   # same GPS time and cell: by the whole record
                        _merge_runs(seg[a:b], np.arange(b - a + 1, dtype=np.int64), gbits, codes,
                                    xyz, rest)
                    a = b
        i = j
        gi = gj


@njit(parallel=True, cache=True, nogil=True)
def sort_canonical(perm, starts, ends, gbits, codes, xyz, rest):
    """Put every segment perm[starts[j]:ends[j]] in canonical order.

    Canonical order is GPS time, then Morton code, then the whole record: a
    total order on distinct points, so it depends only on the points, never
    on their arrival order or on how the work was split up; the in-memory and
    out-of-core paths give the same bytes.
    """
    for j in prange(starts.shape[0]):
        _sort_segment(perm[starts[j]:ends[j]], gbits, codes, xyz, rest)


@njit(cache=True, nogil=True)
def _merge_pair(src, dst, lo, mid, hi, gbits, codes, xyz, rest):
    """Merge the canonical runs src[lo:mid] and src[mid:hi] into dst[lo:hi], stably."""
    i, j, o = lo, mid, lo
    while i < mid and j < hi:
        if i + AHEAD < mid:
            prefetch(gbits, src[i + AHEAD])
        if j + AHEAD < hi:
            prefetch(gbits, src[j + AHEAD])
        if canonical_less(src[j], src[i], gbits, codes, xyz, rest):
            dst[o] = src[j]
            j += 1
        else:
            dst[o] = src[i]
            i += 1
        o += 1
    while i < mid:
        dst[o] = src[i]
        i += 1
        o += 1
    while j < hi:
        dst[o] = src[j]
        j += 1
        o += 1


@njit(cache=True, nogil=True)
def _merge_runs(seg, bounds, gbits, codes, xyz, rest):
    """Merge the canonical runs seg[bounds[r]:bounds[r+1]] into one (in place);
    runs of one point each make this a plain merge sort."""
    nruns = bounds.shape[0] - 1
    if nruns < 2:
        return
    src = seg.copy()
    dst = np.empty_like(src)
    b = bounds - bounds[0]
    while nruns > 1:
        nb = np.empty((nruns + 1) // 2 + 1, np.int64)
        k = 0
        for r in range(0, nruns, 2):
            hi = b[r + 2] if r + 2 <= nruns else b[r + 1]
            _merge_pair(src, dst, b[r], b[r + 1], hi, gbits, codes, xyz, rest)
            nb[k] = b[r]
            k += 1
        nb[k] = b[nruns]
        b = nb[:k + 1]
        nruns = k
        src, dst = dst, src
    for q in range(seg.shape[0]):
        seg[q] = src[q]


@njit(parallel=True, cache=True, nogil=True)
def merge_canonical(perm, run_bounds, run_first, gbits, codes, xyz, rest):
    """For every segment j, merge its runs into one canonical sequence.

    Segment j's run boundaries are run_bounds[run_first[j]:run_first[j+1]]
    (start of each run, then the segment's end); each run is already in
    canonical order, e.g. the points each child gave its parent.
    """
    for j in prange(run_first.shape[0] - 1):
        bounds = run_bounds[run_first[j]:run_first[j + 1]]
        _merge_runs(perm[bounds[0]:bounds[-1]], bounds, gbits, codes, xyz, rest)


@njit(cache=True, nogil=True, inline="always")
def lod_grid(level):
    """(shift, mask, bitmap bytes) of the 128^3 sampling grid of a node at
    ``level`` (coarser only when the fine codes run out)."""
    grid_level = min(level + 7, FINE)
    shift = 3 * (FINE - grid_level)
    mask = (np.int64(1) << (3 * (grid_level - level))) - 1
    return shift, mask, (mask >> 3) + 1


@njit(cache=True, nogil=True, inline="always")
def first_in_cell(bitmap, code, shift, mask):
    """Mark the code's grid cell; True when it was still empty."""
    cell = (code >> shift) & mask
    byte = cell >> 3
    bit = np.uint8(1 << (cell & 7))
    if bitmap[byte] & bit:
        return False
    bitmap[byte] |= bit
    return True


@njit(parallel=True, cache=True, nogil=True)
def sample_parents(codes, pts, child_starts, child_ends, parent_first, parent_last,
                   level, flags, promoted):
    """LOD sampling of the parents at ``level`` from their children.

    Parent p's children are child ranges parent_first[p] .. parent_last[p]-1,
    in Morton order; child c's points are pts[child_starts[c]:child_ends[c]]
    in canonical order.  The parent's cube is cut into a 128^3 grid;
    visiting the children's points in that order, the first point in each
    empty grid cell moves up: flags[q] = 1.  promoted[p] gets the number of
    points that moved up to parent p.
    """
    shift, mask, nbytes = lod_grid(level)
    for p in prange(parent_first.shape[0]):
        bitmap = np.zeros(nbytes, np.uint8)
        count = 0
        for c in range(parent_first[p], parent_last[p]):
            end = child_ends[c]
            for q in range(child_starts[c], end):
                if q + AHEAD < end:
                    prefetch(codes, pts[q + AHEAD])
                if first_in_cell(bitmap, codes[pts[q]], shift, mask):
                    flags[q] = 1
                    count += 1
                else:
                    flags[q] = 0
        promoted[p] = count


@njit(parallel=True, cache=True, nogil=True)
def split_promoted(pts, flags, child_starts, child_ends, parent_first, parent_last,
                   parent_out_start, parent_out, child_keep_end):
    """Move flagged points to their parent, compact the rest in each child.

    Parent p's promoted points go to parent_out[parent_out_start[p]:...] in
    visiting order; child c keeps pts[child_starts[c]:child_keep_end[c]].
    """
    for p in prange(parent_first.shape[0]):
        o = parent_out_start[p]
        for c in range(parent_first[p], parent_last[p]):
            w = child_starts[c]
            for q in range(child_starts[c], child_ends[c]):
                if flags[q]:
                    parent_out[o] = pts[q]
                    o += 1
                else:
                    pts[w] = pts[q]
                    w += 1
            child_keep_end[c] = w

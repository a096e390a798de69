"""Byte-level record kernels: input records -> columns -> output records."""
import numpy as np
from numba import njit, prange

from .prefetch import AHEAD, prefetch
from .point_formats import (COLOR_AT, CORE_AT, CORE_SIZE, GPS_AT, GPS_SIZE, LEGACY_BITS_AT, LEGACY_CLASS_AT,
                            LEGACY_SCAN_ANGLE_AT, REST_CLASS, REST_FLAGS, REST_RETURN, REST_SCAN_ANGLE, RETURN_AT,
                            SCAN_ANGLE_UNIT, XYZ_SIZE)



ASSEMBLE_BLOCK = 2048   # points a thread takes at a time


@njit(parallel=True, cache=True, nogil=True)
def assemble_records(xyz, gps, rest, index, out):
    """out[j] = LAS 1.4 record (format 6/7/8 + extra bytes) of point index[j].

    A node's points may lie anywhere in the columns, so each row read may
    miss the caches: the rows AHEAD points on are prefetched while this one
    is copied, so many misses are in flight at once (0.08 s instead of 0.14
    s for the nodes of 10.5 M points, AMD EPYC, two threads; the touch-first
    loop this replaces had taken it from 0.55 s for a random index to 0.38)."""
    n = index.shape[0]
    tail = rest.shape[1] - CORE_SIZE
    gbytes = gps.view(np.uint8).reshape(gps.shape[0], GPS_SIZE)
    xbytes = xyz.view(np.uint8).reshape(xyz.shape[0], XYZ_SIZE)
    blocks = (n + ASSEMBLE_BLOCK - 1) // ASSEMBLE_BLOCK
    for blk in prange(blocks):
        s = blk * ASSEMBLE_BLOCK
        e = min(n, s + ASSEMBLE_BLOCK)
        for j in range(s, min(e, s + AHEAD)):
            _prefetch_point(xbytes, gbytes, rest, index[j])
        for j in range(s, e):
            if j + AHEAD < e:
                _prefetch_point(xbytes, gbytes, rest, index[j + AHEAD])
            i = index[j]
            for b in range(XYZ_SIZE):
                out[j, b] = xbytes[i, b]
            for b in range(CORE_SIZE):
                out[j, CORE_AT + b] = rest[i, b]
            for b in range(GPS_SIZE):
                out[j, GPS_AT + b] = gbytes[i, b]
            for b in range(tail):
                out[j, COLOR_AT + b] = rest[i, CORE_SIZE + b]


@njit(cache=True, nogil=True, inline="always")
def _prefetch_point(xbytes, gbytes, rest, i):
    """Ask for point i's rows of the three columns (see kernels.prefetch)."""
    prefetch(xbytes, i)
    prefetch(gbytes, i)
    prefetch(rest, i)


STAT_PARTS = 64   # fixed, so the result never depends on the thread count


@njit(parallel=True, cache=True, nogil=True)
def record_stats(records, mins, maxs, by_return, gps_range):
    """Fold LAS 1.4 records (formats 6-8) into running header statistics.

    Bounds of X, Y, Z, points by return number (1-15; 0 counted as 1) and the GPS range
    (NaN skipped), reduced from fixed parts so any thread count agrees.
    """
    n = records.shape[0]
    size = (n + STAT_PARTS - 1) // STAT_PARTS
    lo = np.empty((STAT_PARTS, 3), np.int64)
    hi = np.empty((STAT_PARTS, 3), np.int64)
    ret = np.zeros((STAT_PARTS, 15), np.int64)
    glo = np.full(STAT_PARTS, np.inf)
    ghi = np.full(STAT_PARTS, -np.inf)
    for p in prange(STAT_PARTS):
        word = np.empty(1, np.uint64)   # reinterprets the GPS bytes as a float64
        as_float = word.view(np.float64)
        counts = ret[p]
        x0, x1, y0, y1, z0, z1 = mins[0], maxs[0], mins[1], maxs[1], mins[2], maxs[2]
        g0, g1 = glo[p], ghi[p]
        for i in range(p * size, min(n, (p + 1) * size)):   # the bounds in locals, not stored per point
            row = records[i]
            x = np.int64(np.int32(_u32(row, 0)))
            y = np.int64(np.int32(_u32(row, 4)))
            z = np.int64(np.int32(_u32(row, 8)))
            x0, x1 = min(x0, x), max(x1, x)
            y0, y1 = min(y0, y), max(y1, y)
            z0, z1 = min(z0, z), max(z1, z)
            r = row[RETURN_AT] & 15
            counts[max(r, 1) - 1] += 1   # return number 0 (not valid) counts as 1, as LAS 1.2 headers do
            word[0] = np.uint64(_u32(row, GPS_AT)) | (np.uint64(_u32(row, GPS_AT + 4)) << np.uint64(32))
            g = as_float[0]
            if g < g0:
                g0 = g
            if g > g1:
                g1 = g
        lo[p, 0], lo[p, 1], lo[p, 2], hi[p, 0], hi[p, 1], hi[p, 2] = x0, y0, z0, x1, y1, z1
        glo[p], ghi[p] = g0, g1
    for p in range(STAT_PARTS):
        for a in range(3):
            mins[a] = min(mins[a], lo[p, a])
            maxs[a] = max(maxs[a], hi[p, a])
        for r in range(15):
            by_return[r] += ret[p, r]
        gps_range[0] = min(gps_range[0], glo[p])
        gps_range[1] = max(gps_range[1], ghi[p])


@njit(cache=True, nogil=True, inline="always")
def _u32(row, at):
    return (np.uint32(row[at]) | (np.uint32(row[at + 1]) << 8) | (np.uint32(row[at + 2]) << 16)
            | (np.uint32(row[at + 3]) << 24))


@njit(cache=True, nogil=True, inline="always")
def _copy_bytes(dst, d, src, s, size):
    """dst[d:d + size] = src[s:s + size], eight bytes a step while it can
    (a move of a constant size is one load and one store; byte by byte, a
    size known only at run time is a loop of its own for every record)."""
    b = 0
    while b + 8 <= size:
        for t in range(8):
            dst[d + b + t] = src[s + b + t]
        b += 8
    while b < size:
        dst[d + b] = src[s + b]
        b += 1


@njit(parallel=True, cache=True, nogil=True)
def split_records(src, xyz, gps_bits, rest, gps_at, rest_plan, legacy):
    """Input LAS records -> the store's columns, in one pass.

    xyz: int32 (n, 3) from bytes 0-11; gps_bits: uint64 view of the GPS
    column, from bytes gps_at.. (left alone when gps_at < 0); rest: the byte
    copies of rest_plan (src offset, dst offset, length), then, for point
    formats 0-5, the format-6 return/flags/class/scan-angle bytes.

    The plan of formats 6-10 starts with the 10 bytes from intensity to point
    source ID, which land at rest's start: that copy has its constant size
    here (0.03 s instead of 0.11 s for 10.5 M format-6 records, AMD EPYC, two
    threads, warm memory; benchmarks/results/floor_gap.md, seventh round).
    """
    n = src.shape[0]
    core = 0
    if (not legacy and rest_plan.shape[0] > 0 and rest_plan[0, 0] == CORE_AT and rest_plan[0, 1] == 0
            and rest_plan[0, 2] == CORE_SIZE):
        core = 1
    for i in prange(n):
        row = src[i]
        for a in range(3):
            xyz[i, a] = np.int32(_u32(row, 4 * a))
        if gps_at >= 0:
            gps_bits[i] = np.uint64(_u32(row, gps_at)) | (np.uint64(_u32(row, gps_at + 4)) << np.uint64(32))
        out = rest[i]
        if core:
            for b in range(CORE_SIZE):
                out[b] = row[CORE_AT + b]
        for k in range(core, rest_plan.shape[0]):
            _copy_bytes(out, rest_plan[k, 1], row, rest_plan[k, 0], rest_plan[k, 2])
        if legacy:
            b = row[LEGACY_BITS_AT]
            c = row[LEGACY_CLASS_AT]
            rest[i, REST_RETURN] = (b & 7) | (((b >> 3) & 7) << 4)
            rest[i, REST_FLAGS] = ((c >> 5) & 7) | (((b >> 6) & 1) << 6) | (((b >> 7) & 1) << 7)
            rest[i, REST_CLASS] = c & 31
            angle = np.int16(np.round(np.float64(np.int8(row[LEGACY_SCAN_ANGLE_AT])) / SCAN_ANGLE_UNIT))
            rest[i, REST_SCAN_ANGLE] = np.uint8(angle & 0xFF)
            rest[i, REST_SCAN_ANGLE + 1] = np.uint8((angle >> 8) & 0xFF)

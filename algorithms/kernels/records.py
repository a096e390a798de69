"""Byte-level record kernels: input records -> columns -> output records."""
import numpy as np
from numba import njit, prange



@njit(parallel=True, cache=True, nogil=True)
def assemble_records(xyz, gps, rest, index, out):
    """out[j] = LAS 1.4 record (format 6/7/8 + extra bytes) of point index[j]."""
    n = index.shape[0]
    tail = rest.shape[1] - 10
    gbytes = gps.view(np.uint8).reshape(gps.shape[0], 8)
    xbytes = xyz.view(np.uint8).reshape(xyz.shape[0], 12)
    for j in prange(n):
        i = index[j]
        for b in range(12):
            out[j, b] = xbytes[i, b]
        for b in range(10):
            out[j, 12 + b] = rest[i, b]
        for b in range(8):
            out[j, 22 + b] = gbytes[i, b]
        for b in range(tail):
            out[j, 30 + b] = rest[i, 10 + b]


@njit(cache=True, nogil=True)
def record_stats(xyz, gps, rest, index, mins, maxs, by_return, gps_range):
    """Fold the points index[...] into running header statistics (in place)."""
    for j in range(index.shape[0]):
        i = index[j]
        for a in range(3):
            v = xyz[i, a]
            if v < mins[a]:
                mins[a] = v
            if v > maxs[a]:
                maxs[a] = v
        r = rest[i, 2] & 15
        if r >= 1:
            by_return[r - 1] += 1
        g = gps[i]
        if g < gps_range[0]:
            gps_range[0] = g
        if g > gps_range[1]:
            gps_range[1] = g


@njit(cache=True, nogil=True, inline="always")
def _u32(row, at):
    return (np.uint32(row[at]) | (np.uint32(row[at + 1]) << 8) | (np.uint32(row[at + 2]) << 16)
            | (np.uint32(row[at + 3]) << 24))


@njit(parallel=True, cache=True, nogil=True)
def split_records(src, xyz, gps_bits, rest, gps_at, rest_plan, legacy):
    """Input LAS records -> the store's columns, in one pass.

    xyz: int32 (n, 3) from bytes 0-11; gps_bits: uint64 view of the GPS
    column, from bytes gps_at.. (left alone when gps_at < 0); rest: the byte
    copies of rest_plan (src offset, dst offset, length), then, for point
    formats 0-5, the format-6 return/flags/class/scan-angle bytes.
    """
    n = src.shape[0]
    for i in prange(n):
        row = src[i]
        for a in range(3):
            xyz[i, a] = np.int32(_u32(row, 4 * a))
        if gps_at >= 0:
            gps_bits[i] = np.uint64(_u32(row, gps_at)) | (np.uint64(_u32(row, gps_at + 4)) << np.uint64(32))
        for k in range(rest_plan.shape[0]):
            s = rest_plan[k, 0]
            d = rest_plan[k, 1]
            for b in range(rest_plan[k, 2]):
                rest[i, d + b] = row[s + b]
        if legacy:
            b = row[14]
            c = row[15]
            rest[i, 2] = (b & 7) | (((b >> 3) & 7) << 4)
            rest[i, 3] = ((c >> 5) & 7) | (((b >> 6) & 1) << 6) | (((b >> 7) & 1) << 7)
            rest[i, 4] = c & 31
            angle = np.int16(np.round(np.float64(np.int8(row[16])) / 0.006))
            rest[i, 6] = np.uint8(angle & 0xFF)
            rest[i, 7] = np.uint8((angle >> 8) & 0xFF)

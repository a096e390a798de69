"""Exact running statistics of LAS records, one attribute at a time.

Three kinds of attribute, each folded so the result never depends on how
records are grouped into calls, on the order nodes come in, or on threads:

histogram  values of at most 16 bits (intensity, return bits, class, colour,
           8/16-bit extra bytes): a count per value.  Counts are integers, so
           any order gives the same counts; min, max, sum, sum of squares and
           class counts all follow exactly from them.
wide       32-bit integers (X, Y, Z, 32-bit extra bytes): min, max, sum and the
           sum of squares split in 32-bit halves, all int64 (exact while fewer
           than 2**30 points are folded between two drains; the caller drains).
float      GPS time, float and 64-bit extra bytes: per node, in the node's own
           point order (parts of a node come in order), a compensated
           (Neumaier) sum of the differences to the node's first value and of
           their squares, kept scaled by a power of two so nothing overflows;
           min, max; non-finite values are skipped.  The caller keeps one state
           per node and combines nodes exactly (as fractions) at the end.

Every field is a row of a small int64 spec array: offset, READ_* code.
"""
import math

import numpy as np
from numba import njit

HIST_SIZE = 65536
BLOCK = 2048     # records folded attribute by attribute while they stay in cache
READ_U8 = 0      # a byte; bit fields are taken from its histogram afterwards
READ_I8 = 1      # int8, histogram index (value + 128) & 0xFF
READ_U16 = 2
READ_I16 = 3     # int16, histogram index value + 32768
READ_U32 = 4
READ_I32 = 5
READ_F32 = 6
READ_F64 = 7
READ_U64 = 8
READ_I64 = 9

WIDE_FIELDS = 5      # min, max, sum, sum of squares >> 32, sum of squares & 0xFFFFFFFF
# count, first value, sum, its compensation, sum of squares, its compensation, min, max, scale of the sums
FLOAT_FIELDS = 9
F_COUNT, F_SHIFT, F_SUM, F_SUM_C, F_SQ, F_SQ_C, F_MIN, F_MAX, F_SCALE = range(FLOAT_FIELDS)
DRAIN_POINTS = 1 << 30   # fold at most this many points into ``wide`` before draining it


@njit(cache=True, nogil=True, inline="always")
def _le(records, i, at, size):
    """Little-endian unsigned integer of ``size`` bytes at records[i, at]."""
    v = np.uint64(0)
    for b in range(size):
        v |= np.uint64(records[i, at + b]) << np.uint64(8 * b)
    return v


@njit(cache=True, nogil=True, inline="always")
def read_float(records, i, at, kind):
    """The value of a READ_F32/F64/U64/I64 field as float64."""
    if kind == READ_F64:
        return np.uint64(_le(records, i, at, 8)).view(np.float64)
    if kind == READ_F32:
        return np.float64(np.uint32(_le(records, i, at, 4)).view(np.float32))
    if kind == READ_U64:
        return np.float64(_le(records, i, at, 8))
    return np.float64(np.uint64(_le(records, i, at, 8)).view(np.int64))


@njit(cache=True, nogil=True)
def fold_histograms(records, spec, hist):
    """hist[a, index of value] += 1 for every record, attribute a = spec row
    (offset, READ_U8/I8/U16/I16); rows a block at a time, so the block stays in cache."""
    n = records.shape[0]
    for start in range(0, n, BLOCK):
        stop = min(start + BLOCK, n)
        for a in range(spec.shape[0]):
            at, kind = spec[a, 0], spec[a, 1]
            row = hist[a]
            if kind == READ_U8:
                for i in range(start, stop):
                    row[records[i, at]] += 1
            elif kind == READ_U16:
                for i in range(start, stop):
                    row[np.int64(records[i, at]) | (np.int64(records[i, at + 1]) << 8)] += 1
            elif kind == READ_I8:
                for i in range(start, stop):
                    row[(np.int64(records[i, at]) + 128) & 0xFF] += 1
            else:
                for i in range(start, stop):
                    row[((np.int64(records[i, at]) | (np.int64(records[i, at + 1]) << 8)) + 32768) & 0xFFFF] += 1


@njit(cache=True, nogil=True)
def _fold_wide_field(records, at, signed, start, stop, acc):
    """Fold the 32-bit field at ``at`` of records[start:stop] into acc (see WIDE_FIELDS)."""
    low = np.uint64(0xFFFFFFFF)
    lo, hi, total, sq_hi, sq_lo = acc[0], acc[1], acc[2], acc[3], acc[4]
    for i in range(start, stop):
        u = (np.uint32(records[i, at]) | (np.uint32(records[i, at + 1]) << 8)
             | (np.uint32(records[i, at + 2]) << 16) | (np.uint32(records[i, at + 3]) << 24))
        v = np.int64(np.int32(u)) if signed else np.int64(u)
        lo = min(lo, v)
        hi = max(hi, v)
        total += v
        m = np.uint64(abs(v))
        sq = m * m
        sq_hi += np.int64(sq >> np.uint64(32))
        sq_lo += np.int64(sq & low)
    acc[0], acc[1], acc[2], acc[3], acc[4] = lo, hi, total, sq_hi, sq_lo


@njit(cache=True, nogil=True)
def fold_wide(records, spec, wide):
    """Fold 32-bit integers (spec rows: offset, READ_U32/I32) into wide[a] (see WIDE_FIELDS)."""
    n = records.shape[0]
    for start in range(0, n, BLOCK):
        stop = min(start + BLOCK, n)
        for a in range(spec.shape[0]):
            _fold_wide_field(records, spec[a, 0], spec[a, 1] == READ_I32, start, stop, wide[a])


@njit(cache=True, nogil=True)
def _neumaier(total, comp, x):
    t = total + x
    if abs(total) >= abs(x):
        comp += (total - t) + x
    else:
        comp += (x - t) + total
    return t, comp


@njit(cache=True, nogil=True)
def fold_floats(records, spec, state):
    """Fold float fields (spec rows: offset, READ_F32/F64/U64/I64) into one node's
    state[a] (see FLOAT_FIELDS), continuing in point order from earlier parts.

    The sums are of q = (v - first) / 4 / scale, ``scale`` a power of two that
    grows (rescaling the sums exactly) so |q| <= 1: nothing overflows even for
    values near the float64 limit."""
    for a in range(spec.shape[0]):
        at, kind = spec[a, 0], spec[a, 1]
        s = state[a]
        for i in range(records.shape[0]):
            v = read_float(records, i, at, kind)
            if not np.isfinite(v):
                continue
            if s[F_COUNT] == 0:
                s[F_SHIFT] = v
                s[F_MIN] = v
                s[F_MAX] = v
                s[F_SCALE] = 1.0
            s[F_COUNT] += 1
            d = v * 0.25 - s[F_SHIFT] * 0.25
            if abs(d) > s[F_SCALE]:
                grown = math.ldexp(1.0, math.frexp(abs(d))[1])
                r = s[F_SCALE] / grown
                s[F_SUM] *= r
                s[F_SUM_C] *= r
                s[F_SQ] *= r * r
                s[F_SQ_C] *= r * r
                s[F_SCALE] = grown
            d = d * (1.0 / s[F_SCALE])      # a power of two: exact
            s[F_SUM], s[F_SUM_C] = _neumaier(s[F_SUM], s[F_SUM_C], d)
            s[F_SQ], s[F_SQ_C] = _neumaier(s[F_SQ], s[F_SQ_C], d * d)
            s[F_MIN] = min(s[F_MIN], v)
            s[F_MAX] = max(s[F_MAX], v)


@njit(cache=True, nogil=True)
def fold_nodes(records, bounds, hist_spec, hist, wide_spec, wide, float_spec, states):
    """Whole nodes, one after another (node j is records[bounds[j]:bounds[j+1]],
    from its first point): histograms and wide fields of all, then each node's
    floats into its fresh state states[j].  The same as folding node after
    node, in one call that holds no GIL throughout."""
    fold_histograms(records, hist_spec, hist)
    fold_wide(records, wide_spec, wide)
    for j in range(bounds.shape[0] - 1):
        fold_floats(records[bounds[j]:bounds[j + 1]], float_spec, states[j])


def new_wide(count: int) -> np.ndarray:
    """Empty accumulators for ``count`` wide attributes."""
    wide = np.zeros((count, WIDE_FIELDS), np.int64)
    wide[:, 0] = np.iinfo(np.int64).max
    wide[:, 1] = np.iinfo(np.int64).min
    return wide

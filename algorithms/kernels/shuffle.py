"""Byte transforms that make spilled page columns compress well with lz4.

delta_shuffle: per column, the difference to the previous point (wrapping
unsigned arithmetic, so any bit pattern round-trips), optionally zigzagged so
small negative steps become small numbers, with the bytes split into planes
(all lowest bytes, then all second bytes, ...).  Neighbouring points in a page
are close in space and time, so the high planes are nearly all zeros.
shuffle: only the byte planes, for columns with no order (the rest bytes).
"""
import numpy as np
from numba import njit

_U0 = np.uint64(0)
_U1 = np.uint64(1)
_U8 = np.uint64(8)
_FF = np.uint64(0xFF)
_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)


@njit(cache=True, nogil=True)
def delta_shuffle(values, out, zigzag):
    """values: unsigned (n, m) -> out: uint8 (m * itemsize, n).

    The 4- and 8-byte columns (xyz, GPS) have loops of their own, their
    byte stores unrolled: 2 to 5 times the generic loop's speed."""
    n, m = values.shape
    width = values.itemsize
    if width == 4:
        for c in range(m):
            prev = np.uint32(0)
            r = 4 * c
            for i in range(n):
                x = np.uint32(values[i, c])
                d = np.uint32(x - prev)
                prev = x
                if zigzag:
                    d = np.uint32(np.uint32(d << np.uint32(1)) ^ np.uint32(np.uint32(0) - (d >> np.uint32(31))))
                out[r, i] = np.uint8(d & np.uint32(0xFF))
                out[r + 1, i] = np.uint8((d >> np.uint32(8)) & np.uint32(0xFF))
                out[r + 2, i] = np.uint8((d >> np.uint32(16)) & np.uint32(0xFF))
                out[r + 3, i] = np.uint8(d >> np.uint32(24))
        return
    if width == 8:
        for c in range(m):
            prev = _U0
            r = 8 * c
            for i in range(n):
                x = np.uint64(values[i, c])
                d = np.uint64(x - prev)
                prev = x
                if zigzag:
                    d = np.uint64(np.uint64(d << _U1) ^ np.uint64(_U0 - (d >> np.uint64(63))))
                for b in range(8):
                    out[r + b, i] = np.uint8((d >> np.uint64(8 * b)) & _FF)
        return
    bits = np.uint64(8 * width)
    mask = _ALL >> (np.uint64(64) - bits)
    top = bits - _U1
    for c in range(m):
        prev = _U0
        for i in range(n):
            x = np.uint64(values[i, c])
            d = (x - prev) & mask
            prev = x
            if zigzag:
                d = ((d << _U1) & mask) ^ ((_U0 - (d >> top)) & mask)
            for b in range(width):
                out[c * width + b, i] = np.uint8(d & _FF)
                d >>= _U8


@njit(cache=True, nogil=True)
def undelta_unshuffle(planes, out, zigzag):
    """The inverse of delta_shuffle: planes uint8 (m * itemsize, n) -> out (n, m)."""
    n, m = out.shape
    width = out.itemsize
    if width == 4:
        for c in range(m):
            prev = np.uint32(0)
            r = 4 * c
            for i in range(n):
                d = (np.uint32(planes[r, i]) | (np.uint32(planes[r + 1, i]) << np.uint32(8))
                     | (np.uint32(planes[r + 2, i]) << np.uint32(16)) | (np.uint32(planes[r + 3, i]) << np.uint32(24)))
                if zigzag:
                    d = np.uint32((d >> np.uint32(1)) ^ np.uint32(np.uint32(0) - (d & np.uint32(1))))
                prev = np.uint32(prev + d)
                out[i, c] = prev
        return
    if width == 8:
        for c in range(m):
            prev = _U0
            r = 8 * c
            for i in range(n):
                d = _U0
                for b in range(8):
                    d |= np.uint64(planes[r + b, i]) << np.uint64(8 * b)
                if zigzag:
                    d = np.uint64((d >> _U1) ^ np.uint64(_U0 - (d & _U1)))
                prev = np.uint64(prev + d)
                out[i, c] = prev
        return
    bits = np.uint64(8 * width)
    mask = _ALL >> (np.uint64(64) - bits)
    for c in range(m):
        prev = _U0
        for i in range(n):
            d = _U0
            for b in range(width):
                d |= np.uint64(planes[c * width + b, i]) << np.uint64(8 * b)
            if zigzag:
                d = (d >> _U1) ^ ((_U0 - (d & _U1)) & mask)
            prev = (prev + d) & mask
            out[i, c] = prev


@njit(cache=True, nogil=True)
def shuffle(rows, out):
    """rows uint8 (n, w) -> out uint8 (w, n), plane by plane (each plane written
    in order: 8 times faster than row by row for the 10 rest bytes)."""
    n, w = rows.shape
    for j in range(w):
        for i in range(n):
            out[j, i] = rows[i, j]


@njit(cache=True, nogil=True)
def unshuffle(planes, out):
    """planes uint8 (w, n) -> out uint8 (n, w)."""
    w, n = planes.shape
    for j in range(w):
        for i in range(n):
            out[i, j] = planes[j, i]

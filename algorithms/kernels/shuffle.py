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
_FF = np.uint64(0xFF)
_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)


@njit(cache=True, nogil=True, inline="always")
def _put_bytes(out, r, i, d, count):
    """out[r + b, i] = byte b of d, for the count lowest bytes."""
    for b in range(count):
        out[r + b, i] = np.uint8((d >> np.uint64(8 * b)) & _FF)


@njit(cache=True, nogil=True, inline="always")
def _get_bytes(planes, r, i, count):
    """The value whose count lowest bytes are planes[r + b, i]."""
    d = _U0
    for b in range(count):
        d |= np.uint64(planes[r + b, i]) << np.uint64(8 * b)
    return d


@njit(cache=True, nogil=True)
def delta_shuffle(values, out, zigzag):
    """values: unsigned (n, m) -> out: uint8 (m * itemsize, n).

    The byte stores of 4- and 8-byte columns (xyz, GPS) get a constant
    count, which the compiler unrolls: 2 to 5 times the speed of one loop of
    ``width`` stores."""
    n, m = values.shape
    width = values.itemsize
    bits = np.uint64(8 * width)
    mask = _ALL >> (np.uint64(64) - bits)
    top = bits - _U1
    for c in range(m):
        prev = _U0
        r = c * width
        for i in range(n):
            x = np.uint64(values[i, c])
            d = (x - prev) & mask
            prev = x
            if zigzag:
                d = ((d << _U1) & mask) ^ ((_U0 - (d >> top)) & mask)
            if width == 4:   # a constant count: the stores unrolled
                _put_bytes(out, r, i, d, 4)
            elif width == 8:
                _put_bytes(out, r, i, d, 8)
            else:
                _put_bytes(out, r, i, d, width)


@njit(cache=True, nogil=True)
def undelta_unshuffle(planes, out, zigzag):
    """The inverse of delta_shuffle: planes uint8 (m * itemsize, n) -> out (n, m)."""
    n, m = out.shape
    width = out.itemsize
    bits = np.uint64(8 * width)
    mask = _ALL >> (np.uint64(64) - bits)
    for c in range(m):
        prev = _U0
        r = c * width
        for i in range(n):
            if width == 4:   # a constant count: the loads unrolled
                d = _get_bytes(planes, r, i, 4)
            elif width == 8:
                d = _get_bytes(planes, r, i, 8)
            else:
                d = _get_bytes(planes, r, i, width)
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

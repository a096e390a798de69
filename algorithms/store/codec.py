"""Compression of spilled page columns: numba byte transforms, then lz4.

Chosen by measurement (benchmarks/results/page_codecs.md): on real pages,
delta + zigzag + byte planes for XYZ and GPS, byte planes for the rest, then
lz4 gives about 5x at about 450 MB/s round trip on one core; lz4 is packaged
everywhere (PyPI wheels for every Python, Debian's python3-lz4) and releases
the GIL.  blosc was ~40 % faster at the same ratio, but c-blosc 1 is
superseded by blosc2, which cannot run on Debian 12's numpy.
"""
from __future__ import annotations

import lz4.block
import numpy as np

from ..kernels.shuffle import delta_shuffle, shuffle, undelta_unshuffle, unshuffle


def _unsigned(arr: np.ndarray) -> np.ndarray:
    """(n, m) unsigned view of a column: xyz -> uint32 (n, 3), gps -> uint64 (n, 1)."""
    return arr.view(np.dtype(f"u{arr.dtype.itemsize}")).reshape(arr.shape[0], -1)


def compress(arr: np.ndarray, delta: bool) -> bytes:
    """A column (n, ...) -> compressed bytes; ``delta`` for ordered numbers."""
    n = arr.shape[0]
    if n == 0:
        return b""
    arr = np.ascontiguousarray(arr)
    if delta:
        values = _unsigned(arr)
        planes = np.empty((values.shape[1] * values.itemsize, n), np.uint8)
        delta_shuffle(values, planes, arr.dtype.kind == "i")
    else:
        rows = arr.view(np.uint8).reshape(n, -1)
        planes = np.empty((rows.shape[1], n), np.uint8)
        shuffle(rows, planes)
    return lz4.block.compress(planes, store_size=False)


def decompress_into(blob: bytes, out: np.ndarray, delta: bool) -> None:
    """Fill ``out`` (n, ...) from compress(..., delta)."""
    n = out.shape[0]
    if n == 0:
        return
    planes = np.frombuffer(lz4.block.decompress(blob, uncompressed_size=out.nbytes), np.uint8)
    planes = planes.reshape(-1, n)
    if delta:
        undelta_unshuffle(planes, _unsigned(out), out.dtype.kind == "i")
    else:
        unshuffle(planes, out.view(np.uint8).reshape(n, -1))

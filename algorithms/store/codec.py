"""Compression of spilled page columns.

Columns are byte-shuffled first (all first bytes of every value, then all
second bytes, ...): coordinates and GPS times of nearby points share their
high bytes, which then form long runs a fast codec squeezes well.
"""
from __future__ import annotations

import numpy as np

try:  # python-lz4; a dependency, and a Debian package (python3-lz4)
    import lz4.block as _lz4
except ImportError:  # pragma: no cover - exercised only without lz4
    _lz4 = None
import zlib


def _shuffle(arr: np.ndarray) -> bytes:
    n = arr.shape[0]
    raw = np.ascontiguousarray(arr).view(np.uint8).reshape(n, -1)
    return np.ascontiguousarray(raw.T).tobytes()


def _unshuffle(data: bytes, out: np.ndarray) -> None:
    n = out.shape[0]
    width = out.nbytes // n if n else 0
    if n == 0:
        return
    shuffled = np.frombuffer(data, np.uint8).reshape(width, n)
    out.view(np.uint8).reshape(n, width)[:] = shuffled.T


def compress(arr: np.ndarray) -> bytes:
    raw = _shuffle(arr)
    if _lz4 is not None:
        return b"L" + _lz4.compress(raw, store_size=True)
    return b"Z" + zlib.compress(raw, 1)


def decompress_into(blob: bytes, out: np.ndarray) -> None:
    kind, body = blob[:1], blob[1:]
    raw = _lz4.decompress(body) if kind == b"L" else zlib.decompress(body)
    _unshuffle(raw, out)

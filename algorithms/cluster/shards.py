"""Shard files: the points of many buckets in one file of the shared work
folder, with an index of segments that the task returns to the client.

Over a shared file system (a scheduler's cluster) the columns are packed as
the store spills pages (store/codec.py: byte planes and lz4, about 6 times
smaller); on one machine (``--workers``) they are written raw, since the
page cache is faster than packing them.  A shard is written under a
temporary name and renamed when complete, so a task that Dask runs again
(its worker died) leaves the same file.
"""
from __future__ import annotations

import os
import uuid
from typing import Dict, List, Optional, Tuple

import numpy as np

from ..common.errors import ClusterError
from ..common.temp_files import remove_quietly
from ..points.columns import Columns
from ..store import codec

# Where one segment's points are: (path, offset, points, (xyz, gps, rest) byte sizes, packed)
Piece = Tuple[str, int, int, Tuple[int, int, int], bool]


def _bytes(arr: np.ndarray) -> memoryview:
    return memoryview(np.ascontiguousarray(arr)).cast("B")


def temporary_name(path: str) -> str:
    """Where a task writes ``path`` before renaming it: its own name, so a
    second run of the task (or a worker Dask thought dead) never shares it."""
    return f"{path}.{os.getpid()}-{uuid.uuid4().hex[:8]}.part"


class ShardWriter:
    """Appends buckets' points to one shard file; ``finish`` renames it into place."""

    def __init__(self, path: str, packed: bool = True):
        self.path = path
        self.packed = packed
        self.temp = temporary_name(path)
        try:
            self.file = open(self.temp, "wb")
        except OSError as exc:
            raise ClusterError(f"cannot write {self.temp} in the shared work folder ({exc.strerror})") from None
        self.index: Dict[int, List[Piece]] = {}
        self.offset = 0

    def add(self, key: int, cols: Columns) -> None:
        if not len(cols):
            return
        if self.packed:
            blobs = (codec.compress(cols.xyz, True), codec.compress(cols.gps, True),
                     codec.compress(cols.rest, False))
        else:
            blobs = (_bytes(cols.xyz), _bytes(cols.gps), _bytes(cols.rest))
        try:
            for blob in blobs:
                self.file.write(blob)
        except OSError as exc:
            raise ClusterError(f"cannot write {self.temp} in the shared work folder ({exc.strerror})") from None
        sizes = tuple(len(b) for b in blobs)
        self.index.setdefault(int(key), []).append((self.path, self.offset, len(cols), sizes, self.packed))
        self.offset += sum(sizes)

    def add_segments(self, keys: List[int], bounds: np.ndarray, cols: Columns) -> None:
        for k, key in enumerate(keys):
            self.add(key, cols.slice(int(bounds[k]), int(bounds[k + 1])))

    def finish(self) -> Dict[int, List[Piece]]:
        self.file.close()
        os.replace(self.temp, self.path)
        return self.index

    def abort(self) -> None:
        self.file.close()
        remove_quietly(self.temp)


def _read_piece(fd: int, piece: Piece, view: Columns) -> None:
    path, offset, count, sizes, packed = piece
    if not packed:   # straight into the columns
        buffers = [memoryview(a).cast("B") for a in view]
        if os.preadv(fd, buffers, offset) != sum(sizes):
            raise ClusterError(f"{path} ends early: a shard of the shared work folder was cut short")
        return
    blob = os.pread(fd, sum(sizes), offset)
    if len(blob) != sum(sizes):
        raise ClusterError(f"{path} ends early: a shard of the shared work folder was cut short")
    a, b = sizes[0], sizes[0] + sizes[1]
    codec.decompress_into(blob[:a], view.xyz, True)
    codec.decompress_into(blob[a:b], view.gps, True)
    codec.decompress_into(blob[b:], view.rest, False)


def load_pieces(pieces: List[Piece], rest_size: int, out: Optional[Columns] = None) -> Columns:
    """The points of these segments, in the order given, in one set of
    columns (``out`` when given, as long as the pieces)."""
    total = sum(p[2] for p in pieces)
    out = Columns.empty(rest_size, total) if out is None else out
    at = 0
    handles: Dict[str, int] = {}
    try:
        for piece in pieces:
            fd = handles.get(piece[0])
            if fd is None:
                fd = handles[piece[0]] = os.open(piece[0], os.O_RDONLY)
            _read_piece(fd, piece, out.slice(at, at + piece[2]))
            at += piece[2]
    except OSError as exc:
        raise ClusterError(f"cannot read a shard of the shared work folder ({exc.filename}: "
                           f"{exc.strerror})") from None
    finally:
        for fd in handles.values():
            os.close(fd)
    return out

"""``RangeFile``: a read-only, seekable file object over a remote object's
byte ranges, for laspy, lazrs and ``CopcFile``, which read file objects.

Reads are what the readers ask for, each byte fetched about once:

- a small read (a header, a VLR, a chunk table) fetches the aligned
  32 KiB block(s) around it into a small process-wide cache, so the next
  small reads, and a file opened again (a LAS file is opened to scan its
  header and again to read its points), cost nothing;
- a large read (LAZ chunks) takes what the cache holds and fetches the rest
  exactly, cut into ``part_size`` pieces fetched side by side, at most
  ``max_concurrency`` requests in flight for the process.

Nothing is ever downloaded whole, to memory or to disk.
"""
from __future__ import annotations

import io
import os
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import Optional

from ..common.errors import CopcBuilderError
from .transfers import Transfers

BLOCK = 32 << 10
CACHE_BYTES = 8 << 20


class BlockCache:
    """Least recently used blocks of remote objects, keyed by (URL, version, block)."""

    def __init__(self, capacity: int = CACHE_BYTES):
        self.capacity = capacity
        self._blocks: "OrderedDict[tuple, bytes]" = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Optional[bytes]:
        with self._lock:
            data = self._blocks.get(key)
            if data is not None:
                self._blocks.move_to_end(key)
            return data

    def put(self, key: tuple, data: bytes) -> None:
        with self._lock:
            if key in self._blocks:
                return
            self._blocks[key] = data
            self._bytes += len(data)
            while self._bytes > self.capacity and len(self._blocks) > 1:
                _, old = self._blocks.popitem(last=False)
                self._bytes -= len(old)

    def clear(self) -> None:
        with self._lock:
            self._blocks.clear()
            self._bytes = 0


BLOCKS = BlockCache()
_POOLS: dict = {}
_POOLS_LOCK = threading.Lock()


def _pool(workers: int) -> ThreadPoolExecutor:
    """The process's threads for pieces of large reads (the bound on requests in flight)."""
    key = (os.getpid(), workers)
    with _POOLS_LOCK:
        pool = _POOLS.get(key)
        if pool is None:
            pool = _POOLS[key] = ThreadPoolExecutor(workers, thread_name_prefix="copc_builder-range")
        return pool


class RangeFile(io.RawIOBase):
    """A remote object (``S3Object`` or ``HttpObject``) as a file object."""

    def __init__(self, obj, cache: BlockCache = BLOCKS):
        super().__init__()
        self.obj = obj
        self.size = obj.size
        self.name = obj.location.shown
        self.transfers = Transfers()     # what this file fetched (cache hits are free)
        self._cache = cache
        self._pos = 0
        self.failure: Optional[CopcBuilderError] = None

    def __repr__(self) -> str:
        return f"RangeFile({self.name!r})"

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise ValueError(f"negative seek position {base + offset}")
        self._pos = base + offset
        return self._pos

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        n = max(0, min(len(view), self.size - self._pos))
        if n:
            self.fill(self._pos, view[:n])
        self._pos += n
        return n

    def read_at(self, offset: int, size: int) -> bytes:
        """``size`` bytes at ``offset`` (fewer at the end of the object)."""
        out = bytearray(max(0, min(size, self.size - offset)))
        if out:
            self.fill(offset, memoryview(out))
        return bytes(out)

    # -- fetching -----------------------------------------------------------

    def fill(self, start: int, view: memoryview) -> None:
        """``view`` filled with the bytes at ``start``.  A failure is also
        kept in ``failure``: native readers (lazrs) turn the exceptions of the
        file objects they read into their own, and the caller wants ours."""
        try:
            self._fill(start, view)
        except CopcBuilderError as exc:
            self.failure = exc
            raise

    def _fill(self, start: int, view: memoryview) -> None:
        end = start + len(view)
        if len(view) <= BLOCK:
            for index in range(start // BLOCK, (end - 1) // BLOCK + 1):
                self._copy(self._block(index), index * BLOCK, start, view)
            return
        gap = None     # start of a run of blocks the cache does not hold
        for index in range(start // BLOCK, (end - 1) // BLOCK + 1):
            block = self._cache.get(self._key(index))
            if block is None:
                gap = max(index * BLOCK, start) if gap is None else gap
                continue
            if gap is not None:
                self._fetch(gap, index * BLOCK, view[gap - start:index * BLOCK - start])
                gap = None
            self._copy(block, index * BLOCK, start, view)
        if gap is not None:
            self._fetch(gap, end, view[gap - start:])

    def _key(self, index: int) -> tuple:
        return (self.name, self.obj.version, index)

    def _block(self, index: int) -> bytes:
        block = self._cache.get(self._key(index))
        if block is None:
            block = self.obj.read_range(index * BLOCK, min(self.size, (index + 1) * BLOCK), self.transfers)
            self._cache.put(self._key(index), block)
        return block

    @staticmethod
    def _copy(block: bytes, block_start: int, start: int, view: memoryview) -> None:
        lo = max(block_start, start)
        hi = min(block_start + len(block), start + len(view))
        if hi > lo:
            view[lo - start:hi - start] = block[lo - block_start:hi - block_start]

    def _fetch(self, start: int, end: int, view: memoryview) -> None:
        """Bytes [start, end) into ``view``: pieces of ``part_size`` side by side."""
        options = self.obj.options
        step = options.part_size
        pieces = [(a, min(a + step, end)) for a in range(start, end, step)]

        def one(piece):
            a, b = piece
            view[a - start:b - start] = self.obj.read_range(a, b, self.transfers)

        if len(pieces) == 1:
            one(pieces[0])
            return
        for future in [_pool(options.max_concurrency).submit(one, p) for p in pieces]:
            future.result()

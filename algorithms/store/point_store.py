"""PointStore: points of many nodes in shared columnar pages, keyed by node key.

- A node is found through its key; its handle lists extents (page, start,
  count) in append order, so reading a node gives its points in the order
  they were appended.
- Pages hold the extents of many nodes.  A memory budget bounds the resident
  pages; beyond it, least recently used pages spill (compressed) to one temp
  file.  Handles stay valid whether their pages are loaded or spilled.
- The pages spilled at once, and the spilled pages a drain meets next, have
  their columns coded on every kernel thread (common.threads.map_in_threads:
  lz4 and the codec's kernels release the GIL); the file and the points are
  the same whatever the thread count.
- Sparse resident pages can be compacted: their live extents move to a new
  page and the handles are updated in place.
"""
from __future__ import annotations

import itertools
from typing import Collection, Dict, Iterator, List, Optional, Tuple

import numpy as np

from . import codec
from ..common.threads import kernel_threads, map_in_threads
from ..points.columns import Columns
from .page import Page
from .spill_file import SpillFile

DEFAULT_PAGE_POINTS = 1 << 16
PREFETCH_PAGES = 8   # spilled pages a drain loads at once (their columns decoded in parallel),
                     # at most a quarter of the budget
COLUMNS = ("xyz", "gps", "rest")
DELTA = {"xyz": True, "gps": True, "rest": False}   # codec: delta-coded columns (ordered numbers)


class Extent:
    __slots__ = ("page", "start", "count")

    def __init__(self, page: Page, start: int, count: int):
        self.page = page
        self.start = start
        self.count = count


class NodeHandle:
    __slots__ = ("key", "extents", "count")

    def __init__(self, key: int):
        self.key = key
        self.extents: List[Extent] = []
        self.count = 0

    @property
    def state(self) -> str:
        """'loaded', 'spilled' or 'mixed': where this node's points are now."""
        resident = {e.page.resident for e in self.extents}
        if resident == {True}:
            return "loaded"
        if resident == {False}:
            return "spilled"
        return "mixed" if resident else "loaded"


class PointStore:
    def __init__(self, rest_size: int, budget: int, folder: Optional[str] = None,
                 page_points: Optional[int] = None):
        self.rest_size = rest_size
        self.budget = budget
        self.folder = folder
        self.page_points = page_points or DEFAULT_PAGE_POINTS
        self._nodes: Dict[int, NodeHandle] = {}
        self._pages: Dict[int, Page] = {}
        self._by_page: Dict[int, List[Tuple[NodeHandle, Extent]]] = {}
        self._open: Optional[Page] = None
        self._claimed: Dict[int, Page] = {}   # node -> its own page (claim_page)
        self._ids = itertools.count()
        self._clock = itertools.count()
        self._spill: Optional[SpillFile] = None
        self.resident_bytes = 0
        self.peak_resident = 0
        self.spilled_pages = 0
        self.loaded_pages = 0

    # -- queries ---------------------------------------------------------------
    def __contains__(self, key: int) -> bool:
        return key in self._nodes

    def count(self, key: int) -> int:
        h = self._nodes.get(key)
        return h.count if h else 0

    def keys(self) -> List[int]:
        return sorted(self._nodes)

    def handle(self, key: int) -> NodeHandle:
        return self._nodes[key]

    @property
    def total_points(self) -> int:
        return sum(h.count for h in self._nodes.values())

    @property
    def temp_bytes_peak(self) -> int:
        return self._spill.peak if self._spill else 0

    # -- writing ---------------------------------------------------------------
    def append(self, key: int, cols: Columns, a: int = 0, b: Optional[int] = None,
               enforce: bool = True) -> None:
        """Append cols[a:b] to node ``key`` (created when new); with
        ``enforce`` False the budget is left to the caller."""
        b = len(cols) if b is None else b
        if b <= a:
            return
        handle = self._nodes.get(key)
        if handle is None:
            handle = self._nodes[key] = NodeHandle(key)
        while a < b:
            page = self._open
            if page is None or page.room == 0:
                page = self._open = self._new_page()
            n = min(page.room, b - a)
            start = page.write(cols, a, a + n)
            page.last_use = next(self._clock)
            last = handle.extents[-1] if handle.extents else None
            if last is not None and last.page is page and last.start + last.count == start:
                last.count += n
            else:
                ext = Extent(page, start, n)
                handle.extents.append(ext)
                self._by_page[page.id].append((handle, ext))
            handle.count += n
            a += n
        if enforce:
            self._enforce_budget()

    def claim(self, key: int, n: int) -> Optional[Columns]:
        """Zeroed room for n more points of ``key`` in its own page (see
        claim_page), to be written in place; None when the page is full.

        A node whose points all went into its own page is handed over by
        ``take`` without a copy.
        """
        page = self._claimed.get(key)
        if page is None or page.room < n:
            return None
        view = page.claim(n)
        handle = self._nodes.setdefault(key, NodeHandle(key))
        if handle.extents and handle.extents[-1].page is page:
            handle.extents[-1].count += n
        else:
            ext = Extent(page, page.fill - n, n)
            handle.extents.append(ext)
            self._by_page[page.id].append((handle, ext))
        handle.count += n
        return view

    def claim_page(self, key: int, capacity: int) -> None:
        """Give ``key`` its own page of ``capacity`` points for claim()."""
        page = self._new_page(capacity, zeroed=True)
        self._claimed[key] = page

    def append_segments(self, keys, bounds, cols: Columns) -> None:
        """Append cols[bounds[i]:bounds[i+1]] to keys[i] for every i, then
        keep the budget: the pages to spill go together, their columns
        compressed in parallel (the segments are in memory anyway)."""
        for i, key in enumerate(keys):
            self.append(int(key), cols, int(bounds[i]), int(bounds[i + 1]), enforce=False)
        self._enforce_budget()

    # -- reading ---------------------------------------------------------------
    def take(self, key: int) -> Columns:
        """All points of ``key`` (in append order); the node leaves the store."""
        handle = self._nodes.get(key)
        claimed = self._claimed.pop(key, None)
        if handle is None:
            if claimed is not None and claimed.fill == 0:
                self._free_page(claimed)   # claimed, never written
            return Columns.empty(self.rest_size)
        if len(handle.extents) == 1:
            ext = handle.extents[0]
            page = ext.page
            if page.resident and ext.start == 0 and ext.count == page.fill == page.live and \
                    page is not self._open:
                # The node fills its page alone: hand its arrays over.
                out = page.view(0, ext.count)
                del self._nodes[key]
                self._by_page[page.id].remove((handle, ext))
                page.live = 0
                self._free_page(page)
                return out
        out = Columns.empty(self.rest_size, handle.count)
        pos = 0
        for part in self.drain(key, copy=False):
            n = len(part)
            out.xyz[pos:pos + n] = part.xyz
            out.gps[pos:pos + n] = part.gps
            out.rest[pos:pos + n] = part.rest
            pos += n
        return out

    def drain(self, key: int, copy: bool = True) -> Iterator[Columns]:
        """Yield the node's points extent by extent, freeing each as it goes.

        With copy=False the parts are views, valid only until the next step.
        """
        handle = self._nodes.pop(key, None)
        if handle is None:
            return
        extents, handle.extents, handle.count = handle.extents, [], 0
        for ext in extents:   # detached: compaction must not move them meanwhile
            self._by_page[ext.page.id].remove((handle, ext))
        for i, ext in enumerate(extents):
            page = ext.page
            if not page.resident:
                ahead = max(1, min(PREFETCH_PAGES, self.budget // (4 * page.nbytes)))
                spilled = {id(e.page): e.page for e in extents[i:i + ahead] if not e.page.resident}
                self._load_pages(list(spilled.values()))
            page.last_use = next(self._clock)
            part = page.view(ext.start, ext.count)
            if copy:
                part = Columns(part.xyz.copy(), part.gps.copy(), part.rest.copy())
            yield part
            page.live -= ext.count
            if page.live == 0 and page is not self._open:
                self._free_page(page)

    # -- memory ----------------------------------------------------------------
    def set_budget(self, budget: int) -> None:
        self.budget = max(0, int(budget))
        self._enforce_budget()

    def compact(self) -> int:
        """Move live extents out of sparse dirty resident pages; returns pages freed."""
        sparse = [p for p in self._pages.values()
                  if p.resident and p is not self._open and p.dirty and p.live * 2 <= p.capacity]
        freed = 0
        for page in sparse:
            for handle, ext in list(self._by_page.get(page.id, ())):
                moved = page.view(ext.start, ext.count)
                moved = Columns(moved.xyz.copy(), moved.gps.copy(), moved.rest.copy())
                self._by_page[page.id].remove((handle, ext))
                page.live -= ext.count
                done = 0
                pieces: List[Extent] = []
                while done < ext.count:
                    target = self._open
                    if target is None or target.room == 0 or target is page:
                        target = self._open = self._new_page()
                    n = min(target.room, ext.count - done)
                    start = target.write(moved, done, done + n)
                    piece = Extent(target, start, n)
                    self._by_page[target.id].append((handle, piece))
                    pieces.append(piece)
                    done += n
                i = handle.extents.index(ext)
                handle.extents[i:i + 1] = pieces
            if page.live == 0:
                self._free_page(page)
                freed += 1
        return freed

    def _enforce_budget(self, keep: Collection[Page] = ()) -> None:
        if self.resident_bytes <= self.budget:
            return
        if self.compact():
            if self.resident_bytes <= self.budget:
                return
        spared = set(map(id, self._claimed.values())) | set(map(id, keep))   # claimed: written in place
        victims = sorted((p for p in self._pages.values() if p.resident and p is not self._open
                          and id(p) not in spared),
                         key=lambda p: p.last_use)
        chosen, resident = [], self.resident_bytes
        for page in victims:   # the least recently used, until the rest fits
            if resident <= self.budget:
                break
            chosen.append(page)
            resident -= page.nbytes
        self._spill_pages(chosen)

    def _new_page(self, capacity: int = 0, zeroed: bool = False) -> Page:
        page = Page(next(self._ids), capacity or self.page_points, self.rest_size, zeroed)
        self._pages[page.id] = page
        self._by_page[page.id] = []
        self.resident_bytes += page.nbytes
        self.peak_resident = max(self.peak_resident, self.resident_bytes)
        return page

    def _spill_pages(self, pages: List[Page]) -> None:
        """Drop the pages from memory, writing those with no clean copy on
        disk first: every column of every page compressed in parallel, the
        pages written in order (the same file whatever the thread count)."""
        dirty = [p for p in pages if p.dirty or p.disk is None]
        if dirty:
            if self._spill is None:
                if self.folder is None:
                    raise RuntimeError("PointStore needs a folder to spill pages")
                self._spill = SpillFile(self.folder)
            jobs = [(page, name) for page in dirty for name in COLUMNS]
            blobs = map_in_threads(_compress_column, jobs, kernel_threads())
            k = len(COLUMNS)
            for j, page in enumerate(dirty):
                if page.disk is not None:
                    self._spill.free(page.disk[0], sum(page.disk[1:]))
                parts = blobs[k * j:k * (j + 1)]
                offset = self._spill.write(b"".join(parts))
                page.disk = (offset, *map(len, parts))
                page.dirty = False
                self.spilled_pages += 1
        for page in pages:
            page.drop()
            self.resident_bytes -= page.nbytes

    def _load_pages(self, pages: List[Page]) -> None:
        """Read spilled pages back (their columns decoded in parallel), then keep the budget."""
        jobs = []
        try:
            for page in pages:
                offset, *sizes = page.disk
                data = self._spill.read(offset, sum(sizes))
                page.allocate()
                starts = list(itertools.accumulate(sizes, initial=0))
                jobs += [(page, name, data[s:e]) for name, s, e in zip(COLUMNS, starts[:-1], starts[1:])]
            map_in_threads(_decompress_column, jobs, kernel_threads())
        except BaseException:
            for page in pages:   # still spilled: their disk copies stand
                page.drop()
            raise
        for page in pages:
            page.last_use = next(self._clock)
            page.dirty = False
            self.loaded_pages += 1
            self.resident_bytes += page.nbytes
        self.peak_resident = max(self.peak_resident, self.resident_bytes)
        self._enforce_budget(keep=pages)

    def _free_page(self, page: Page) -> None:
        if page.resident:
            self.resident_bytes -= page.nbytes
        page.drop()
        if page.disk is not None and self._spill is not None:
            self._spill.free(page.disk[0], sum(page.disk[1:]))
            page.disk = None
        self._pages.pop(page.id, None)
        self._by_page.pop(page.id, None)

    def close(self) -> None:
        for page in list(self._pages.values()):
            page.drop()
        self._pages.clear()
        self._nodes.clear()
        self._by_page.clear()
        self._open = None
        self.resident_bytes = 0
        if self._spill is not None:
            self._spill.close()
            self._spill = None


def _compress_column(job: Tuple[Page, str]) -> bytes:
    page, name = job
    return codec.compress(getattr(page, name)[:page.fill], DELTA[name])


def _decompress_column(job: Tuple[Page, str, bytes]) -> None:
    page, name, blob = job
    codec.decompress_into(blob, getattr(page, name)[:page.fill], DELTA[name])

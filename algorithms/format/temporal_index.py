"""The COPC Temporal Index Extension (EVLR "copc_temporal", 1000), 360-geo's
draft 2 (github.com/360-geo/copc, copc-temporal/docs/temporal-index-spec.md).

The EVLR data is a 32-byte header, then pages.  A page is a run of entries:
a node entry (VoxelKey, sample count >= 1, that many float64 GPS times) or a
page pointer (VoxelKey, sample count 0, absolute offset and size of a child
page, and the exact GPS time range of the pointer's whole subtree).  A node's
samples are the GPS times of its points 0, S, 2S, ... and N-1 (S the stride),
its points being sorted by GPS time.

The spec's header table disagrees with its own C struct; the struct is the
layout (offsets 0, 4, 8, 12, 16, 24, 28), as 360-geo's reader and
copc_converter read and write it.

Pages written here: the root page holds the node entries of levels 0..D and
one pointer per level-D node that has deeper nodes, D the deepest level for
which the page stays within ROOT_PAGE_BUDGET; each child page does the same
for its subtree within PAGE_BUDGET (at least one level per page).  Entries
are in breadth-first VoxelKey order (level, x, y, z; a node's entry before
the pointer of the same key), pages in depth-first order right after the
header, so a reader may also scan them in sequence.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Tuple, Union

import numpy as np

from .node_key import NodeKey, key_level, key_xyz

TEMPORAL_VERSION = 1
TEMPORAL_HEADER_SIZE = 32
NODE_ENTRY_HEAD = 20          # key (16) + sample count (4), then the samples
PAGE_POINTER_SIZE = 48
ROOT_PAGE_BUDGET = 16 << 10   # the spec: root page under 16 KB
PAGE_BUDGET = 256 << 10       # the spec: child pages 16-256 KB


@dataclass
class TemporalHeader:
    version: int
    stride: int
    node_count: int
    page_count: int
    root_page_offset: int     # absolute file offset
    root_page_size: int
    reserved: int = 0

    unpacker = struct.Struct("<IIIIQII")
    assert unpacker.size == TEMPORAL_HEADER_SIZE

    @classmethod
    def from_bytes(cls, data: bytes) -> "TemporalHeader":
        if len(data) < TEMPORAL_HEADER_SIZE:
            raise ValueError(f"temporal index is {len(data)} bytes, shorter than its "
                             f"{TEMPORAL_HEADER_SIZE}-byte header")
        return cls(*cls.unpacker.unpack_from(data, 0))

    def to_bytes(self) -> bytes:
        return self.unpacker.pack(self.version, self.stride, self.node_count, self.page_count,
                                  self.root_page_offset, self.root_page_size, self.reserved)


@dataclass
class TemporalNodeEntry:
    key: NodeKey
    samples: np.ndarray       # float64, non-decreasing

    head = struct.Struct("<iiiiI")
    assert head.size == NODE_ENTRY_HEAD

    @property
    def size(self) -> int:
        return NODE_ENTRY_HEAD + 8 * len(self.samples)

    def to_bytes(self) -> bytes:
        k = self.key
        return (self.head.pack(k.level, k.x, k.y, k.z, len(self.samples))
                + np.asarray(self.samples, "<f8").tobytes())


@dataclass
class TemporalPagePointer:
    key: NodeKey
    child_page_offset: int    # absolute file offset
    child_page_size: int
    subtree_time_min: float
    subtree_time_max: float

    unpacker = struct.Struct("<iiiiIQIdd")
    assert unpacker.size == PAGE_POINTER_SIZE
    size = PAGE_POINTER_SIZE

    def to_bytes(self) -> bytes:
        k = self.key
        return self.unpacker.pack(k.level, k.x, k.y, k.z, 0, self.child_page_offset,
                                  self.child_page_size, self.subtree_time_min, self.subtree_time_max)


TemporalEntry = Union[TemporalNodeEntry, TemporalPagePointer]


def parse_temporal_page(raw: bytes) -> List[TemporalEntry]:
    """The entries of one page; ValueError if an entry runs past its end."""
    entries: List[TemporalEntry] = []
    at = 0
    while at < len(raw):
        if at + NODE_ENTRY_HEAD > len(raw):
            raise ValueError(f"entry at byte {at} of a {len(raw)}-byte page is cut off")
        level, x, y, z, count = TemporalNodeEntry.head.unpack_from(raw, at)
        key = NodeKey(level, x, y, z)
        if count == 0:
            if at + PAGE_POINTER_SIZE > len(raw):
                raise ValueError(f"page pointer {key} at byte {at} of a {len(raw)}-byte page is cut off")
            _, _, _, _, _, offset, size, tmin, tmax = TemporalPagePointer.unpacker.unpack_from(raw, at)
            entries.append(TemporalPagePointer(key, offset, size, tmin, tmax))
            at += PAGE_POINTER_SIZE
        else:
            end = at + NODE_ENTRY_HEAD + 8 * count
            if end > len(raw):
                raise ValueError(f"node {key} at byte {at} says {count} samples, more than "
                                 f"the {len(raw)}-byte page holds")
            samples = np.frombuffer(raw, "<f8", count, at + NODE_ENTRY_HEAD).astype(np.float64)
            entries.append(TemporalNodeEntry(key, samples))
            at = end
    return entries


@dataclass
class TemporalPage:
    offset: int
    size: int
    entries: List[TemporalEntry]


def walk_temporal_pages(header: TemporalHeader, read: Callable[[int, int], bytes]) -> List[TemporalPage]:
    """Every page reached from the root page (``read(offset, size)`` gives the
    bytes), the root first; ValueError on a page reached twice."""
    pages: List[TemporalPage] = []
    seen = set()
    todo = [(header.root_page_offset, header.root_page_size)]
    while todo:
        offset, size = todo.pop(0)
        if offset in seen:
            raise ValueError(f"temporal index page at byte {offset} is referenced twice")
        seen.add(offset)
        entries = parse_temporal_page(read(offset, size))
        pages.append(TemporalPage(offset, size, entries))
        todo += [(e.child_page_offset, e.child_page_size) for e in entries
                 if isinstance(e, TemporalPagePointer)]
    return pages


def sample_indices(count: int, stride: int) -> np.ndarray:
    """Indices of a node's sampled points: 0, S, 2S, ... and count-1."""
    idx = np.arange(0, count, stride, dtype=np.int64)
    if count and idx[-1] != count - 1:
        idx = np.append(idx, count - 1)
    return idx


# -- building ------------------------------------------------------------------------


@dataclass
class _Page:
    nodes: List[int]                                   # packed keys of node entries
    pointers: List[Tuple[int, "_Page"]] = field(default_factory=list)
    size: int = 0
    offset: int = 0


class _Planner:
    """Chooses the pages: each holds as many levels as fit its budget."""

    def __init__(self, samples: Dict[int, np.ndarray], root_budget: int, page_budget: int):
        self.keys = np.array(sorted(samples), np.int64)
        self.levels = np.array([key_level(k) for k in self.keys], np.int64)
        self.sizes = np.array([NODE_ENTRY_HEAD + 8 * len(samples[k]) for k in self.keys], np.int64)
        self.root_budget = root_budget
        self.page_budget = page_budget

    def plan(self) -> _Page:
        return self._page(np.arange(len(self.keys)), 0, self.root_budget, True)

    def _groups(self, scope: np.ndarray, depth: int, first: int):
        """(pointer level, the deeper nodes, their ancestors at that level)."""
        deeper = scope[self.levels[scope] > depth]
        at = max(depth, first)
        return at, deeper, self.keys[deeper] >> (3 * (self.levels[deeper] - at))

    def _size(self, scope: np.ndarray, depth: int, first: int) -> int:
        _, _, ancestors = self._groups(scope, depth, first)
        own = scope[self.levels[scope] <= depth]
        return int(self.sizes[own].sum()) + PAGE_POINTER_SIZE * len(np.unique(ancestors))

    def _page(self, scope: np.ndarray, first: int, budget: int, is_root: bool) -> _Page:
        """The page for nodes ``scope`` (indices, all at levels >= first)."""
        deepest = int(self.levels[scope].max())
        lowest = first - 1 if is_root else first   # the root page may hold pointers only
        depth = next((d for d in range(deepest, lowest - 1, -1) if self._size(scope, d, first) <= budget),
                     lowest)
        own = scope[self.levels[scope] <= depth]
        page = _Page(nodes=[int(k) for k in self.keys[own]], size=int(self.sizes[own].sum()))
        _, deeper, ancestors = self._groups(scope, depth, first)
        for anc in np.unique(ancestors):
            child = self._page(deeper[ancestors == anc], depth + 1, self.page_budget, False)
            page.pointers.append((int(anc), child))
        page.size += PAGE_POINTER_SIZE * len(page.pointers)
        return page


def _subtree_ranges(samples: Dict[int, np.ndarray]) -> Dict[int, Tuple[float, float]]:
    """Packed key -> (min, max) GPS time of its whole subtree, for every key
    that is a node or an ancestor of one (NaN times ignored)."""
    keys = np.array(sorted(samples), np.int64)
    levels = np.array([key_level(k) for k in keys], np.int64)
    lo = np.array([samples[k][0] for k in keys], np.float64)
    hi = np.array([samples[k][-1] for k in keys], np.float64)
    out: Dict[int, Tuple[float, float]] = {}
    for level in range(int(levels.max()) + 1 if len(keys) else 0):
        below = levels >= level
        anc = keys[below] >> (3 * (levels[below] - level))
        uniq, inverse = np.unique(anc, return_inverse=True)
        mins = np.full(len(uniq), np.nan)
        maxs = np.full(len(uniq), np.nan)
        np.fmin.at(mins, inverse, lo[below])
        np.fmax.at(maxs, inverse, hi[below])
        out.update({int(k): (float(a), float(b)) for k, a, b in zip(uniq, mins, maxs)})
    return out


def _in_order(page: _Page) -> List[Tuple[int, bool]]:
    """(packed key, is pointer) of a page's entries in breadth-first key order."""
    items = [(k, False) for k in page.nodes] + [(k, True) for k, _ in page.pointers]
    return sorted(items, key=lambda item: (key_xyz(item[0]), item[1]))


def build_temporal_index(samples: Dict[int, np.ndarray], stride: int, data_offset: int,
                         root_budget: int = ROOT_PAGE_BUDGET, page_budget: int = PAGE_BUDGET) -> bytes:
    """The EVLR data: header, then the pages (root first, depth first).

    samples: packed node key -> the node's samples (float64, at least one);
    data_offset: the file offset the EVLR data will start at.
    """
    start = data_offset + TEMPORAL_HEADER_SIZE
    if not samples:
        return TemporalHeader(TEMPORAL_VERSION, stride, 0, 1, start, 0).to_bytes()
    root = _Planner(samples, root_budget, page_budget).plan()
    order: List[_Page] = []
    todo = [root]
    while todo:                       # depth first, children in key order
        page = todo.pop()
        order.append(page)
        todo += [child for _, child in sorted(page.pointers, key=lambda p: key_xyz(p[0]), reverse=True)]
    pos = start
    for page in order:
        page.offset = pos
        pos += page.size
    ranges = _subtree_ranges(samples)
    out = bytearray(TemporalHeader(TEMPORAL_VERSION, stride, len(samples), len(order),
                                   root.offset, root.size).to_bytes())
    for page in order:
        children = dict(page.pointers)
        for key, is_pointer in _in_order(page):
            nk = NodeKey.from_packed(key)
            if is_pointer:
                child = children[key]
                out += TemporalPagePointer(nk, child.offset, child.size, *ranges[key]).to_bytes()
            else:
                out += TemporalNodeEntry(nk, samples[key]).to_bytes()
    assert len(out) == pos - data_offset
    return bytes(out)


__all__ = ["PAGE_BUDGET", "PAGE_POINTER_SIZE", "ROOT_PAGE_BUDGET", "TEMPORAL_HEADER_SIZE",
           "TEMPORAL_VERSION", "TemporalEntry", "TemporalHeader", "TemporalNodeEntry", "TemporalPage",
           "TemporalPagePointer", "build_temporal_index", "parse_temporal_page", "sample_indices",
           "walk_temporal_pages"]

"""The COPC hierarchy (EVLR "copc", 1000): 32-byte entries in pages.

A page lists the nodes of a subtree down to ``page_levels`` levels below its
own root; each node one level deeper that exists becomes a pointer entry
(point count -1) to its own page.  Small trees fit in the root page.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Dict, List, Tuple

from .node_key import ROOT, NodeKey, key_level
from .record_ids import HIERARCHY_ENTRY_SIZE

PAGE_POINTER = -1        # point count of an entry that points to a child page
SINGLE_PAGE_NODES = 4096     # more nodes than this: pages of PAGED_LEVELS levels
PAGED_LEVELS = 6


@dataclass
class HierarchyEntry:
    """One 32-byte entry of a hierarchy page."""

    key: NodeKey
    offset: int
    byte_size: int
    point_count: int        # > 0 points, 0 empty node, -1 pointer to a child page
    page_offset: int = 0    # file offset of the page holding this entry

    unpacker = struct.Struct("<iiiiQii")
    assert unpacker.size == HIERARCHY_ENTRY_SIZE

    @classmethod
    def from_bytes(cls, data: bytes, at: int = 0, page_offset: int = 0) -> "HierarchyEntry":
        level, x, y, z, offset, byte_size, count = cls.unpacker.unpack_from(data, at)
        return cls(NodeKey(level, x, y, z), offset, byte_size, count, page_offset)

    def to_bytes(self) -> bytes:
        k = self.key
        return self.unpacker.pack(k.level, k.x, k.y, k.z, self.offset, self.byte_size, self.point_count)

    @property
    def is_page_pointer(self) -> bool:
        return self.point_count == PAGE_POINTER


def parse_page(raw: bytes, page_offset: int) -> List[HierarchyEntry]:
    """The entries of one page (``len(raw)`` a multiple of 32)."""
    return [HierarchyEntry.from_bytes(raw, at, page_offset) for at in range(0, len(raw), HIERARCHY_ENTRY_SIZE)]


def level_counts(entries: List[HierarchyEntry]) -> Dict[int, Tuple[int, int]]:
    """level -> (nodes, points), over node entries (pointers excluded)."""
    out: Dict[int, List[int]] = {}
    for e in entries:
        if e.is_page_pointer:
            continue
        row = out.setdefault(e.key.level, [0, 0])
        row[0] += 1
        row[1] += max(e.point_count, 0)
    return {level: (n, p) for level, (n, p) in sorted(out.items())}


# packed key -> (offset, byte_size, point_count)
Entries = Dict[int, Tuple[int, int, int]]


def _children(keys) -> Dict[int, List[int]]:
    kids: Dict[int, List[int]] = {}
    for key in keys:
        if key != ROOT:
            kids.setdefault(key >> 3, []).append(key)
    for v in kids.values():
        v.sort()
    return kids


def _page_plan(entries: Entries, page_levels: int) -> List[Tuple[int, List[int], List[int]]]:
    """Each page: its root key, the node keys it lists and the keys it points to."""
    kids = _children(entries)
    pages: List[Tuple[int, List[int], List[int]]] = []

    def collect(root: int) -> None:
        nodes: List[int] = []
        pointers: List[int] = []
        base = key_level(root)
        stack = [root]
        while stack:
            key = stack.pop()
            nodes.append(key)
            for child in kids.get(key, ()):
                if page_levels and key_level(child) - base >= page_levels:
                    pointers.append(child)
                else:
                    stack.append(child)
        nodes.sort()
        pointers.sort()
        pages.append((root, nodes, pointers))
        for child in pointers:
            collect(child)

    collect(ROOT)
    return pages


def build_pages(entries: Entries, start: int, page_levels: int = 0) -> Tuple[bytes, int, int]:
    """Serialize the hierarchy; pages are laid out from file offset ``start``.

    Returns (all page bytes, root page offset, root page size).  With
    page_levels <= 0, one page unless the tree has more than
    SINGLE_PAGE_NODES nodes, in which case pages of PAGED_LEVELS levels.
    """
    if page_levels <= 0:
        page_levels = 0 if len(entries) <= SINGLE_PAGE_NODES else PAGED_LEVELS
    pages = _page_plan(entries, page_levels)
    offsets = {}
    pos = start
    for root, nodes, pointers in pages:
        size = HIERARCHY_ENTRY_SIZE * (len(nodes) + len(pointers))
        offsets[root] = (pos, size)
        pos += size
    out = bytearray()
    for root, nodes, pointers in pages:
        for key in nodes:
            offset, size, count = entries[key]
            out += HierarchyEntry(NodeKey.from_packed(key), offset, size, count).to_bytes()
        for key in pointers:
            offset, size = offsets[key]
            out += HierarchyEntry(NodeKey.from_packed(key), offset, size, PAGE_POINTER).to_bytes()
    root_offset, root_size = offsets[ROOT]
    return bytes(out), root_offset, root_size

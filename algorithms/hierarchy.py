"""COPC hierarchy pages from the written nodes.

A page lists the nodes of a subtree down to ``page_levels`` levels below its
own root; each node one level deeper that exists becomes a pointer entry
(point count -1) to its own page.  Small trees fit in the root page.
"""
from __future__ import annotations

from typing import Dict, List, Tuple

from .copc_file.spec import HIERARCHY_ENTRY_SIZE
from .copc_records import entry_bytes
from .node_key import key_level, key_xyz

# key -> (offset, byte_size, point_count)
Entries = Dict[int, Tuple[int, int, int]]


def _children(keys) -> Dict[int, List[int]]:
    kids: Dict[int, List[int]] = {}
    for key in keys:
        if key != 1:
            kids.setdefault(key >> 3, []).append(key)
    for v in kids.values():
        v.sort()
    return kids


def build_pages(entries: Entries, start: int, page_levels: int = 0, max_single: int = 4096) -> Tuple[bytes, int, int]:
    """Serialize the hierarchy; pages are laid out from file offset ``start``.

    Returns (all page bytes, root page offset, root page size).  With
    page_levels <= 0, one page unless the tree has more than ``max_single``
    nodes, in which case pages of 6 levels are used.
    """
    if page_levels <= 0:
        page_levels = 0 if len(entries) <= max_single else 6
    kids = _children(entries)

    # Each page: its root key and the keys it lists (nodes) and points to.
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

    collect(1)
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
            out += entry_bytes(*key_xyz(key), offset, size, count)
        for key in pointers:
            offset, size = offsets[key]
            out += entry_bytes(*key_xyz(key), offset, size, -1)
    root_offset, root_size = offsets[1]
    return bytes(out), root_offset, root_size

"""Checks of the COPC hierarchy: its EVLR, its pages, and the entries' keys and
byte ranges (hierarchy.*, counts.total).
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

from ..copc_file import (COPC_HIERARCHY_RECORD, COPC_USER, HIERARCHY_ENTRY_SIZE, CopcInfo, HierarchyEntry,
                         NodeKey, level_counts)


class HierarchyChecks:
    """Mixed into ``_Validator``: walks and checks the hierarchy of ``self.f``."""

    def check_hierarchy(self, info: CopcInfo) -> Optional[List[HierarchyEntry]]:
        f, h, rep = self.f, self.h, self.report
        containers = [v for v in f.evlrs if v.is_(COPC_USER, COPC_HIERARCHY_RECORD)]
        if not containers:
            in_vlrs = [v for v in f.vlrs if v.is_(COPC_USER, COPC_HIERARCHY_RECORD)]
            if in_vlrs:
                self.warning("hierarchy.evlr", f"the hierarchy is in a {in_vlrs[0]}, not in an EVLR")
                containers = in_vlrs
            elif self.evlrs_readable:
                self.error("hierarchy.evlr", "no hierarchy EVLR ('copc', 1000)")
        elif len(containers) > 1:
            self.error("hierarchy.evlr", f"{len(containers)} hierarchy EVLRs; there must be exactly one")
        box = containers[0] if containers else None

        pages: List[Tuple[int, int]] = []
        nodes: List[HierarchyEntry] = []
        pointers: List[HierarchyEntry] = []
        seen = set()
        todo = [(info.root_hier_offset, info.root_hier_size, "the info VLR's root page")]
        while todo:
            offset, size, origin = todo.pop(0)
            where = f"hierarchy page at bytes {offset}..{offset + size} (from {origin})"
            if offset in seen:
                self.error("hierarchy.page", f"{where} is reached twice")
                continue
            seen.add(offset)
            if size <= 0 or size % HIERARCHY_ENTRY_SIZE:
                self.error("hierarchy.page", f"{where} has size {size}, not a positive multiple of "
                           f"{HIERARCHY_ENTRY_SIZE}")
                continue
            if offset + size > f.size:
                self.error("hierarchy.page", f"{where} lies past the end of the file ({f.size} bytes)")
                continue
            if box is not None and not (box.data_offset <= offset and offset + size <= box.end):
                self.error("hierarchy.page", f"{where} lies outside the hierarchy EVLR's data "
                           f"(bytes {box.data_offset}..{box.end})")
            pages.append((offset, size))
            for entry in f.read_page(offset, size):
                if entry.point_count == -1:
                    pointers.append(entry)
                    todo.append((entry.offset, entry.byte_size, f"node {entry.key}'s pointer"))
                elif entry.point_count < -1:
                    self.error("hierarchy.entry", f"node {entry.key}: point count {entry.point_count} "
                               "(must be -1, 0 or positive)")
                else:
                    nodes.append(entry)
        rep.pages = len(pages)
        if box is not None and pages:
            unused = box.data_size - sum(size for _, size in pages)
            if unused > 0:
                self.warning("hierarchy.unused", f"{unused} bytes of the hierarchy EVLR are in no "
                             "page reachable from the root page")

        # Keys: in range, unique, with parents; pointers lead to their node.
        valid = []
        by_key: Dict[NodeKey, HierarchyEntry] = {}
        for e in nodes:
            if not e.key.in_range():
                side = 2 ** e.key.level if 0 <= e.key.level < 62 else None
                span = f"0..{side - 1}" if side else "nothing"
                self.error("hierarchy.key", f"node {e.key}: key outside the octree (level must be >= 0, "
                           f"x, y, z in {span} at level {e.key.level})")
                continue
            if e.key in by_key:
                self.error("hierarchy.duplicate", f"node {e.key} has two entries (pages at bytes "
                           f"{by_key[e.key].page_offset} and {e.page_offset})")
                continue
            by_key[e.key] = e
            valid.append(e)
        if NodeKey(0, 0, 0, 0) not in by_key:
            self.error("hierarchy.root", "the hierarchy has no root node 0-0-0-0")
        for e in valid:
            if e.key.level > 0 and e.key.parent() not in by_key:
                self.error("hierarchy.parent", f"node {e.key} has no parent node {e.key.parent()}")
        for p in pointers:
            target = by_key.get(p.key)
            if target is None or target.page_offset != p.offset:
                self.error("hierarchy.pointer", f"node {p.key} points to the page at byte {p.offset}, "
                           "which holds no entry for it")

        # Entries' byte ranges: inside the point data, not overlapping.
        start = h.offset_to_point_data + 8
        stop = self.table_offset if self.table_offset is not None else (
            h.evlr_start if h.evlr_count and h.evlr_start <= f.size else f.size)
        for e in valid:
            if e.point_count == 0:
                if e.offset or e.byte_size:
                    self.warning("hierarchy.entry", f"node {e.key} is empty but has offset {e.offset} "
                                 f"and byte size {e.byte_size} (the spec says 0)")
            elif e.byte_size <= 0:
                self.error("hierarchy.entry", f"node {e.key}: {e.point_count} points in "
                           f"{e.byte_size} bytes")
            elif e.offset + e.byte_size > f.size:
                self.error("hierarchy.byte_range", f"node {e.key}: chunk at bytes {e.offset}.."
                           f"{e.offset + e.byte_size} runs past the end of the file ({f.size} bytes)")
            elif not (start <= e.offset and e.offset + e.byte_size <= stop):
                self.error("hierarchy.byte_range", f"node {e.key}: chunk at bytes {e.offset}.."
                           f"{e.offset + e.byte_size} lies outside the point data (bytes {start}..{stop})")
        chunks = sorted((e for e in valid if e.point_count > 0 and e.byte_size > 0), key=lambda e: e.offset)
        for a, b in zip(chunks, chunks[1:]):
            if a.offset + a.byte_size > b.offset:
                self.error("hierarchy.overlap", f"nodes {a.key} (bytes {a.offset}..{a.offset + a.byte_size}) "
                           f"and {b.key} (bytes {b.offset}..{b.offset + b.byte_size}) overlap")

        rep.nodes = len(valid)
        rep.points = sum(e.point_count for e in valid)
        rep.levels = level_counts(valid)
        rep.depth = max(rep.levels) + 1 if rep.levels else 0
        if rep.points != h.point_count:
            self.error("counts.total", f"the hierarchy's nodes hold {rep.points} points, the header "
                       f"says {h.point_count}")
        return valid

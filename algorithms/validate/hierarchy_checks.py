"""Checks of the COPC hierarchy: its EVLR, its pages, and the entries' keys and
byte ranges (hierarchy.*, counts.total).  The pages are walked once, by
``copc_file.walk_pages``, the walk ``info`` uses too.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional

from ..copc_file import HierarchyCounts, HierarchyPage, PageProblem, walk_pages
from ..format import COPC_HIERARCHY_RECORD, COPC_USER, HIERARCHY_ENTRY_SIZE, HierarchyEntry, NodeKey, Vlr
from .context import ValidationContext


@dataclass
class _Walked:
    """What the walk over the pages found."""

    pages: List[HierarchyPage] = field(default_factory=list)     # the pages read
    nodes: List[HierarchyEntry] = field(default_factory=list)    # point count >= 0
    pointers: List[HierarchyEntry] = field(default_factory=list)  # point count -1


def check_hierarchy(ctx: ValidationContext) -> List[HierarchyEntry]:
    """The node entries with valid, unique keys; fills the report's counts."""
    box = _check_hierarchy_evlr(ctx)
    walked = _check_pages(ctx, box)
    ctx.report.pages = len(walked.pages)
    if box is not None and walked.pages:
        unused = box.data_size - sum(page.size for page in walked.pages)
        if unused > 0:
            ctx.warning("hierarchy.unused", f"{unused} bytes of the hierarchy EVLR are in no "
                        "page reachable from the root page")
    by_key = _check_keys(ctx, walked.nodes)
    valid = list(by_key.values())
    _check_links(ctx, by_key, walked.pointers)
    _check_byte_ranges(ctx, valid)
    _check_overlaps(ctx, valid)
    _count(ctx, valid)
    return valid


def _check_hierarchy_evlr(ctx: ValidationContext) -> Optional[Vlr]:
    """The record that holds the hierarchy pages: one EVLR ('copc', 1000)."""
    f = ctx.file
    containers = [v for v in f.evlrs if v.is_(COPC_USER, COPC_HIERARCHY_RECORD)]
    if not containers:
        in_vlrs = [v for v in f.vlrs if v.is_(COPC_USER, COPC_HIERARCHY_RECORD)]
        if in_vlrs:
            ctx.warning("hierarchy.evlr", f"the hierarchy is in a {in_vlrs[0]}, not in an EVLR")
            containers = in_vlrs
        elif f.evlrs_readable:
            ctx.error("hierarchy.evlr", "no hierarchy EVLR ('copc', 1000)")
    elif len(containers) > 1:
        ctx.error("hierarchy.evlr", f"{len(containers)} hierarchy EVLRs; there must be exactly one")
    return containers[0] if containers else None


def _check_pages(ctx: ValidationContext, box: Optional[Vlr]) -> _Walked:
    """Each page reached from the root page: readable, inside ``box``; each
    entry a node, an empty node or a page pointer."""
    f, info, walked = ctx.file, ctx.info, _Walked()
    for page in walk_pages(f, info.root_hier_offset, info.root_hier_size):
        origin = "the info VLR's root page" if page.pointer is None else f"node {page.pointer.key}'s pointer"
        where = f"hierarchy page at bytes {page.offset}..{page.end} (from {origin})"
        if page.problem is PageProblem.REACHED_TWICE:
            ctx.error("hierarchy.page", f"{where} is reached twice")
        elif page.problem is PageProblem.BAD_SIZE:
            ctx.error("hierarchy.page", f"{where} has size {page.size}, not a positive multiple of "
                      f"{HIERARCHY_ENTRY_SIZE}")
        elif page.problem is PageProblem.PAST_END:
            ctx.error("hierarchy.page", f"{where} lies past the end of the file ({f.size} bytes)")
        if page.problem is not None:
            continue
        if box is not None and not (box.data_offset <= page.offset and page.end <= box.end):
            ctx.error("hierarchy.page", f"{where} lies outside the hierarchy EVLR's data "
                      f"(bytes {box.data_offset}..{box.end})")
        walked.pages.append(page)
        for entry in page.entries:
            if entry.is_page_pointer:
                walked.pointers.append(entry)
            elif entry.point_count < -1:
                ctx.error("hierarchy.entry", f"node {entry.key}: point count {entry.point_count} "
                          "(must be -1, 0 or positive)")
            else:
                walked.nodes.append(entry)
    return walked


def _check_keys(ctx: ValidationContext, nodes: List[HierarchyEntry]) -> Dict[NodeKey, HierarchyEntry]:
    """The entries whose keys are in the octree and seen once, in page order."""
    by_key: Dict[NodeKey, HierarchyEntry] = {}
    for e in nodes:
        if not e.key.in_range():
            side = 2 ** e.key.level if 0 <= e.key.level < 62 else None
            span = f"0..{side - 1}" if side else "nothing"
            ctx.error("hierarchy.key", f"node {e.key}: key outside the octree (level must be >= 0, "
                      f"x, y, z in {span} at level {e.key.level})")
        elif e.key in by_key:
            ctx.error("hierarchy.duplicate", f"node {e.key} has two entries (pages at bytes "
                      f"{by_key[e.key].page_offset} and {e.page_offset})")
        else:
            by_key[e.key] = e
    return by_key


def _check_links(ctx: ValidationContext, by_key: Dict[NodeKey, HierarchyEntry],
                 pointers: List[HierarchyEntry]) -> None:
    """A root; a parent for every other node; each pointer leads to its node."""
    if NodeKey(0, 0, 0, 0) not in by_key:
        ctx.error("hierarchy.root", "the hierarchy has no root node 0-0-0-0")
    for e in by_key.values():
        if e.key.level > 0 and e.key.parent() not in by_key:
            ctx.error("hierarchy.parent", f"node {e.key} has no parent node {e.key.parent()}")
    for p in pointers:
        target = by_key.get(p.key)
        if target is None or target.page_offset != p.offset:
            ctx.error("hierarchy.pointer", f"node {p.key} points to the page at byte {p.offset}, "
                      "which holds no entry for it")


def _check_byte_ranges(ctx: ValidationContext, valid: List[HierarchyEntry]) -> None:
    """Each node's chunk inside the point data (empty nodes: no chunk)."""
    f, h = ctx.file, ctx.header
    start = h.offset_to_point_data + 8
    stop = ctx.table_offset if ctx.table_offset is not None else (
        h.evlr_start if h.evlr_count and h.evlr_start <= f.size else f.size)
    for e in valid:
        if e.point_count == 0:
            if e.offset or e.byte_size:
                ctx.warning("hierarchy.entry", f"node {e.key} is empty but has offset {e.offset} "
                            f"and byte size {e.byte_size} (the spec says 0)")
        elif e.byte_size <= 0:
            ctx.error("hierarchy.entry", f"node {e.key}: {e.point_count} points in "
                      f"{e.byte_size} bytes")
        elif e.offset + e.byte_size > f.size:
            ctx.error("hierarchy.byte_range", f"node {e.key}: chunk at bytes {e.offset}.."
                      f"{e.offset + e.byte_size} runs past the end of the file ({f.size} bytes)")
        elif not (start <= e.offset and e.offset + e.byte_size <= stop):
            ctx.error("hierarchy.byte_range", f"node {e.key}: chunk at bytes {e.offset}.."
                      f"{e.offset + e.byte_size} lies outside the point data (bytes {start}..{stop})")


def _check_overlaps(ctx: ValidationContext, valid: List[HierarchyEntry]) -> None:
    chunks = sorted((e for e in valid if e.point_count > 0 and e.byte_size > 0), key=lambda e: e.offset)
    for a, b in zip(chunks, chunks[1:]):
        if a.offset + a.byte_size > b.offset:
            ctx.error("hierarchy.overlap", f"nodes {a.key} (bytes {a.offset}..{a.offset + a.byte_size}) "
                      f"and {b.key} (bytes {b.offset}..{b.offset + b.byte_size}) overlap")


def _count(ctx: ValidationContext, valid: List[HierarchyEntry]) -> None:
    """The report's counts, and the points they sum to against the header's."""
    rep, counts = ctx.report, HierarchyCounts.of(valid)
    rep.nodes, rep.points, rep.levels, rep.depth = counts.nodes, counts.points, counts.levels, counts.depth
    if rep.points != ctx.header.point_count:
        ctx.error("counts.total", f"the hierarchy's nodes hold {rep.points} points, the header "
                  f"says {ctx.header.point_count}")

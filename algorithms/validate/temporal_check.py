"""Checks of the COPC temporal index EVLR ("copc_temporal", 1000), when a
file has one (format/temporal_index.py has the layout):

    temporal.header   version 1, stride >= 1, reserved 0, counts that match
    temporal.pages    every page readable, none reached twice; a root page over
                      16 KB is a warning (the spec recommends less)
    temporal.nodes    each node with points has exactly one entry, no others
    temporal.samples  as many samples as the stride gives, non-decreasing, and
                      equal to the GPS times of the decoded points 0, S, 2S, ... N-1
    temporal.pointer  a pointer's child page holds only its subtree, and its
                      time range is exactly that of the subtree

Decoding: each node is decoded once more here, one at a time.
"""
from __future__ import annotations

from typing import Callable, Dict, List, Optional

import numpy as np

from ..common.errors import CopcBuilderError
from ..format import (ROOT_PAGE_BUDGET, TEMPORAL_RECORD, TEMPORAL_USER, TEMPORAL_VERSION, HierarchyEntry, NodeKey,
                      TemporalHeader, TemporalNodeEntry, TemporalPagePointer, sample_indices, walk_temporal_pages)

Report = Callable[[str, str], None]   # (check, message)


def read_temporal_index(f, error: Report):
    """(header, pages) of the file's temporal index; None when it has none
    or when it cannot be read (then reported)."""
    found = [v for v in f.evlrs if v.is_(TEMPORAL_USER, TEMPORAL_RECORD)]
    if not found:
        return None
    if len(found) > 1:
        error("temporal.header", f"{len(found)} temporal index EVLRs; one is allowed")
    evlr = found[0]
    try:
        header = TemporalHeader.from_bytes(f.read_at(evlr.data_offset, min(evlr.data_size, 32), "temporal index"))
    except (ValueError, CopcBuilderError) as exc:
        error("temporal.header", getattr(exc, "problem", str(exc)))
        return None
    if header.version != TEMPORAL_VERSION or header.stride < 1:
        error("temporal.header", f"version {header.version}, stride {header.stride}: expected version "
                                 f"{TEMPORAL_VERSION} and a stride of at least 1")
        return None
    try:
        pages = walk_temporal_pages(header, lambda o, s: f.read_at(o, s, "temporal index page"))
    except (ValueError, CopcBuilderError) as exc:
        error("temporal.pages", getattr(exc, "problem", str(exc)))
        return None
    return header, pages


def check_temporal_index(f, laz, entries: List[HierarchyEntry], error: Report, warning: Report,
                         poll: Optional[Callable[[], None]] = None) -> None:
    """Check ``f``'s temporal index (if any) against its hierarchy ``entries``
    and its points (decoded with ``laz``); findings go to ``error`` and
    ``warning``; ``poll()`` is called after each node."""
    found = read_temporal_index(f, error)
    if found is None:
        return
    header, pages = found
    nodes: Dict[NodeKey, np.ndarray] = {}
    for page in pages:
        for e in page.entries:
            if isinstance(e, TemporalNodeEntry):
                if e.key in nodes:
                    error("temporal.nodes", f"node {e.key} has two entries")
                nodes[e.key] = e.samples
    if header.reserved:
        error("temporal.header", f"reserved field is {header.reserved}, not 0")
    if (header.node_count, header.page_count) != (len(nodes), len(pages)):
        error("temporal.header", f"header says {header.node_count} nodes in {header.page_count} pages; "
                                 f"the pages hold {len(nodes)} nodes in {len(pages)} pages")
    if header.root_page_size > ROOT_PAGE_BUDGET:
        warning("temporal.pages", f"root page is {header.root_page_size} bytes, over the "
                                  f"{ROOT_PAGE_BUDGET} the spec recommends")
    with_points = {e.key: e for e in entries if e.point_count > 0}
    for key in sorted(set(with_points) - set(nodes)):
        error("temporal.nodes", f"node {key} has {with_points[key].point_count} points and no entry")
    for key in sorted(set(nodes) - set(with_points)):
        error("temporal.nodes", f"node {key} has an entry but no points in the hierarchy")
    _check_pointers(pages, nodes, error)
    _check_samples(f, laz, header.stride, with_points, nodes, error, poll)


def _in_subtree(key: NodeKey, root: NodeKey) -> bool:
    shift = key.level - root.level
    return shift >= 0 and (key.x >> shift, key.y >> shift, key.z >> shift) == (root.x, root.y, root.z)


def _subtree_ranges(nodes: Dict[NodeKey, np.ndarray]) -> Dict[NodeKey, tuple]:
    """Every node and ancestor -> (min, max) of the samples below it (NaN ignored)."""
    out: Dict[NodeKey, tuple] = {}
    for key, s in nodes.items():
        if not len(s):
            continue
        k = key
        while k.level >= 0:
            lo, hi = out.get(k, (np.nan, np.nan))
            out[k] = (float(np.fmin(lo, s[0])), float(np.fmax(hi, s[-1])))
            k = k.parent()
    return out


def _same(a: float, b: float) -> bool:
    return a == b or (a != a and b != b)


def _check_pointers(pages, nodes: Dict[NodeKey, np.ndarray], error: Report) -> None:
    by_offset = {page.offset: page for page in pages}
    ranges = _subtree_ranges(nodes)
    for page in pages:
        for p in page.entries:
            if not isinstance(p, TemporalPagePointer):
                continue
            child = by_offset[p.child_page_offset]
            stray = [e.key for e in child.entries if not _in_subtree(e.key, p.key)]
            if stray:
                error("temporal.pointer", f"page pointer {p.key}: its page holds {stray[0]}, outside its subtree")
            lo, hi = ranges.get(p.key, (np.nan, np.nan))
            if not (_same(lo, p.subtree_time_min) and _same(hi, p.subtree_time_max)):
                error("temporal.pointer", f"page pointer {p.key}: time range {p.subtree_time_min!r} .. "
                                          f"{p.subtree_time_max!r}, its subtree's is {lo!r} .. {hi!r}")


def _check_samples(f, laz, stride: int, with_points: Dict[NodeKey, HierarchyEntry],
                   nodes: Dict[NodeKey, np.ndarray], error: Report, poll) -> None:
    for key in sorted(set(with_points) & set(nodes), key=lambda k: with_points[k].offset):
        entry, samples = with_points[key], nodes[key]
        idx = sample_indices(entry.point_count, stride)
        if len(samples) != len(idx):
            error("temporal.samples", f"node {key}: {len(samples)} samples; {entry.point_count} points "
                                      f"at stride {stride} give {len(idx)}")
            continue
        if np.any(samples[1:] < samples[:-1]):
            error("temporal.samples", f"node {key}: samples are not in non-decreasing order")
        try:
            points = f.decode_chunk(f.read_chunk(entry), entry.point_count, laz, key)
        except CopcBuilderError:
            continue   # the point checks report chunks that do not decode
        gps = np.ascontiguousarray(points["gps_time"][idx], np.float64)
        if gps.tobytes() != np.ascontiguousarray(samples, np.float64).tobytes():
            bad = int(np.flatnonzero(gps.view(np.uint64) != samples.view(np.uint64))[0])
            error("temporal.samples", f"node {key}: sample {bad} is {samples[bad]!r}, the GPS time of "
                                      f"point {int(idx[bad])} is {gps[bad]!r}")
        if poll is not None:
            poll()

"""Independent, test-side reader of the COPC Temporal Index Extension.

Written from 360-geo's spec (copc-temporal/docs/temporal-index-spec.md,
draft 2) and nothing of copc_builder: an EVLR with user_id "copc_temporal"
and record_id 1000 whose data is

    header (32 bytes, the spec's C struct):
        u32 version, u32 stride, u32 node_count, u32 page_count,
        u64 root_page_offset (absolute), u32 root_page_size, u32 reserved
    pages of entries, each starting with i32 level, x, y, z and u32 sample_count:
        sample_count >= 1: a node entry, then sample_count float64 GPS times
        sample_count == 0: a page pointer, then u64 child_page_offset (absolute),
                           u32 child_page_size, f64 subtree_time_min, f64 subtree_time_max

Pages are followed from the root page through the pointers, as a client
would (spec 8.1), reading only the bytes each names.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Dict, List, Tuple

import numpy as np

Key = Tuple[int, int, int, int]


class TemporalParseError(Exception):
    pass


@dataclass
class Pointer:
    key: Key
    offset: int
    size: int
    tmin: float
    tmax: float


@dataclass
class Page:
    offset: int
    size: int
    depth: int                                           # 0 for the root page
    nodes: List[Key] = field(default_factory=list)
    pointers: List[Pointer] = field(default_factory=list)
    order: List[Tuple[Key, bool]] = field(default_factory=list)   # (key, is pointer) as stored


@dataclass
class TemporalIndex:
    version: int
    stride: int
    node_count: int
    page_count: int
    root_offset: int
    root_size: int
    reserved: int
    data_offset: int
    data_size: int
    pages: List[Page]
    samples: Dict[Key, np.ndarray]


def find_evlr(data: bytes) -> Tuple[int, int]:
    """(data offset, data size) of the temporal index EVLR, from the LAS 1.4 header."""
    (evlr_start,) = struct.unpack_from("<Q", data, 235)
    (evlr_count,) = struct.unpack_from("<I", data, 243)
    at = evlr_start
    for _ in range(evlr_count):
        _, user, record, length = struct.unpack_from("<H16sHQ", data, at)
        if user.rstrip(b"\0") == b"copc_temporal" and record == 1000:
            return at + 60, length
        at += 60 + length
    raise TemporalParseError("no copc_temporal/1000 EVLR")


def _page(data: bytes, offset: int, size: int, depth: int, out: TemporalIndex) -> Page:
    if offset < 0 or offset + size > len(data):
        raise TemporalParseError(f"page at {offset} ({size} bytes) lies outside the file")
    page = Page(offset, size, depth)
    at, end = offset, offset + size
    while at < end:
        level, x, y, z, count = struct.unpack_from("<4iI", data, at)
        key = (level, x, y, z)
        if count == 0:
            if at + 48 > end:
                raise TemporalParseError(f"page pointer {key} runs past its page")
            child, child_size, tmin, tmax = struct.unpack_from("<QIdd", data, at + 20)
            page.pointers.append(Pointer(key, child, child_size, tmin, tmax))
            page.order.append((key, True))
            at += 48
        else:
            if at + 20 + 8 * count > end:
                raise TemporalParseError(f"node {key} runs past its page")
            if key in out.samples:
                raise TemporalParseError(f"node {key} appears twice")
            out.samples[key] = np.frombuffer(data, "<f8", count, at + 20).copy()
            page.nodes.append(key)
            page.order.append((key, False))
            at += 20 + 8 * count
    return page


def parse_temporal(path) -> TemporalIndex:
    data = open(path, "rb").read()
    return parse_temporal_data(data, *find_evlr(data))


def parse_temporal_data(data: bytes, start: int, size: int) -> TemporalIndex:
    """The index whose EVLR data is ``data[start:start + size]``; page offsets
    are offsets in ``data``."""
    if size < 32:
        raise TemporalParseError(f"EVLR holds {size} bytes, less than the 32-byte header")
    head = struct.unpack_from("<IIIIQII", data, start)
    index = TemporalIndex(*head, data_offset=start, data_size=size, pages=[], samples={})
    if index.version != 1:
        raise TemporalParseError(f"version {index.version}, expected 1")
    todo = [(index.root_offset, index.root_size, 0)]
    seen = set()
    while todo:
        offset, page_size, depth = todo.pop(0)
        if offset in seen:
            raise TemporalParseError(f"page at {offset} reached twice")
        seen.add(offset)
        page = _page(data, offset, page_size, depth, index)
        index.pages.append(page)
        todo += [(p.offset, p.size, depth + 1) for p in page.pointers]
    return index


def expected_samples(gps: np.ndarray, stride: int) -> np.ndarray:
    """Spec section 7: the times at indices 0, S, 2S, ... and N-1."""
    n = len(gps)
    picked = sorted(set(range(0, n, stride)) | {n - 1})
    return gps[picked]


def in_subtree(key: Key, root: Key) -> bool:
    level, x, y, z = key
    rl, rx, ry, rz = root
    shift = level - rl
    return shift >= 0 and (x >> shift, y >> shift, z >> shift) == (rx, ry, rz)


def scan_sequential(data: bytes, start: int, node_count: int) -> Dict[Key, np.ndarray]:
    """The node entries read one after another from the end of the header,
    skipping pointers, until ``node_count`` are found: how 360-geo's local
    reader (copc-temporal's TemporalIndex::from_evlrs) reads the index, which
    holds when the pages follow the header without gaps."""
    at = start + 32
    out: Dict[Key, np.ndarray] = {}
    while len(out) < node_count:
        level, x, y, z, count = struct.unpack_from("<4iI", data, at)
        if count == 0:
            at += 48
            continue
        out[(level, x, y, z)] = np.frombuffer(data, "<f8", count, at + 20).copy()
        at += 20 + 8 * count
    return out

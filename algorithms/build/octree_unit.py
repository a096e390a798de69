"""Build one subtree of the octree in memory.

A *unit* is a node whose points (all of its subtree's points) fit in memory.
The whole cloud is one unit when it fits the budget; otherwise the builder
cuts the tree into units and finishes the levels above them itself.

Inside a unit:
1. split nodes over the leaf limit into their 8 children, top-down, until
   every point is in a leaf (kernels.octree.split_nodes, three levels a pass);
2. put each leaf in canonical order (GPS time, then Morton code);
3. bottom-up, level by level: sample each parent from its children on a
   128^3 grid; the children are then final and go to the writer.
The unit's own root is returned to the caller unless it is the octree root.
"""
from __future__ import annotations

from typing import Callable, Dict, Iterator, List, Optional, Tuple

import numpy as np

from ..common.timing import TIMINGS
from ..format.node_key import key_level
from ..kernels.octree import (merge_canonical, sample_parents, sort_canonical,
                              split_big_node, split_nodes, split_promoted, split_root)
from ..points.columns import Columns
from ..points.cube import FINE_LEVEL, Cube

BIG_NODE = 1 << 20   # points from which a node is split by several threads
EMIT_POINTS = 1 << 19   # final nodes go to emit in groups of about this many points (the writer
                        # holds a group's records and index while it compresses them)

# emit(keys, counts, cols, index): final nodes, points cols[index] node after node
Emit = Callable[[List[int], List[int], Columns, np.ndarray], None]


def point_keys(cols: Columns, cube: Cube) -> Tuple[np.ndarray, np.ndarray]:
    """(fine Morton codes, GPS bits) of the points, as the sorting kernels take them."""
    return cube.fine_codes(cols.xyz), gps_bits(cols)


def gps_bits(cols: Columns) -> np.ndarray:
    """The points' GPS times as uint64 bits, no copy: the sorting kernels make
    the GPS sort keys from them as they compare (kernels.octree.gps_key)."""
    return np.ascontiguousarray(cols.gps).view(np.uint64)


def index_dtype(size: int):
    """The dtype of index arrays into ``size`` points: int32 while it can
    hold every index (half the memory of int64), else int64."""
    return np.int32 if size <= np.iinfo(np.int32).max else np.int64


def pool_room(points: int) -> int:
    """Room for promoted points a unit's pool is made with, beside its points.

    Every level's sampled points are appended, so a point can take several
    slots.  Aerial clouds promote 35-45 % of their points in all (42 % for
    lastools_zurich), more than the third this was; growing the pool then
    held the old and the new array at once (+84 MB at 10 M points, the
    build's peak).  Half of the points covers them; a denser cloud still
    grows (``_Pool.reserve``)."""
    return points // 2 + 1024


class _Pool:
    """Index storage: the leaves' points first, then promoted points appended."""

    def __init__(self, perm: np.ndarray, extra: int):
        self.array = np.empty(len(perm) + max(extra, 1024), perm.dtype)
        self.array[:len(perm)] = perm
        self.top = len(perm)

    @classmethod
    def over(cls, perm: np.ndarray) -> "_Pool":
        """A pool on the array ``perm`` is the head of (see ``partition``), no copy."""
        pool = cls.__new__(cls)
        base = perm.base if perm.base is not None else perm
        assert base.dtype == perm.dtype and base.ndim == 1 and base.ctypes.data == perm.ctypes.data
        pool.array, pool.top = base, len(perm)
        return pool

    def reserve(self, n: int) -> int:
        if self.top + n > len(self.array):
            grown = np.empty(max(len(self.array) * 3 // 2, self.top + n), self.array.dtype)
            grown[:self.top] = self.array[:self.top]
            self.array = grown
        start = self.top
        self.top += n
        return start


class _Splitter:
    """Splits a level's nodes into their descendants ``levels`` levels down
    (kernels.octree.cell_bins), reordering perm; the kernels read each
    point's code through perm (no array of the codes in perm's order).  The
    first split of the whole unit writes perm directly (split_root); later big
    nodes share one scratch, allocated at the first of them."""

    def __init__(self, codes: np.ndarray, perm: np.ndarray, limit: int):
        self.codes, self.perm, self.limit = codes, perm, limit
        self.filled = False
        self.scratch = np.empty(0, perm.dtype)
        self.kids = np.empty(0, np.uint16)

    def split(self, split: List[Tuple[int, int, int]], shift: int, levels: int) -> np.ndarray:
        """counts[j, b]: points of node split[j] in bin b (kernels.octree.cell_bins), after the split."""
        counts = np.zeros((len(split), 8 ** levels), np.int64)
        n = len(self.codes)
        if not self.filled:
            self.filled = True
            if len(split) == 1 and split[0][1:] == (0, n) and n >= BIG_NODE:
                split_root(self.codes, shift, levels, self.limit, self.perm, counts[0])
                return counts
            self.perm[:] = np.arange(n, dtype=self.perm.dtype)
        # Few big nodes (the top levels): split each one in parallel; many
        # nodes: one node per thread.
        small = [j for j, (_, s, e) in enumerate(split) if e - s < BIG_NODE]
        big = max((e - s for _, s, e in split if e - s >= BIG_NODE), default=0)
        if big > len(self.scratch):
            self.scratch = np.empty(big, self.perm.dtype)
            self.kids = np.empty(big, np.uint16)
        for j, (_, s, e) in enumerate(split):
            if e - s >= BIG_NODE:
                split_big_node(self.codes, self.perm, s, e, shift, levels, self.limit, counts[j],
                               self.scratch, self.kids)
        if small:
            starts = np.array([split[j][1] for j in small], np.int64)
            ends = np.array([split[j][2] for j in small], np.int64)
            small_counts = np.zeros((len(small), 8 ** levels), np.int64)
            split_nodes(self.codes, self.perm, starts, ends, shift, levels, self.limit, small_counts)
            counts[small] = small_counts
        return counts


PASS_LEVELS = 3   # octree levels a node is split by in one pass over its points


def partition(codes: np.ndarray, root_key: int, leaf_limit: int, max_depth: int, extra: int = 0):
    """Split top-down; returns (perm, leaves {level: [(key, start, end)]}, internal {level: [keys]}).

    Nodes are split PASS_LEVELS levels at a time (one pass over their points
    instead of three: a stretched cube, e.g. in degrees, is twice as deep as
    a metric one).  perm (dtype index_dtype(n + extra)) is the head of an
    array ``extra`` longer (room for a _Pool)."""
    n = len(codes)
    perm = np.empty(n + extra, index_dtype(n + extra))[:n]
    splitter = _Splitter(codes, perm, leaf_limit)
    leaves: Dict[int, List[Tuple[int, int, int]]] = {}
    internal: Dict[int, List[int]] = {}
    level = key_level(root_key)
    work = [(root_key, 0, n)]
    while work:
        split = []
        for key, s, e in work:
            if e - s > leaf_limit and level < max_depth:
                split.append((key, s, e))
            elif e > s:
                leaves.setdefault(level, []).append((key, s, e))
        if not split:
            break
        levels = min(PASS_LEVELS, max_depth - level)
        counts = splitter.split(split, 3 * (FINE_LEVEL - level - levels), levels)
        work = []
        tree = _Descent(leaf_limit, leaves, internal, work)
        for j, (key, s, _) in enumerate(split):
            tree.node(key, level, s, counts[j], levels)
        level += levels
    if not splitter.filled:   # nothing split: perm is the identity
        perm[:] = np.arange(n, dtype=perm.dtype)
    return perm, leaves, internal


class _Descent:
    """Reads one split node's bins (kernels.octree.cell_bins) top-down, in
    Morton order: the nodes between it and the last level are leaves (at
    most leaf_limit points, in one bin) or internal; the last level's nodes
    are the next pass's work."""

    def __init__(self, leaf_limit: int, leaves, internal, work):
        self.leaf_limit, self.leaves, self.internal, self.work = leaf_limit, leaves, internal, work

    def node(self, key: int, level: int, start: int, cells: np.ndarray, levels: int) -> int:
        """Node ``key`` (internal, its points from ``start``) over ``cells``, its
        descendants ``levels`` down; returns where its points end."""
        self.internal.setdefault(level, []).append(key)
        width = len(cells) // 8
        pos = start
        for c in range(8):
            part = cells[c * width:(c + 1) * width]
            total = int(part.sum())
            if not total:
                continue
            child = (key << 3) | c
            if levels == 1:
                self.work.append((child, pos, pos + total))
                pos += total
            elif total <= self.leaf_limit:
                self.leaves.setdefault(level + 1, []).append((child, pos, pos + total))
                pos += total
            else:
                pos = self.node(child, level + 1, pos, part, levels - 1)
        return pos


def lod_step(cols: Columns, codes, gbits, pool: _Pool, cur, parents: List[int], level: int):
    """Sample the parents at ``level`` from their children ``cur``.

    cur: sorted [(key, start, end)] of the children (level + 1) in the pool.
    Returns the children's final points as groups [(keys, counts, index)]
    (final_groups) and the parents as sorted [(key, start, end)], their
    points in canonical order.
    """
    xyz, rest = cols.xyz, cols.rest
    cur_keys = np.array([k for k, _, _ in cur], np.int64)
    c_starts = np.array([s for _, s, _ in cur], np.int64)
    c_ends = np.array([e for _, _, e in cur], np.int64)
    p_keys = np.array(parents, np.int64)
    first = np.searchsorted(cur_keys >> 3, p_keys, side="left").astype(np.int64)
    last = np.searchsorted(cur_keys >> 3, p_keys, side="right").astype(np.int64)
    flags = np.empty(pool.top, np.uint8)   # sample_parents writes every byte split_promoted reads
    promoted = np.zeros(len(parents), np.int64)
    sample_parents(codes, pool.array, c_starts, c_ends, first, last, level, flags, promoted)
    out_start = pool.reserve(int(promoted.sum()))
    p_starts = out_start + np.concatenate(([0], np.cumsum(promoted)[:-1])).astype(np.int64)
    keep_end = np.empty(len(cur), np.int64)
    split_promoted(pool.array, flags, c_starts, c_ends, first, last, p_starts, pool.array, keep_end)
    p_ends = p_starts + promoted
    # Each child gave its parent a run in canonical order: merge the runs.
    given = c_ends - keep_end
    run_bounds, run_first = [], [0]
    for j in range(len(parents)):
        pos = int(p_starts[j])
        run_bounds.append(pos)
        for c in range(first[j], last[j]):
            pos += int(given[c])
            run_bounds.append(pos)
        run_first.append(len(run_bounds))
    merge_canonical(pool.array, np.array(run_bounds, np.int64), np.array(run_first, np.int64),
                    gbits, codes, xyz, rest)
    parents_out = [(int(k), int(s), int(e)) for k, s, e in zip(p_keys, p_starts, p_ends)]
    return final_groups(cur, keep_end, pool.array), parents_out


def final_groups(cur, keep_end, pool: np.ndarray) -> Iterator[Tuple[List[int], List[int], np.ndarray]]:
    """The children's final points as groups (keys, counts, index) of about
    EMIT_POINTS points each, nodes in order.  A group's index is a copy made
    when the group is reached, so only one group's copy is alive at a time
    (use the groups before the pool changes)."""
    keys, counts, parts, size = [], [], [], 0
    for j, (key, s, _) in enumerate(cur):
        e = int(keep_end[j])
        if e <= s:
            continue
        if keys and size + e - s > EMIT_POINTS:
            yield keys, counts, np.concatenate(parts)
            keys, counts, parts, size = [], [], [], 0
        keys.append(key)
        counts.append(e - s)
        parts.append(pool[s:e])
        size += e - s
    if keys:
        yield keys, counts, np.concatenate(parts)


def build_unit(cols: Columns, root_key: int, cube: Cube, leaf_limit: int, emit: Emit,
               root_is_final: bool, check_cancel: Callable[[], None] = lambda: None) -> Optional[Columns]:
    """Build the subtree under root_key from all of its points.

    Nodes strictly below the root (and the root too when root_is_final) are
    handed to ``emit``; otherwise the root's points, in canonical order, are
    returned for the levels above.
    """
    with TIMINGS("build.keys"):
        codes = cube.fine_codes(cols.xyz)
    with TIMINGS("build.partition"):
        perm, leaves, internal = partition(codes, root_key, leaf_limit, cube.max_depth, pool_room(len(codes)))
    check_cancel()
    gbits = gps_bits(cols)

    all_leaves = [leaf for lv in leaves.values() for leaf in lv]
    with TIMINGS("build.sort"):
        sort_canonical(perm, np.array([s for _, s, _ in all_leaves], np.int64),
                       np.array([e for _, _, e in all_leaves], np.int64), gbits, codes, cols.xyz, cols.rest)
    check_cancel()

    pool = _Pool.over(perm)
    del perm
    deepest = max(leaves)
    cur = sorted(leaves.get(deepest, []))
    for level in range(deepest - 1, key_level(root_key) - 1, -1):
        with TIMINGS("build.lod"):
            groups, parents = lod_step(cols, codes, gbits, pool, cur, internal[level], level)
        for keys, counts, index in groups:
            emit(keys, counts, cols, index)
        check_cancel()
        cur = sorted(parents + leaves.get(level, []))
    return _finish_root(cols, pool, cur, root_key, root_is_final, emit)


def merge_children(parent_key: int, children: List[Tuple[int, Columns]], cube: Cube, emit: Emit,
                   root_is_final: bool, rest_size: int) -> Optional[Columns]:
    """One node above the units: sample it from its (already built) children.

    children: [(key, points in canonical order)] in key order.  The children
    are final afterwards and go to ``emit``.
    """
    cols = Columns.concat([c for _, c in children], rest_size)
    codes, gbits = point_keys(cols, cube)
    pool = _Pool(np.arange(len(cols), dtype=index_dtype(len(cols) + 1024)), 0)
    cur, pos = [], 0
    for key, c in children:
        cur.append((key, pos, pos + len(c)))
        pos += len(c)
    groups, parents = lod_step(cols, codes, gbits, pool, cur, [parent_key], key_level(parent_key))
    for keys, counts, index in groups:
        emit(keys, counts, cols, index)
    return _finish_root(cols, pool, parents, parent_key, root_is_final, emit)


def _finish_root(cols, pool, cur, root_key, root_is_final, emit) -> Optional[Columns]:
    assert len(cur) == 1 and cur[0][0] == root_key, "a unit must end at its root"
    _, s, e = cur[0]
    index = pool.array[s:e].copy()
    if root_is_final:
        emit([root_key], [e - s], cols, index)
        return None
    return cols.take(index)

"""Nodes too big for memory: only leaves at the deepest level can be (they
cannot split further, e.g. millions of points on one spot).

Their points are put in canonical order by an external merge sort through
the node store: runs that fit the budget are sorted in memory and stored,
then merged block by block.  The merged stream is identical to what sorting
the whole node in memory would give (canonical order is a total order), so
the bytes do not depend on the budget.
"""
from __future__ import annotations

from typing import Callable, Iterator, List

import numpy as np

from ..kernels.merge import merge_heads
from ..kernels.octree import sort_canonical
from ..points.columns import Columns
from ..points.cube import Cube
from ..store import PointStore
from ..store.keys import run_key
from .octree_unit import index_dtype, point_keys

BLOCK = 1 << 16        # points per merged block


def sort_into_runs(store: PointStore, buckets: List[int], cube: Cube, run_points: int,
                   check_cancel: Callable[[], None]) -> List[int]:
    """Drain the buckets into sorted runs of at most run_points; returns their keys."""
    runs: List[int] = []
    parts: List[Columns] = []
    held = 0

    def flush():
        nonlocal parts, held
        cols = Columns.concat(parts, store.rest_size)
        parts, held = [], 0
        codes, gbits = point_keys(cols, cube)
        perm = np.arange(len(cols), dtype=index_dtype(len(cols)))
        sort_canonical(perm, np.array([0], np.int64), np.array([len(cols)], np.int64), gbits, codes,
                       cols.xyz, cols.rest)
        key = run_key(len(runs))
        store.append(key, cols.take(perm))
        runs.append(key)
        check_cancel()

    for bucket in buckets:
        for part in store.drain(bucket):
            start = 0
            while start < len(part):
                take = min(len(part) - start, run_points - held)
                parts.append(part.slice(start, start + take))
                held += take
                start += take
                if held >= run_points:
                    flush()
    if held:
        flush()
    return runs


def merged(store: PointStore, runs: List[int], cube: Cube) -> Iterator[Columns]:
    """Blocks of the runs' points in canonical order; the runs leave the store."""
    sources = [store.drain(key) for key in runs]
    heads: List[Columns] = [next(s, None) for s in sources]
    heads = [h if h is not None else Columns.empty(store.rest_size) for h in heads]
    more = np.array([True] * len(runs))
    out = np.empty(BLOCK, np.int64)
    while True:
        cols = Columns.concat(heads, store.rest_size) if len(heads) > 1 else heads[0]
        codes, gbits = point_keys(cols, cube)
        ends = np.cumsum([len(h) for h in heads]).astype(np.int64)
        starts = np.concatenate(([0], ends[:-1])).astype(np.int64)
        begin = starts.copy()
        n = merge_heads(starts, ends, more, gbits, codes, cols.xyz, cols.rest, out)
        if n:
            yield cols.take(out[:n])
        if n == 0 and not more.any():
            return
        # Keep what each run has left; load the next block of runs used up.
        for r in range(len(heads)):
            left = heads[r].slice(int(starts[r] - begin[r]), len(heads[r]))
            if len(left) == 0 and more[r]:
                nxt = next(sources[r], None)
                if nxt is None:
                    more[r] = False
                    left = Columns.empty(store.rest_size)
                else:
                    left = nxt
            heads[r] = left

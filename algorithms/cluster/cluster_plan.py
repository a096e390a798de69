"""How a cluster build cuts its work: ranges of the inputs to read, the
bucket level, groups of buckets per task.  None of it changes the output
(the tree does not depend on where the work is cut), only the balance."""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

from ..build.memory_budget import MemoryBudget
from ..format import LazVlr
from ..format.node_key import ROOT
from ..points.cube import Cube

TASKS_PER_WORKER = 4      # read and unit tasks per worker, for balance
BUCKETS_PER_WORKER = 8    # buckets per worker at least, so groups can be balanced


def cluster_level(total: int, unit_points: int, workers: int, cube: Optional[Cube],
                  budget: MemoryBudget) -> int:
    """The bucket level: as deep as the in-process build's, and deep enough
    that every worker has buckets to build (aerial clouds fill about 4**level
    cells); no deeper than the cube can split."""
    level = budget.bucket_level(total, unit_points, cube) if total > unit_points else 0
    spread = 1
    while 4 ** spread < BUCKETS_PER_WORKER * workers:
        spread += 1
    level = min(max(level, spread), budget.max_bucket_level)
    return level if cube is None else min(level, cube.max_depth)


def _laz_chunk(source) -> int:
    """Points per LAZ chunk (ranges start on a chunk), 1 when not chunked."""
    info = source.info
    if not info.compressed or not info.laz_vlr:
        return 1
    size = LazVlr.from_bytes(info.laz_vlr).chunk_size
    return size if 0 < size < 0xFFFFFFFF else 1


def read_ranges(sources, total: int, workers: int, chunk_points: int) -> List[Tuple[int, int, int]]:
    """(source index, first point, end) of every read task: about
    total / (TASKS_PER_WORKER * workers) points each, whole LAZ chunks."""
    target = max(total // (TASKS_PER_WORKER * max(workers, 1)), min(chunk_points, total), 1)
    ranges = []
    for s, source in enumerate(sources):
        count = source.point_count
        chunk = _laz_chunk(source)
        pieces = max(1, round(count / target))
        step = -(-count // pieces)              # even pieces, rounded up to whole LAZ chunks
        step = max(chunk, -(-step // chunk) * chunk)
        for start in range(0, max(count, 1), step):
            ranges.append((s, start, min(start + step, count)))
    return ranges


def plan_units(buckets: Dict[int, list], total: int, unit_points: int, leaf_limit: int, level: int,
               workers: int) -> List[List[Tuple[int, list]]]:
    """Units cut top-down as the in-process builder cuts them (a node whose
    subtree holds at most the target, or at most a leaf's worth, is one unit;
    a bucket is at most one unit), each with the pieces of its buckets;
    then, in key order, groups of about total / (TASKS_PER_WORKER * workers)
    points per task."""
    target = max(1, min(total // (TASKS_PER_WORKER * max(workers, 1)), unit_points))
    counts: Dict[int, int] = {}
    for key, pieces in buckets.items():
        n = sum(p[2] for p in pieces)
        for up in range(level + 1):
            counts[key >> (3 * up)] = counts.get(key >> (3 * up), 0) + n
    units: List[Tuple[int, list]] = []

    def cut(key: int, depth: int) -> None:
        n = counts.get(key, 0)
        if n == 0:
            return
        if n <= max(target, leaf_limit) or depth == level:
            shift = 3 * (level - depth)
            units.append((key, [p for b in sorted(buckets) if b >> shift == key for p in buckets[b]]))
            return
        for child in range(8):
            cut((key << 3) | child, depth + 1)

    cut(ROOT, 0)
    groups: List[List[Tuple[int, list]]] = []
    size = 0
    for key, pieces in units:
        n = counts[key]
        if not groups or size + n > target:
            groups.append([])
            size = 0
        groups[-1].append((key, pieces))
        size += n
    return groups

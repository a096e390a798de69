"""kernels.merge (nodes too big for memory) against Python references: the
k-way merge of canonical runs with its stop rules, and LOD sampling of a
stream of blocks against one parent's grid."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from copc_builder.algorithms.kernels.merge import merge_heads, sample_stream
from copc_builder.algorithms.kernels.octree import FINE, gps_sort_keys, sample_parents
from reference import canonical_key

SETTINGS = settings(max_examples=50, deadline=None)


def ref_merge_heads(starts, ends, more, key, capacity):
    """Take the smallest head (first run on ties) until ``capacity`` indices are
    out, every run is used up, or a run with more to come is used up."""
    starts = list(starts)
    out = []
    while len(out) < capacity:
        if any(starts[r] >= ends[r] and more[r] for r in range(len(starts))):
            break
        live = [r for r in range(len(starts)) if starts[r] < ends[r]]
        if not live:
            break
        best = min(live, key=lambda r: (key(starts[r]), r))
        out.append(starts[best])
        starts[best] += 1
    return out, starts


@SETTINGS
@given(st.integers(0, 2 ** 32 - 1), st.lists(st.integers(0, 25), min_size=1, max_size=6),
       st.integers(1, 80), st.lists(st.booleans(), min_size=6, max_size=6), st.integers(1, 4))
def test_merge_heads_matches_reference(seed, sizes, capacity, more_flags, pool):
    rng = np.random.default_rng(seed)
    n = sum(sizes)
    gps = rng.choice(np.array([0.0, 1.0, 2.0, np.nan, -0.0])[:pool + 1], n)
    codes = rng.integers(0, pool, n).astype(np.int64)
    xyz = rng.integers(0, pool, (n, 3)).astype(np.int32)
    rest = rng.integers(0, 2, (n, 2)).astype(np.uint8)
    gkeys = np.zeros(n, np.uint64)
    gps_sort_keys(gps, gkeys)

    def key(i):
        return canonical_key(i, gkeys, codes, xyz, rest)
    # Runs are consecutive ranges of the combined arrays, each in canonical order:
    # reorder the points so that holds.
    order, starts, pos = [], [], 0
    for size in sizes:
        order += sorted(range(pos, pos + size), key=key)
        starts.append(pos)
        pos += size
    order = np.array(order, np.int64)
    gps, codes, xyz, rest, gkeys = gps[order], codes[order], xyz[order], rest[order], gkeys[order]
    starts = np.array(starts, np.int64)
    ends = starts + np.array(sizes, np.int64)
    more = np.array(more_flags[:len(sizes)], np.bool_)
    expect, expect_starts = ref_merge_heads(starts, ends, more, key, capacity)
    out = np.full(capacity, -1, np.int64)
    got_starts = starts.copy()
    n_out = merge_heads(got_starts, ends, more, gps.view(np.uint64), codes, xyz, rest, out)
    assert n_out == len(expect)
    assert [key(i) for i in out[:n_out]] == [key(i) for i in expect]
    assert got_starts.tolist() == expect_starts


def test_merge_heads_in_blocks_gives_the_full_merge():
    """Called again and again with a small output, the merge goes on where it stopped."""
    rng = np.random.default_rng(5)
    sizes = [40, 0, 17, 33]
    n = sum(sizes)
    gps = np.concatenate([np.sort(rng.integers(0, 20, s).astype(np.float64)) for s in sizes])
    codes = np.zeros(n, np.int64)
    xyz = np.zeros((n, 3), np.int32)
    xyz[:, 0] = np.arange(n)           # distinct records inside a GPS tie
    rest = np.zeros((n, 1), np.uint8)
    gkeys = np.zeros(n, np.uint64)
    gps_sort_keys(gps, gkeys)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
    ends = starts + np.array(sizes)
    more = np.zeros(4, np.bool_)
    merged = []
    out = np.empty(7, np.int64)
    while True:
        k = merge_heads(starts, ends, more, gps.view(np.uint64), codes, xyz, rest, out)
        merged += out[:k].tolist()
        if k < len(out):
            break
    assert merged == sorted(range(n), key=lambda i: (gkeys[i], xyz[i, 0]))


@SETTINGS
@given(st.integers(0, 2 ** 32 - 1), st.integers(0, 20), st.lists(st.integers(0, 50), max_size=6))
def test_sample_stream_matches_first_point_per_cell(seed, level, blocks):
    """Blocks of a parent's children, in order, against one bitmap: the same
    flags as a first-point-per-cell pass over all points, and as sample_parents."""
    rng = np.random.default_rng(seed)
    n = sum(blocks)
    sub = 3 * (FINE - level)
    parent = int(rng.integers(0, 2 ** min(3 * level, 40))) if level else 0
    low = rng.integers(0, 2 ** min(sub, 62), n) >> int(rng.integers(0, max(sub - 2, 1)))
    codes = ((parent << sub) | low).astype(np.int64)
    grid = min(level + 7, FINE)
    shift = 3 * (FINE - grid)
    mask = (1 << (3 * (grid - level))) - 1
    seen, expect = set(), []
    for c in codes.tolist():
        cell = (c >> shift) & mask
        expect.append(0 if cell in seen else 1)
        seen.add(cell)
    bitmap = np.zeros((mask >> 3) + 1, np.uint8)
    flags, total, pos = [], 0, 0
    for size in blocks:
        f = np.full(size, 9, np.uint8)
        total += sample_stream(codes[pos:pos + size], level, bitmap, f)
        flags += f.tolist()
        pos += size
    assert flags == expect
    assert total == sum(expect)
    f2 = np.zeros(n, np.uint8)
    promoted = np.zeros(1, np.int64)
    sample_parents(codes, np.arange(n, dtype=np.int64), np.array([0]), np.array([n]),
                   np.array([0]), np.array([1]), level, f2, promoted)
    assert f2.tolist() == expect and promoted[0] == total

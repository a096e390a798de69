"""kernels.octree against plain numpy/Python references: child splits (stable
counting sort), GPS sort keys, canonical order, LOD sampling."""
import struct

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copc_builder.algorithms.kernels.octree import (
    FINE, SPLIT_PARTS, gps_sort_keys, merge_canonical, sample_parents, sort_canonical,
    split_big_node, split_nodes, split_promoted, split_root)
from reference import canonical_key

SETTINGS = settings(max_examples=50, deadline=None)
INT32_MIN = -(2 ** 31)
INT32_MAX = 2 ** 31 - 1


@pytest.fixture
def thread_counts():
    """Thread counts to run at (1 and 2 when numba has 2); restores the count."""
    before = numba.get_num_threads()
    counts = [1, 2] if numba.config.NUMBA_NUM_THREADS >= 2 else [1]
    yield counts
    numba.set_num_threads(before)


def random_codes(rng, n):
    """Fine codes with many shared prefixes (so children repeat)."""
    return rng.integers(0, 2 ** 63 - 1, n, dtype=np.int64, endpoint=True)


# -- split_nodes / split_big_node ---------------------------------------------------

def ref_split(codes, perm, s, e, shift, levels=1, limit=0):
    """The split as plain numpy: stable sort by cell (the descendant
    ``levels`` levels down), except that a descendant above that level with
    at most ``limit`` points (the highest such) keeps its points together, in
    their order, in the bin of its first cell."""
    seg = perm[s:e]
    cell = (codes[seg] >> shift) & (8 ** levels - 1)
    bin_ = cell.copy()
    whole = np.zeros(len(seg), bool)
    for depth in range(1, levels):
        width = 8 ** (levels - depth)
        above = cell // width
        small = (np.bincount(above, minlength=8 ** depth) <= limit)[above] & ~whole
        bin_[small] = above[small] * width
        whole |= small
    return seg[np.argsort(bin_, kind="stable")], np.bincount(bin_, minlength=8 ** levels)


@SETTINGS
@given(st.integers(0, 2 ** 32 - 1), st.lists(st.integers(0, 300), min_size=0, max_size=6),
       st.integers(0, 18), st.sampled_from([1, 2, 3]), st.integers(0, 80))
def test_split_nodes_is_stable_counting_sort(seed, sizes, level, levels, limit):
    rng = np.random.default_rng(seed)
    shift = 3 * (FINE - level - levels)
    gap = rng.integers(0, 5, len(sizes) + 1)       # untouched entries between segments
    total = int(sum(sizes) + gap.sum())
    codes = few_cells(rng, 2 * total + 1, shift, levels)
    perm = rng.permutation(len(codes))[:total].astype(np.int64)
    starts, ends, pos = [], [], int(gap[0])
    for k, n in enumerate(sizes):
        starts.append(pos)
        ends.append(pos + n)
        pos += n + int(gap[k + 1])
    before = perm.copy()
    counts = np.full((len(sizes), 8 ** levels), -1, np.int64)
    split_nodes(codes, perm, np.array(starts, np.int64), np.array(ends, np.int64), shift, levels,
                limit, counts)
    touched = np.zeros(total, bool)
    for j, (s, e) in enumerate(zip(starts, ends)):
        expect, expect_counts = ref_split(codes, before, s, e, shift, levels, limit)
        assert perm[s:e].tolist() == expect.tolist()
        assert counts[j].tolist() == expect_counts.tolist()
        touched[s:e] = True
    assert perm[~touched].tolist() == before[~touched].tolist()


def few_cells(rng, n, shift, levels):
    """Random codes whose cells at ``shift`` fall in a few children, some
    holding many points and some few (leaves or not, for any limit)."""
    codes = random_codes(rng, n)
    width = np.int64(8 ** levels - 1) << np.int64(shift)
    child = rng.choice([0, 3, 5, 6], n, p=[0.6, 0.3, 0.07, 0.03]).astype(np.int64)
    if levels == 1:
        cell = child
    else:
        grandchild = rng.choice(8, n, p=[0.5, 0.2, 0.1, 0.1, 0.04, 0.03, 0.02, 0.01])
        rest = 8 ** (levels - 2)
        cell = (child * 8 + grandchild) * rest + rng.integers(0, rest, n)
    return (codes & ~width) | (cell << np.int64(shift))


def test_split_nodes_one_child_and_duplicate_codes():
    codes = np.array([5 << 60, 5 << 60, 5 << 60, 1 << 60], np.int64)  # child (code >> 60) & 7
    perm = np.array([3, 2, 1, 0, 2, 1], np.int64)
    counts = np.zeros((2, 8), np.int64)
    split_nodes(codes, perm, np.array([0, 4]), np.array([4, 6]), 60, 1, 0, counts)
    assert perm.tolist() == [3, 2, 1, 0, 2, 1]      # child 1 (point 3) first, ties keep order
    assert counts[0].tolist() == [0, 1, 0, 0, 0, 3, 0, 0]
    assert counts[1].tolist() == [0, 0, 0, 0, 0, 2, 0, 0]


SPLIT_CASES = [
    # Two levels, limit 3.  Child 1 (3 points) is a leaf: its points stay in
    # perm's order in bin 8; child 2 (4 points) is split by grandchild.
    ([2 * 8 + 5, 1 * 8 + 7, 2 * 8 + 1, 1 * 8 + 0, 2 * 8 + 5, 1 * 8 + 3, 2 * 8 + 0], 2, 3,
     [1, 3, 5, 6, 2, 0, 4], {8: 3, 16: 1, 17: 1, 21: 2}),
    # Three levels, limit 2.  Child 0 (2 points) is a leaf: bin 0.  Child 1 (5
    # points) is split: its grandchild 1.2 (2 points) is a leaf, bin 80;
    # grandchild 1.5's three points are split into cells 1.5.3 (two) and 1.5.6.
    ([64 + 2 * 8 + 1, 7, 64 + 5 * 8 + 6, 3 * 8, 64 + 2 * 8 + 0, 64 + 5 * 8 + 3, 64 + 5 * 8 + 3], 3, 2,
     [1, 3, 0, 4, 5, 6, 2], {0: 2, 80: 2, 107: 2, 110: 1}),
]


@pytest.mark.parametrize("cells, levels, limit, order, bins", SPLIT_CASES)
def test_split_nodes_keeps_leaves_above_the_last_level_whole(cells, levels, limit, order, bins):
    shift = 3 * (FINE - levels)
    codes = np.array(cells, np.int64) << np.int64(shift)
    perm = np.arange(len(cells), dtype=np.int64)
    counts = np.zeros((1, 8 ** levels), np.int64)
    split_nodes(codes, perm, np.array([0]), np.array([len(cells)]), shift, levels, limit, counts)
    assert perm.tolist() == order
    assert {b: int(c) for b, c in enumerate(counts[0]) if c} == bins


@pytest.mark.parametrize("levels", [1, 2, 3])
@pytest.mark.parametrize("dtype", [np.int64, np.int32])
@pytest.mark.parametrize("n", [0, 1, 7, SPLIT_PARTS - 1, SPLIT_PARTS, SPLIT_PARTS + 1, 1000, 20011])
def test_split_root_equals_the_reference_split_of_the_identity(n, dtype, levels, thread_counts):
    """split_root: the unit's first split, perm still the identity: perm
    written directly, as ref_split orders the points."""
    rng = np.random.default_rng(n + 1)
    level = int(rng.integers(0, 18))
    shift = 3 * (FINE - level - levels)
    codes = few_cells(rng, n, shift, levels) if n > 100 else random_codes(rng, n)
    limit = n // 20
    expect, expect_counts = ref_split(codes, np.arange(n, dtype=np.int64), 0, n, shift, levels, limit)
    for threads in thread_counts:
        numba.set_num_threads(threads)
        perm = np.full(n, -1, dtype)
        counts = np.full(8 ** levels, -1, np.int64)
        split_root(codes, shift, levels, limit, perm, counts)
        assert perm.tolist() == expect.tolist(), f"{threads} threads"
        assert counts.tolist() == expect_counts.tolist()


@pytest.mark.parametrize("levels", [1, 2, 3])
@pytest.mark.parametrize("dtype", [np.int64, np.int32])
@pytest.mark.parametrize("n", [0, 1, 7, SPLIT_PARTS - 1, SPLIT_PARTS, SPLIT_PARTS + 1, 1000, 20011])
def test_split_big_node_equals_split_nodes_at_every_thread_count(n, dtype, levels, thread_counts):
    rng = np.random.default_rng(n)
    level = int(rng.integers(0, 18))
    shift = 3 * (FINE - level - levels)
    codes = few_cells(rng, n + 50, shift, levels) if n > 100 else random_codes(rng, n + 50)
    limit = n // 20
    pad = 5
    perm0 = np.concatenate([[-1] * pad, rng.permutation(n + 50)[:n], [-2] * pad]).astype(dtype)
    expect, expect_counts = ref_split(codes, perm0, pad, pad + n, shift, levels, limit)
    ref_perm = perm0.copy()
    ref_counts = np.zeros((1, 8 ** levels), np.int64)
    split_nodes(codes, ref_perm, np.array([pad]), np.array([pad + n]), shift, levels, limit, ref_counts)
    assert ref_perm[pad:pad + n].tolist() == expect.tolist()
    for threads in thread_counts:
        numba.set_num_threads(threads)
        perm = perm0.copy()
        counts = np.full(8 ** levels, -1, np.int64)
        # scratch longer than the node, filled with junk: only its first n are used
        split_big_node(codes, perm, pad, pad + n, shift, levels, limit, counts,
                       np.full(n + 5, -7, dtype), np.full(n + 5, 9, np.uint16))
        assert perm.tolist() == ref_perm.tolist(), f"{threads} threads"
        assert counts.tolist() == ref_counts[0].tolist() == expect_counts.tolist()


@pytest.mark.parametrize("levels", [1, 2, 3])
def test_split_nodes_reference_result_at_every_thread_count(levels, thread_counts):
    rng = np.random.default_rng(7)
    shift = 3 * (FINE - 2 - levels)
    codes = few_cells(rng, 5000, shift, levels)
    starts = np.arange(0, 5000, 250, dtype=np.int64)
    ends = starts + 250
    before = np.arange(5000, dtype=np.int64)[::-1].copy()
    for threads in thread_counts:
        numba.set_num_threads(threads)
        perm = before.copy()
        counts = np.full((len(starts), 8 ** levels), -1, np.int64)
        split_nodes(codes, perm, starts, ends, shift, levels, 20, counts)
        for j, (s, e) in enumerate(zip(starts, ends)):
            expect, expect_counts = ref_split(codes, before, s, e, shift, levels, 20)
            assert perm[s:e].tolist() == expect.tolist(), f"{threads} threads, segment {j}"
            assert counts[j].tolist() == expect_counts.tolist(), f"{threads} threads, segment {j}"


# -- gps_sort_keys -------------------------------------------------------------------

SPECIAL = [0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -5e-324, 2.2250738585072014e-308,
           np.finfo(np.float64).max, -np.finfo(np.float64).max, 1.0, -1.0, 1e9, 3e8 + 0.5]


def keys_of(values):
    gps = np.array(values, np.float64)
    out = np.zeros(len(gps), np.uint64)
    gps_sort_keys(gps, out)
    return out


@SETTINGS
@given(st.lists(st.one_of(st.floats(allow_nan=True), st.sampled_from(SPECIAL)), max_size=60))
def test_gps_keys_order_is_float_order(values):
    """IEEE total order: -NaN < -inf < ... < -0.0 < 0.0 < ... < inf < +NaN, and
    equal keys only for equal bit patterns."""
    keys = keys_of(values)
    for i, a in enumerate(values):
        if np.isnan(a):
            negative = np.signbit(a)
            for j, b in enumerate(values):
                if not np.isnan(b):
                    assert (keys[i] < keys[j]) if negative else (keys[i] > keys[j])
            continue
        for j, b in enumerate(values):
            if np.isnan(b):
                continue
            elif a < b:
                assert keys[i] < keys[j], (a, b)
            elif struct.pack("<d", a) == struct.pack("<d", b):
                assert keys[i] == keys[j]
            elif a == b:   # -0.0 and 0.0: distinct records, -0.0 first
                assert keys[i] != keys[j]
                assert (keys[i] < keys[j]) == (np.signbit(a) and not np.signbit(b))


def test_gps_keys_special_values():
    keys = keys_of([-np.inf, -1.0, -5e-324, -0.0, 0.0, 5e-324, 1.0, np.inf, np.nan, -np.nan])
    assert keys[:8].tolist() == sorted(keys[:8].tolist())
    assert len(set(keys[:8].tolist())) == 8
    nan, neg_nan = np.float64(np.nan), -np.float64(np.nan)
    assert np.signbit(neg_nan) and not np.signbit(nan)
    assert keys[7] < keys[8]          # +inf before +NaN
    assert keys[9] < keys[0]          # -NaN before -inf
    assert keys_of([nan])[0] == keys[8]
    assert keys_of([]).shape == (0,)


# -- sort_canonical ------------------------------------------------------------------

def run_sort(perm, starts, ends, gps, codes, xyz, rest):
    gkeys = np.zeros(len(gps), np.uint64)
    gps_sort_keys(gps, gkeys)
    out = perm.copy()
    sort_canonical(out, np.asarray(starts, np.int64), np.asarray(ends, np.int64), gps.view(np.uint64), codes,
                   xyz, rest)
    return out, gkeys


def check_sorted(before, after, starts, ends, gkeys, codes, xyz, rest):
    covered = np.zeros(len(before), bool)
    for s, e in zip(starts, ends):
        seg = before[s:e]
        expect = sorted(seg.tolist(), key=lambda i: canonical_key(i, gkeys, codes, xyz, rest))
        got = after[s:e].tolist()
        assert sorted(got) == sorted(seg.tolist()), "not a permutation of the segment"
        assert [canonical_key(i, gkeys, codes, xyz, rest) for i in got] == \
            [canonical_key(i, gkeys, codes, xyz, rest) for i in expect]
        covered[s:e] = True
    assert after[~covered].tolist() == before[~covered].tolist()


def make_points(rng, n, gps_mode, pool, rest_width):
    """Points with deliberately few distinct values, so every tie level is hit."""
    if gps_mode == "pulses":        # acquisition order: increasing, runs of 1-5 returns
        runs = rng.integers(1, 6, n)
        gps = np.repeat(np.cumsum(rng.uniform(0.0, 1e-3, n)) + 3e8, runs)[:n]
    elif gps_mode == "random":
        gps = rng.choice(rng.uniform(-1e6, 1e6, max(pool, 1)), n)
    elif gps_mode == "none":
        gps = np.zeros(n)
    elif gps_mode == "long_ties":    # runs longer than 32 points sharing a GPS time
        gps = np.repeat(rng.uniform(0, 100, n // 40 + 1), 40)[:n]
        gps = np.sort(gps)
    else:                            # special values
        gps = rng.choice(np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0]), n)
    codes = rng.integers(0, pool + 1, n).astype(np.int64) * (2 ** 40 + 12345)
    xyz = rng.choice(np.array([INT32_MIN, -1, 0, 1, INT32_MAX], np.int32), (n, 3)) \
        if pool < 3 else rng.integers(-pool, pool + 1, (n, 3)).astype(np.int32)
    rest = rng.integers(0, 256 if pool > 2 else 2, (n, rest_width)).astype(np.uint8)
    if n > 4:   # exact duplicates of whole points
        dup = rng.integers(0, n, n // 4)
        src = rng.integers(0, n, n // 4)
        gps[dup], codes[dup], xyz[dup], rest[dup] = gps[src], codes[src], xyz[src], rest[src]
    return gps.astype(np.float64), codes, np.ascontiguousarray(xyz), rest


@SETTINGS
@given(st.integers(0, 2 ** 32 - 1), st.integers(0, 300),
       st.sampled_from(["pulses", "random", "none", "long_ties", "special"]),
       st.sampled_from([1, 2, 3, 50, 10 ** 6]), st.integers(0, 4), st.booleans())
def test_sort_canonical_matches_reference(seed, n, gps_mode, pool, rest_width, shuffled):
    rng = np.random.default_rng(seed)
    gps, codes, xyz, rest = make_points(rng, n, gps_mode, pool, rest_width)
    perm = np.arange(n, dtype=np.int64)
    if shuffled:
        perm = rng.permutation(n).astype(np.int64)
    cuts = np.sort(rng.integers(0, n + 1, 4))
    starts = [0, int(cuts[0]), int(cuts[1]), int(cuts[3])]   # segments; [cuts[2], cuts[3]) left alone
    ends = [int(cuts[0]), int(cuts[1]), int(cuts[2]), n]
    after, gkeys = run_sort(perm, starts, ends, gps, codes, xyz, rest)
    check_sorted(perm, after, starts, ends, gkeys, codes, xyz, rest)


@pytest.mark.parametrize("run", [2, 5, 32, 33, 100])
def test_sort_canonical_tie_runs(run):
    """A run of points sharing one GPS time, long enough for each tie path,
    with codes and records both tied and distinct."""
    rng = np.random.default_rng(run)
    n = run * 3
    gps = np.repeat([1.0, 2.0, 3.0], run)
    codes = rng.integers(0, 3, n).astype(np.int64)
    xyz = rng.integers(-1, 2, (n, 3)).astype(np.int32)
    xyz[::7] = [INT32_MIN, INT32_MAX, 0]
    rest = rng.integers(0, 2, (n, 3)).astype(np.uint8)
    rest[::5, 0] = 255          # bytes compare unsigned
    perm = np.arange(n, dtype=np.int64)[::-1].copy()     # reverse: GPS not in order
    after, gkeys = run_sort(perm, [0], [n], gps, codes, xyz, rest)
    check_sorted(perm, after, [0], [n], gkeys, codes, xyz, rest)
    perm = np.arange(n, dtype=np.int64)                   # GPS already in order
    after, gkeys = run_sort(perm, [0], [n], gps, codes, xyz, rest)
    check_sorted(perm, after, [0], [n], gkeys, codes, xyz, rest)


def test_sort_canonical_does_not_depend_on_arrival_order():
    rng = np.random.default_rng(3)
    n = 400
    gps, codes, xyz, rest = make_points(rng, n, "pulses", 3, 2)
    results = set()
    for k in range(5):
        perm = rng.permutation(n).astype(np.int64)
        after, _ = run_sort(perm, [0], [n], gps, codes, xyz, rest)
        records = tuple((gps[i].tobytes(), codes[i], xyz[i].tobytes(), rest[i].tobytes()) for i in after)
        results.add(records)
    assert len(results) == 1


def test_sort_canonical_empty_and_single():
    gps = np.array([2.0, 1.0])
    codes = np.zeros(2, np.int64)
    xyz = np.zeros((2, 3), np.int32)
    rest = np.zeros((2, 1), np.uint8)
    perm = np.array([0, 1], np.int64)
    after, _ = run_sort(perm, [0, 1, 1], [0, 1, 2], gps, codes, xyz, rest)
    assert after.tolist() == [0, 1]
    after, _ = run_sort(perm, [], [], gps, codes, xyz, rest)
    assert after.tolist() == [0, 1]
    after, _ = run_sort(perm, [0], [2], gps, codes, xyz, rest)
    assert after.tolist() == [1, 0]


def test_sort_canonical_nan_payloads_are_ordered():
    nan_a = np.frombuffer(struct.pack("<Q", 0x7FF8000000000001), np.float64)[0]
    nan_b = np.frombuffer(struct.pack("<Q", 0x7FF8000000000002), np.float64)[0]
    gps = np.array([nan_a, nan_b])
    codes = np.zeros(2, np.int64)
    xyz = np.zeros((2, 3), np.int32)
    rest = np.zeros((2, 2), np.uint8)
    first, _ = run_sort(np.array([0, 1], np.int64), [0], [2], gps, codes, xyz, rest)
    second, _ = run_sort(np.array([1, 0], np.int64), [0], [2], gps, codes, xyz, rest)
    assert gps[first].tobytes() == gps[second].tobytes()


# -- sample_parents / split_promoted -------------------------------------------------

def ref_sample(codes, pts, c_starts, c_ends, first, last, level):
    grid = min(level + 7, FINE)
    shift = 3 * (FINE - grid)
    mask = (1 << (3 * (grid - level))) - 1
    flags, promoted, parent_out, kept = {}, [], [], {}
    for p in range(len(first)):
        seen = set()
        out = []
        for c in range(first[p], last[p]):
            keep = []
            for q in range(c_starts[c], c_ends[c]):
                cell = (int(codes[pts[q]]) >> shift) & mask
                if cell in seen:
                    flags[q] = 0
                    keep.append(int(pts[q]))
                else:
                    seen.add(cell)
                    flags[q] = 1
                    out.append(int(pts[q]))
            kept[c] = keep
        promoted.append(len(out))
        parent_out.append(out)
    return flags, promoted, parent_out, kept


def sampling_case(rng, level, n_parents, dense):
    """Parents at ``level``, their children (sorted by key), the children's
    points laid out in a pool in shuffled order with gaps."""
    sub_bits = 3 * (FINE - level - 1)
    parents = np.sort(rng.choice(2 ** min(3 * level, 30), n_parents, replace=False)) \
        if level else np.array([0])
    codes, children, per_parent = [], [], []
    for p in parents:
        kids = np.sort(rng.choice(8, rng.integers(1, 9), replace=False))
        per_parent.append(len(kids))
        for c in kids:
            k = int(rng.integers(1, 40))
            prefix = (int(p) << 3) | int(c)
            if dense or sub_bits == 0:      # few distinct codes: many cell collisions
                low = rng.integers(0, min(2 ** sub_bits, 4) if sub_bits else 1, k)
                low = low << max(sub_bits - 2, 0)
            else:
                low = rng.integers(0, 2 ** sub_bits, k)
            children.append((len(codes), k))
            codes.extend(((prefix << sub_bits) | low).tolist())
    codes = np.array(codes, np.int64)
    # Lay the children's ranges out in the pool in random order, with gaps.
    order = rng.permutation(len(children))
    pool_size = len(codes) + 3 * len(children) + 5
    pts = np.full(pool_size, -7, np.int64)
    c_starts = np.zeros(len(children), np.int64)
    c_ends = np.zeros(len(children), np.int64)
    pos = 2
    for j in order:
        start, k = children[j]
        c_starts[j] = pos
        c_ends[j] = pos + k
        pts[pos:pos + k] = rng.permutation(np.arange(start, start + k))
        pos += k + int(rng.integers(0, 3))
    # Children are listed parent by parent, in key order.
    last = np.cumsum(per_parent).astype(np.int64)
    first = (last - np.array(per_parent)).astype(np.int64)
    return codes, pts, c_starts, c_ends, first, last


@SETTINGS
@given(st.integers(0, 2 ** 32 - 1), st.integers(0, 20), st.integers(1, 4), st.booleans())
def test_sample_parents_and_split_promoted_match_reference(seed, level, n_parents, dense):
    rng = np.random.default_rng(seed)
    if level == 0:
        n_parents = 1
    codes, pts, c_starts, c_ends, first, last = sampling_case(rng, level, n_parents, dense)
    flags = np.full(len(pts), 9, np.uint8)
    promoted = np.full(len(first), -1, np.int64)
    sample_parents(codes, pts, c_starts, c_ends, first, last, level, flags, promoted)
    ref_flags, ref_promoted, ref_out, ref_kept = ref_sample(codes, pts, c_starts, c_ends, first, last, level)
    for q in range(len(pts)):
        assert flags[q] == ref_flags.get(q, 9), q   # untouched outside the children
    assert promoted.tolist() == ref_promoted

    # split_promoted, writing the parents into a separate array and, as
    # lod_step does, into the same pool past its end.
    out_start = np.concatenate(([0], np.cumsum(promoted)[:-1])).astype(np.int64)
    for aliased in (False, True):
        work = np.concatenate([pts, np.full(int(promoted.sum()), -5, np.int64)]) if aliased else pts.copy()
        base = len(pts) if aliased else 0
        parent_out = work if aliased else np.full(int(promoted.sum()), -5, np.int64)
        keep_end = np.full(len(c_starts), -1, np.int64)
        split_promoted(work, flags, c_starts, c_ends, first, last, out_start + base, parent_out, keep_end)
        for p in range(len(first)):
            s = base + out_start[p]
            assert parent_out[s:s + promoted[p]].tolist() == ref_out[p]
        for c in range(len(c_starts)):
            assert keep_end[c] == c_starts[c] + len(ref_kept[c])
            assert work[c_starts[c]:keep_end[c]].tolist() == ref_kept[c]
        # Every point of the children is either promoted or kept, once.
        moved = sorted(sum(ref_out, []) + sum(ref_kept.values(), []))
        assert moved == sorted(pts[pts >= 0].tolist())


def test_sample_parents_grid_at_deep_levels():
    """At level 20 the grid is the fine level itself (8 cells per parent)."""
    level = 20
    codes = np.array([0, 0, 1, 7, 7, 8 | 1], np.int64)   # last point: another parent's cell
    pts = np.arange(6, dtype=np.int64)
    flags = np.zeros(6, np.uint8)
    promoted = np.zeros(2, np.int64)
    # parent 0 has child 0 (points 0-4), parent 1 has child 1 (point 5)
    sample_parents(codes, pts, np.array([0, 5]), np.array([5, 6]), np.array([0, 1]), np.array([1, 2]),
                   level, flags, promoted)
    assert flags.tolist() == [1, 0, 1, 1, 0, 1]
    assert promoted.tolist() == [3, 1]


# -- merge_canonical -----------------------------------------------------------------

@SETTINGS
@given(st.integers(0, 2 ** 32 - 1), st.lists(st.lists(st.integers(0, 30), max_size=9), min_size=1, max_size=4),
       st.sampled_from(["pulses", "random", "none", "long_ties", "special"]), st.sampled_from([1, 3, 50]))
def test_merge_canonical_matches_reference(seed, segments, gps_mode, pool):
    """Segments made of runs already in canonical order (runs may be empty):
    after the merge each segment is in canonical order."""
    rng = np.random.default_rng(seed)
    n = sum(sum(runs) for runs in segments)
    gps, codes, xyz, rest = make_points(rng, n, gps_mode, pool, 2)
    gkeys = np.zeros(n, np.uint64)
    gps_sort_keys(gps, gkeys)
    pad = 3
    perm = np.full(n + pad * (len(segments) + 1), -1, np.int64)
    points = rng.permutation(n)
    run_bounds, run_first, seg_ranges = [], [0], []
    pos, used = pad, 0
    for runs in segments:
        start = pos
        run_bounds.append(pos)
        for size in runs:
            run = sorted(points[used:used + size].tolist(),
                         key=lambda i: canonical_key(i, gkeys, codes, xyz, rest))
            perm[pos:pos + size] = run
            used += size
            pos += size
            run_bounds.append(pos)
        run_first.append(len(run_bounds))
        seg_ranges.append((start, pos))
        pos += pad
    before = perm.copy()
    merge_canonical(perm, np.array(run_bounds, np.int64), np.array(run_first, np.int64),
                    gps.view(np.uint64), codes, xyz, rest)
    check_sorted(before, perm, [s for s, _ in seg_ranges], [e for _, e in seg_ranges],
                 gkeys, codes, xyz, rest)

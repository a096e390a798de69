"""octree_unit: partition and build_unit on small random clouds, against a
plain-Python build of the same octree (split over the leaf limit, canonical
order, first point per 128^3 cell moves up), and for the properties the
design relies on: every point once, points inside their node, and a result
that does not depend on the input order."""
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copc_builder.algorithms.points.columns import Columns
from copc_builder.algorithms.points.cube import FINE_LEVEL, Cube
from copc_builder.algorithms.format.node_key import ROOT, key_level
from copc_builder.algorithms.build.octree_unit import build_unit, partition

SETTINGS = settings(max_examples=50, deadline=None)
REST = 6


# -- test clouds ---------------------------------------------------------------------

def make_cloud(seed, n, shape, gps_mode, unique_ids=True):
    """Columns of n points; rest bytes 0-3 hold a point id when unique_ids."""
    rng = np.random.default_rng(seed)
    if shape == "uniform":
        xyz = rng.integers(-5000, 5000, (n, 3))
    elif shape == "clusters":
        centers = rng.integers(-10 ** 6, 10 ** 6, (3, 3))
        xyz = centers[rng.integers(0, 3, n)] + rng.integers(-20, 21, (n, 3))
    elif shape == "duplicates":           # few distinct positions: deep, full leaves
        xyz = rng.integers(0, 4, (n, 3)) * np.array([1, 1000, 7])
    else:                                 # flat ground
        xyz = np.column_stack([rng.integers(0, 3000, n), rng.integers(0, 3000, n), np.full(n, 42)])
    xyz = xyz.astype(np.int32)
    if gps_mode == "pulses":
        gps = np.repeat(np.cumsum(rng.uniform(0, 1e-4, n)) + 2e8, rng.integers(1, 5, n))[:n]
    elif gps_mode == "none":
        gps = np.zeros(n)
    else:
        gps = rng.choice(rng.uniform(0, 1000, max(n // 3, 1)), n)
    rest = rng.integers(0, 3, (n, REST)).astype(np.uint8)
    if unique_ids:
        rest[:, :4] = np.arange(n, dtype="<u4").view(np.uint8).reshape(n, 4)
    return Columns(np.ascontiguousarray(xyz), gps.astype(np.float64), rest)


def cube_of(cols, scales=(0.01, 0.01, 0.01)):
    return Cube.enclosing(cols.xyz.min(axis=0), cols.xyz.max(axis=0), scales, (100.0, -50.0, 3.0))


def record(cols, i) -> bytes:
    return cols.xyz[i].tobytes() + cols.gps[i:i + 1].tobytes() + cols.rest[i].tobytes()


# -- plain-Python reference build ----------------------------------------------------

def gps_key(g: float) -> int:
    if g != g:
        return 2 ** 64 - 1
    b = struct.unpack("<Q", struct.pack("<d", g))[0]
    return (~b) & (2 ** 64 - 1) if b >> 63 else b | (1 << 63)


def node_of(code: int, level: int) -> int:
    """Key of the node holding fine code ``code`` at ``level``."""
    return (1 << (3 * level)) | (code >> (3 * (FINE_LEVEL - level)))


def ref_partition(codes, root_key, leaf_limit, max_depth):
    """{leaf key: [points]} and the set of split keys, by plain recursion."""
    leaves, internal = {}, set()

    def visit(key, pts):
        level = key_level(key)
        if len(pts) > leaf_limit and level < max_depth:
            internal.add(key)
            by_child = {}
            for i in pts:
                by_child.setdefault(node_of(int(codes[i]), level + 1), []).append(i)
            for child in sorted(by_child):
                visit(child, by_child[child])
        elif pts:
            leaves[key] = pts
    visit(root_key, list(range(len(codes))))
    return leaves, internal


def ref_build(cols, codes, root_key, leaf_limit, max_depth):
    """{key: [point index, ...] in output order} for every final node."""
    def canon(i):
        return (gps_key(float(cols.gps[i])), int(codes[i]), tuple(int(v) for v in cols.xyz[i]),
                bytes(cols.rest[i]))
    leaves, internal = ref_partition(codes, root_key, leaf_limit, max_depth)
    nodes = {k: sorted(v, key=canon) for k, v in leaves.items()}
    final = {}
    for key in sorted(internal, key=lambda k: (-key_level(k), k)):   # bottom-up
        level = key_level(key)
        grid = min(level + 7, FINE_LEVEL)
        seen, up = set(), []
        for child in sorted(k for k in nodes if k >> 3 == key):
            keep = []
            for i in nodes.pop(child):
                cell = (int(codes[i]) >> (3 * (FINE_LEVEL - grid))) & ((1 << (3 * (grid - level))) - 1)
                if cell in seen:
                    keep.append(i)
                else:
                    seen.add(cell)
                    up.append(i)
            if keep:
                final[child] = keep
        nodes[key] = sorted(up, key=canon)
    assert list(nodes) == [root_key]
    final[root_key] = nodes[root_key]
    return final


# -- helpers around build_unit -------------------------------------------------------

class Collector:
    """emit() target: final nodes as {key: [record bytes]} in output order."""

    def __init__(self):
        self.nodes = {}
        self.index = {}
        self.calls = 0

    def __call__(self, keys, counts, cols, index):
        self.calls += 1
        assert len(keys) == len(counts) and sum(counts) == len(index)
        pos = 0
        for key, count in zip(keys, counts):
            assert count > 0, f"node {key} emitted empty"
            assert key not in self.nodes, f"node {key} emitted twice"
            part = index[pos:pos + count]
            self.nodes[int(key)] = [record(cols, int(i)) for i in part]
            self.index[int(key)] = [int(i) for i in part]
            pos += count


def build(cols, leaf_limit, scales=(0.01, 0.01, 0.01), root_key=ROOT, root_is_final=True, cube=None):
    cube = cube or cube_of(cols, scales)
    out = Collector()
    rest = build_unit(cols, root_key, cube, leaf_limit, out, root_is_final)
    return out, rest, cube


clouds = st.tuples(st.integers(0, 2 ** 32 - 1), st.integers(1, 500),
                   st.sampled_from(["uniform", "clusters", "duplicates", "flat"]),
                   st.sampled_from(["pulses", "none", "random"]))
scale_choices = st.sampled_from([(0.01, 0.01, 0.01), (0.01, 0.01, 0.001),
                                 (1.16451354e-06, 1.164510015e-06, 1.003143236e-06)])


# -- partition -----------------------------------------------------------------------

@SETTINGS
@given(clouds, st.integers(1, 60), scale_choices)
def test_partition_matches_recursive_split(cloud, leaf_limit, scales):
    cols = make_cloud(*cloud)
    cube = cube_of(cols, scales)
    codes = cube.fine_codes(cols.xyz)
    perm, leaves, internal = partition(codes, ROOT, leaf_limit, cube.max_depth)
    n = len(cols)
    assert sorted(perm.tolist()) == list(range(n))
    ranges = sorted((s, e, level, key) for level, lv in leaves.items() for key, s, e in lv)
    pos = 0
    for s, e, level, key in ranges:            # leaves tile [0, n), none empty
        assert s == pos and e > s
        pos = e
        assert key_level(key) == level
        assert all(node_of(int(c), level) == key for c in codes[perm[s:e]])
        assert e - s <= leaf_limit or level == cube.max_depth
    assert pos == n
    ref_leaves, ref_internal = ref_partition(codes, ROOT, leaf_limit, cube.max_depth)
    got_leaves = {key: sorted(perm[s:e].tolist()) for s, e, _, key in ranges}
    assert got_leaves == {k: sorted(v) for k, v in ref_leaves.items()}
    assert {k for lv in internal.values() for k in lv} == ref_internal
    assert all(key_level(k) == level for level, lv in internal.items() for k in lv)


def test_partition_root_is_leaf_and_max_depth_stops_splitting():
    codes = np.zeros(10, np.int64)            # ten points in one fine cell
    perm, leaves, internal = partition(codes, ROOT, 20, 20)
    assert leaves == {0: [(ROOT, 0, 10)]} and internal == {}
    perm, leaves, internal = partition(codes, ROOT, 3, 2)
    assert leaves == {2: [(1 << 6, 0, 10)]}
    assert internal == {0: [ROOT], 1: [1 << 3]}


# -- build_unit ----------------------------------------------------------------------

@SETTINGS
@given(clouds, st.integers(1, 60), scale_choices)
def test_build_unit_matches_reference_build(cloud, leaf_limit, scales):
    cols = make_cloud(*cloud)
    out, rest, cube = build(cols, leaf_limit, scales)
    assert rest is None
    codes = cube.fine_codes(cols.xyz)
    expect = ref_build(cols, codes, ROOT, leaf_limit, cube.max_depth)
    assert sorted(out.nodes) == sorted(expect)
    for key, idx in expect.items():
        assert out.nodes[key] == [record(cols, i) for i in idx], f"node {key}"


@SETTINGS
@given(clouds, st.integers(1, 60), scale_choices)
def test_build_unit_properties(cloud, leaf_limit, scales):
    cols = make_cloud(*cloud)
    out, _, cube = build(cols, leaf_limit, scales)
    codes = cube.fine_codes(cols.xyz)
    # Every input point exactly once over all nodes.
    emitted = sorted(i for idx in out.index.values() for i in idx)
    assert emitted == list(range(len(cols)))
    for key, idx in out.index.items():
        level = key_level(key)
        # Inside the node: the code's prefix at the node's level is the key.
        assert all(node_of(int(codes[i]), level) == key for i in idx)
    below = {key: [] for key in out.index}     # codes of the points strictly under each node
    for key, idx in out.index.items():
        up = key >> 3
        while up:
            if up in below:
                below[up].extend(int(codes[i]) for i in idx)
            up >>= 3
    for key, idx in out.index.items():
        if not below[key]:
            continue
        # An inner node: at most one point per 128^3 cell, and with its
        # ancestors (which may have taken its samples) a point in every cell
        # its subtree occupies: the levels above are a preview of the levels below.
        grid = min(key_level(key) + 7, FINE_LEVEL)
        shift = 3 * (FINE_LEVEL - grid)
        cells = [int(codes[i]) >> shift for i in idx]
        assert len(set(cells)) == len(cells), f"node {key}: two points in one 128^3 cell"
        shown = set(cells)
        up = key >> 3
        while up:
            shown.update(int(codes[i]) >> shift for i in out.index.get(up, ()))
            up >>= 3
        assert {c >> shift for c in below[key]} <= shown, f"node {key}: a subtree cell has no sample"
    assert ROOT in out.nodes


@SETTINGS
@given(clouds, st.integers(1, 40), scale_choices, st.booleans())
def test_build_unit_does_not_depend_on_input_order(cloud, leaf_limit, scales, unique_ids):
    """Same points in another order: same nodes, same records in the same order."""
    seed, n, shape, gps_mode = cloud
    cols = make_cloud(seed, n, shape, gps_mode, unique_ids)
    cube = cube_of(cols, scales)
    first, _, _ = build(cols, leaf_limit, cube=cube)
    shuffle = np.random.default_rng(seed + 1).permutation(len(cols))
    second, _, _ = build(cols.take(shuffle), leaf_limit, cube=cube)
    assert list(first.nodes) == list(second.nodes)     # same emit order too
    for key in first.nodes:
        assert first.nodes[key] == second.nodes[key], f"node {key}"


def test_build_unit_below_the_root_returns_its_root():
    """A unit rooted at a level-2 node: nodes below it are emitted, its own
    points come back in canonical order, all inside the unit's node."""
    cols = make_cloud(11, 3000, "uniform", "pulses")
    cube = cube_of(cols)
    codes = cube.fine_codes(cols.xyz)
    keys2 = np.array([node_of(int(c), 2) for c in codes])
    root = int(np.bincount(keys2).argmax())
    mine = np.flatnonzero(keys2 == root)
    unit = cols.take(mine)
    out, rest, _ = build(unit, 8, root_key=root, root_is_final=False, cube=cube)
    assert rest is not None and root not in out.nodes
    assert all(key_level(k) > 2 and k >> (3 * (key_level(k) - 2)) == root for k in out.nodes)
    unit_codes = cube.fine_codes(unit.xyz)
    expect = ref_build(unit, unit_codes, root, 8, cube.max_depth)
    assert [record(rest, i) for i in range(len(rest))] == [record(unit, i) for i in expect.pop(root)]
    assert sorted(out.nodes) == sorted(expect)
    for key, idx in expect.items():
        assert out.nodes[key] == [record(unit, i) for i in idx]


def test_build_unit_single_point():
    cols = make_cloud(0, 1, "uniform", "none")
    out, rest, _ = build(cols, 1)
    assert rest is None and out.nodes == {ROOT: [record(cols, 0)]}


@pytest.mark.parametrize("big_node", [64, 1 << 20])
def test_build_unit_same_at_every_thread_count(monkeypatch, big_node):
    """Same nodes and records at 1 and 2 threads, with big nodes split in
    parallel (BIG_NODE lowered so a small cloud takes that path) or not."""
    import numba
    from copc_builder.algorithms.build import octree_unit
    monkeypatch.setattr(octree_unit, "BIG_NODE", big_node)
    cols = make_cloud(21, 3000, "clusters", "pulses")
    before = numba.get_num_threads()
    results = []
    try:
        for threads in ([1, 2] if numba.config.NUMBA_NUM_THREADS >= 2 else [1]):
            numba.set_num_threads(threads)
            out, _, cube = build(cols, 16)
            results.append(out.nodes)
    finally:
        numba.set_num_threads(before)
    codes = cube.fine_codes(cols.xyz)
    expect = ref_build(cols, codes, ROOT, 16, cube.max_depth)
    expect = {k: [record(cols, i) for i in v] for k, v in expect.items()}
    for nodes in results:
        assert nodes == expect


def test_final_groups_bound_each_copy_and_keep_node_order(monkeypatch):
    """Final nodes go to emit in groups of at most EMIT_POINTS points (a node
    bigger than that alone), in node order, empty nodes left out, and the
    groups together hold exactly every kept point."""
    from copc_builder.algorithms.build import octree_unit

    monkeypatch.setattr(octree_unit, "EMIT_POINTS", 10)
    pool = np.arange(100, dtype=np.int64) * 3
    # (key, start, end) of the children; keep_end: where each child's kept points end
    cur = [(8, 0, 6), (9, 6, 10), (10, 10, 30), (11, 30, 34), (12, 34, 40), (13, 40, 45)]
    keep_end = np.array([4, 6, 25, 33, 40, 41], np.int64)   # child 9 kept nothing
    groups = list(octree_unit.final_groups(cur, keep_end, pool))
    assert [(keys, counts) for keys, counts, _ in groups] == [
        ([8], [4]), ([10], [15]), ([11, 12, 13], [3, 6, 1])]
    for keys, counts, index in groups:
        assert len(index) == sum(counts) and (len(keys) == 1 or len(index) <= 10)
    got = np.concatenate([index for _, _, index in groups])
    expect = np.concatenate([pool[s:e] for (_, s, _), e in zip(cur, keep_end) if e > s])
    assert got.tolist() == expect.tolist()


@pytest.mark.parametrize("room", ["default", "none"])
def test_build_unit_pool_room(monkeypatch, room):
    """Sampled points are appended to the pool made by partition; it grows
    exactly when they outrun the room made for them (growing holds two pools
    at once, so the room is sized for aerial clouds, benchmarks/scale.py),
    and a grown pool gives the same nodes as the reference build."""
    from copc_builder.algorithms.build import octree_unit

    appended, grown = [], []
    reserve = octree_unit._Pool.reserve

    def counting_reserve(pool, n):
        appended.append(n)
        if pool.top + n > len(pool.array):
            grown.append(n)
        return reserve(pool, n)

    monkeypatch.setattr(octree_unit._Pool, "reserve", counting_reserve)
    if room == "none":
        monkeypatch.setattr(octree_unit, "pool_room", lambda points: 0)
    cols = make_cloud(5, 60000, "flat", "pulses")
    cols.xyz[:, :2] = np.random.default_rng(5).integers(0, 3000, (len(cols), 2))
    out, _, cube = build(cols, 20000)   # promotes 37 % of its points in all
    assert bool(grown) == (sum(appended) > octree_unit.pool_room(len(cols))) and bool(grown) == (room == "none")
    codes = cube.fine_codes(cols.xyz)
    expect = ref_build(cols, codes, ROOT, 20000, cube.max_depth)
    assert sorted(out.nodes) == sorted(expect)
    for key, idx in expect.items():
        assert out.nodes[key] == [record(cols, i) for i in idx], f"node {key}"

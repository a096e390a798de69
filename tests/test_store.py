"""The node store (PointStore, pages, SpillFile, WorkFolder) against a plain
dict of appended arrays: what goes in comes out, in append order, whether
pages stayed in memory, spilled to disk, or were compacted; and the codec of
spilled pages, bit for bit, for every dtype."""
import os
import subprocess
import sys
import tempfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copc_builder.algorithms.points.columns import Columns
from copc_builder.algorithms.store import PointStore, codec
from copc_builder.algorithms.store.spill_file import PREFIX, SpillFile, WorkFolder, clean_stale

SETTINGS = settings(max_examples=50, deadline=None)
REST = 10


def random_cols(rng, n, rest=REST):
    xyz = rng.integers(-2 ** 31, 2 ** 31 - 1, (n, 3), endpoint=True).astype(np.int32)
    gps = rng.uniform(-1e9, 1e9, n)
    if n:
        gps[rng.integers(0, n, max(n // 10, 1))] = rng.choice([np.nan, -0.0, np.inf])
    return Columns(xyz, gps, rng.integers(0, 256, (n, rest)).astype(np.uint8))


def cat(parts):
    return Columns.concat(parts, REST) if parts else Columns.empty(REST)


def same(a: Columns, b: Columns) -> bool:
    """Bit-identical columns (NaN GPS compared by bits)."""
    return (a.xyz.shape == b.xyz.shape and a.rest.shape == b.rest.shape
            and a.xyz.tobytes() == b.xyz.tobytes() and a.gps.tobytes() == b.gps.tobytes()
            and a.rest.tobytes() == b.rest.tobytes())


def page_bytes(page_points, rest=REST):
    return page_points * (12 + 8 + rest)


class Model:
    """The store as a dict of appended parts."""

    def __init__(self):
        self.nodes = {}

    def append(self, key, cols):
        if len(cols):
            self.nodes.setdefault(key, []).append(cols)

    def take(self, key):
        return cat(self.nodes.pop(key, []))


# -- round trips -----------------------------------------------------------------------

ops = st.lists(st.tuples(st.sampled_from(["append", "append", "append", "take", "compact", "budget"]),
                         st.integers(0, 6), st.integers(0, 40)), max_size=40)


@SETTINGS
@given(ops, st.sampled_from([8, 13, 64]), st.sampled_from([0, 100, 2000, 10 ** 9]),
       st.integers(0, 2 ** 32 - 1))
def test_store_matches_dict_of_appends(operations, page_points, budget, seed):
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as folder:
        store = PointStore(REST, budget, folder, page_points=page_points)
        model = Model()
        try:
            for op, key, n in operations:
                if op == "append":
                    cols = random_cols(rng, n + 2)
                    model.append(key, cols.slice(1, n + 1))
                    store.append(key, cols, 1, n + 1)       # a slice of a bigger chunk
                elif op == "take":
                    assert same(store.take(key), model.take(key)), f"node {key}"
                elif op == "compact":
                    store.compact()
                else:
                    store.set_budget(int(rng.choice([0, 100, 10 ** 9])))
                assert store.keys() == sorted(model.nodes)
                for k in model.nodes:
                    assert store.count(k) == sum(len(c) for c in model.nodes[k])
                assert store.total_points == sum(len(c) for v in model.nodes.values() for c in v)
            for key in list(model.nodes):
                assert same(store.take(key), model.take(key)), f"node {key}"
            assert store.keys() == [] and store.total_points == 0
        finally:
            store.close()


def test_take_unknown_and_empty_appends():
    store = PointStore(REST, 10 ** 9)
    store.append(5, random_cols(np.random.default_rng(0), 0))
    store.append(6, random_cols(np.random.default_rng(0), 4), 2, 2)
    assert 5 not in store and 6 not in store
    empty = store.take(5)
    assert len(empty) == 0 and empty.rest.shape == (0, REST)
    assert list(store.drain(7)) == []
    store.close()


def test_append_segments_and_drain():
    rng = np.random.default_rng(1)
    cols = random_cols(rng, 30)
    store = PointStore(REST, 10 ** 9, page_points=8)
    store.append_segments([3, 9, 3], [0, 10, 12, 30], cols)
    assert store.count(3) == 28 and store.count(9) == 2
    parts = list(store.drain(3))
    assert sum(len(p) for p in parts) == 28 and 3 not in store
    assert same(cat(parts), cat([cols.slice(0, 10), cols.slice(12, 30)]))
    assert same(store.take(9), cols.slice(10, 12))
    store.close()


def test_nodes_share_pages():
    rng = np.random.default_rng(2)
    store = PointStore(REST, 10 ** 9, page_points=8)
    parts = {key: random_cols(rng, 3) for key in range(1, 9)}
    for key, cols in parts.items():
        store.append(key, cols)
    pages = {id(e.page) for key in parts for e in store.handle(key).extents}
    assert len(pages) == 3                       # 24 points of 8 nodes in 3 pages of 8
    shared = [key for key in parts if len({id(e.page) for e in store.handle(key).extents}) == 2]
    assert shared, "some node spans two pages"
    for key in (5, 1, 8, 2, 3, 4, 6, 7):
        assert same(store.take(key), parts[key])
    store.close()


# -- spilling --------------------------------------------------------------------------

def test_spill_under_a_budget_smaller_than_a_page(tmp_path):
    rng = np.random.default_rng(3)
    store = PointStore(REST, page_bytes(8) // 2, str(tmp_path), page_points=8)
    model = Model()
    for round_ in range(3):
        for key in range(20):
            cols = random_cols(rng, int(rng.integers(1, 30)))
            model.append(key, cols)
            store.append(key, cols)
            # Only the open page may stay resident.
            assert store.resident_bytes <= page_bytes(8)
    assert store.spilled_pages > 0
    assert os.path.getsize(tmp_path / "pages.bin") > 0
    for key in rng.permutation(20):
        assert same(store.take(int(key)), model.take(int(key))), f"node {key}"
    assert store.loaded_pages > 0
    store.close()


def test_spill_without_a_folder_is_refused():
    store = PointStore(REST, 0, None, page_points=8)
    with pytest.raises(RuntimeError, match="folder"):
        store.append(1, random_cols(np.random.default_rng(0), 20))


def test_handle_state(tmp_path):
    rng = np.random.default_rng(4)
    store = PointStore(REST, 10 ** 9, str(tmp_path), page_points=8)
    a, b, c = random_cols(rng, 20), random_cols(rng, 3), random_cols(rng, 16)
    store.append(1, a)                  # pages 0, 1 full; page 2 open with 4 points
    assert store.handle(1).state == "loaded"
    store.set_budget(0)                 # every page but the open one spills
    assert store.handle(1).state == "mixed"
    store.append(2, b)                  # fits in the open page
    assert store.handle(2).state == "loaded"
    store.append(3, c)                  # fills page 2, page 3, opens page 4
    assert store.handle(1).state == "spilled"
    assert store.handle(2).state == "spilled"
    assert store.handle(3).state == "mixed"
    store.set_budget(10 ** 9)
    assert same(store.take(2), b)       # loads page 2 back
    assert store.handle(3).state == "mixed"    # page 2 loaded, page 3 still on disk
    assert same(store.take(1), a) and same(store.take(3), c)
    store.close()


def test_compaction_keeps_every_node_and_its_order(tmp_path):
    rng = np.random.default_rng(5)
    store = PointStore(REST, 10 ** 9, str(tmp_path), page_points=8)
    model = Model()
    for round_ in range(6):             # interleaved appends: every node on many pages
        for key in range(10):
            cols = random_cols(rng, int(rng.integers(1, 6)))
            model.append(key, cols)
            store.append(key, cols)
    for key in (0, 2, 4, 6, 8, 9):      # leaves the pages sparse
        assert same(store.take(key), model.take(key))
    bytes_before = store.resident_bytes
    freed = store.compact()
    assert freed > 0
    assert store.resident_bytes < bytes_before
    live = sum(store.count(k) for k in store.keys())
    # Every page left but the open one is more than half full (>= 5 of 8 points).
    assert store.resident_bytes <= (live // 5 + 1) * page_bytes(8)
    for key in (1, 3, 5, 7):
        assert store.handle(key).state == "loaded"
        assert same(store.take(key), model.take(key)), f"node {key}"
    store.close()


def test_compaction_then_spill_and_reload(tmp_path):
    rng = np.random.default_rng(6)
    store = PointStore(REST, 10 ** 9, str(tmp_path), page_points=8)
    model = Model()
    for round_ in range(5):
        for key in range(8):
            cols = random_cols(rng, int(rng.integers(1, 7)))
            model.append(key, cols)
            store.append(key, cols)
    for key in (1, 3, 5):
        store.take(key)
        model.take(key)
    store.set_budget(page_bytes(8))     # compacts, then spills what is still over
    assert store.spilled_pages > 0
    for key in (7, 0, 6, 2, 4):
        assert same(store.take(key), model.take(key)), f"node {key}"
    store.close()


def test_spilled_space_is_reused(tmp_path):
    rng = np.random.default_rng(7)
    store = PointStore(REST, 0, str(tmp_path), page_points=8)
    peaks, live_max = [], 0
    for r in range(60):
        store.append(r, random_cols(rng, int(rng.integers(20, 60))))
        if r >= 2:
            store.take(r - 2)
        live_max = max(live_max, store.total_points)
        peaks.append(store.temp_bytes_peak)
    # Never more on disk than the live pages (plus slack for fragmentation),
    # while without reuse the file would hold every page ever spilled.
    page_blob = page_bytes(8) + 64
    assert peaks[-1] <= 2 * (live_max // 8 + 3) * page_blob
    assert store.spilled_pages * page_bytes(8) > 5 * peaks[-1]
    store.close()


def test_close_leaves_nothing_in_the_folder(tmp_path):
    store = PointStore(REST, 0, str(tmp_path), page_points=8)
    store.append(1, random_cols(np.random.default_rng(8), 50))
    assert store.spilled_pages > 0
    store.close()
    assert os.listdir(tmp_path) == []


def test_close_releases_everything(tmp_path):
    store = PointStore(REST, 0, str(tmp_path), page_points=8)
    store.append(1, random_cols(np.random.default_rng(8), 50))
    store.close()
    assert store.keys() == [] and store.resident_bytes == 0 and store.total_points == 0
    store.close()   # twice is harmless


# -- SpillFile ---------------------------------------------------------------------------

def test_spill_file_reuses_freed_space(tmp_path):
    spill = SpillFile(str(tmp_path))
    a = spill.write(b"a" * 100)
    b = spill.write(b"b" * 50)
    c = spill.write(b"c" * 70)
    assert (a, b, c) == (0, 100, 150) and spill.peak == 220
    spill.free(b, 50)
    d = spill.write(b"d" * 30)            # first fit in the hole
    assert d == 100
    e = spill.write(b"e" * 30)            # does not fit the 20 left: at the end
    assert e == 220
    assert spill.read(a, 100) == b"a" * 100 and spill.read(c, 70) == b"c" * 70
    assert spill.read(d, 30) == b"d" * 30 and spill.read(e, 30) == b"e" * 30
    spill.free(e, 30)                     # the end shrinks back
    assert os.path.getsize(spill.path) == 220
    spill.free(c, 70)
    spill.free(d, 30)                     # merges with the 20-byte hole and the end
    assert os.path.getsize(spill.path) == 100
    f = spill.write(b"f" * 120)
    assert f == 100 and spill.peak == 250
    spill.close()


# -- WorkFolder --------------------------------------------------------------------------

def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_work_folder_cleans_stale_folders_of_dead_pids_only(tmp_path):
    dead = tmp_path / f"{PREFIX}{dead_pid()}-abc123"
    mine = tmp_path / f"{PREFIX}{os.getpid()}-def456"
    parent = tmp_path / f"{PREFIX}{os.getppid()}-ghi789"
    numba_cache = tmp_path / f"{PREFIX}numba-{os.getuid()}"
    other = tmp_path / "something-else-1"
    for folder in (dead, mine, parent, numba_cache, other):
        folder.mkdir()
        (folder / "pages.bin").write_bytes(b"x" * 10)
    work = WorkFolder(str(tmp_path))
    assert not dead.exists()
    assert mine.exists() and parent.exists() and numba_cache.exists() and other.exists()
    assert os.path.dirname(work.path) == str(tmp_path)
    assert os.path.basename(work.path).startswith(f"{PREFIX}{os.getpid()}-")
    store = PointStore(REST, 0, work.path, page_points=8)
    store.append(1, random_cols(np.random.default_rng(9), 40))
    store.close()
    work.close()
    assert not os.path.exists(work.path)
    assert sorted(os.listdir(tmp_path)) == sorted(p.name for p in (mine, parent, numba_cache, other))


def test_clean_stale_on_missing_folder_is_harmless(tmp_path):
    """A temp folder that does not exist: not created, and nothing outside it
    touched (a dead build's folder beside it stays)."""
    beside = tmp_path / f"{PREFIX}{dead_pid()}-abc123"
    beside.mkdir()
    (beside / "pages.bin").write_bytes(b"x" * 10)
    clean_stale(str(tmp_path / "does-not-exist"))
    assert sorted(os.listdir(tmp_path)) == [beside.name]
    assert (beside / "pages.bin").read_bytes() == b"x" * 10


# -- codec: compressed page columns round-trip bit for bit ---------------------------
DTYPES = [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64,
          np.float16, np.float32, np.float64, np.bool_]


def codec_sample(rng, dtype, shape, pattern):
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    if pattern == "bytes":          # any bit pattern (NaNs with payloads, extremes)
        arr = np.frombuffer(rng.integers(0, 256, nbytes, dtype=np.uint8).tobytes(), dtype).reshape(shape)
        return arr.copy() if dtype != np.bool_ else (arr.view(np.uint8) & 1).astype(np.bool_)
    if pattern == "ordered":        # what the store holds: nearby points, small steps
        steps = rng.integers(-3, 4, shape)
        arr = np.cumsum(steps, axis=0)
        if dtype.kind == "u":
            arr = arr % (np.iinfo(dtype).max + 1 if dtype.itemsize < 8 else 2 ** 63)
        return arr.astype(dtype)
    if dtype.kind in "iu":          # extremes
        info = np.iinfo(dtype)
        return rng.choice(np.array([info.min, info.max, 0, 1], dtype), shape)
    if dtype.kind == "f":
        return rng.choice(np.array([np.nan, -np.inf, np.inf, -0.0, 0.0, np.finfo(dtype).max,
                                    np.finfo(dtype).tiny], dtype), shape)
    return rng.integers(0, 2, shape).astype(dtype)


@SETTINGS
@given(st.sampled_from(DTYPES), st.sampled_from([(), (1,), (3,), (10,)]), st.integers(0, 300),
       st.sampled_from(["bytes", "ordered", "extremes"]), st.booleans(), st.integers(0, 2 ** 32 - 1))
def test_codec_round_trips(dtype, tail, n, pattern, delta, seed):
    rng = np.random.default_rng(seed)
    arr = codec_sample(rng, dtype, (n,) + tail, pattern)
    blob = codec.compress(arr, delta)
    assert isinstance(blob, bytes)
    out = np.full_like(arr, 1)
    codec.decompress_into(blob, out, delta)
    assert out.tobytes() == arr.tobytes()


@pytest.mark.parametrize("delta", [True, False])
@pytest.mark.parametrize("dtype,tail", [(np.int32, (3,)), (np.float64, ()), (np.uint8, (10,)),
                                        (np.uint8, (0,))])
def test_codec_empty_columns(dtype, tail, delta):
    """An empty column round-trips to an empty one, writing nothing around it
    (the output is a slice of a canary-filled buffer)."""
    arr = np.empty((0,) + tail, dtype)
    blob = codec.compress(arr, delta)
    assert isinstance(blob, bytes)
    buf = np.frombuffer(b"\xa5" * (3 * np.dtype(dtype).itemsize * int(np.prod(tail))),
                        dtype).reshape((3,) + tail).copy()
    before = buf.tobytes()
    codec.decompress_into(blob, buf[1:1], delta)
    assert buf.tobytes() == before


def test_codec_store_columns_and_views():
    """The store's three columns, given as slices of bigger pages."""
    rng = np.random.default_rng(0)
    page_xyz = rng.integers(-2 ** 31, 2 ** 31 - 1, (64, 3), endpoint=True).astype(np.int32)
    page_gps = np.cumsum(rng.uniform(0, 1e-3, 64)) + 3e8
    page_rest = rng.integers(0, 256, (64, 18)).astype(np.uint8)
    for col, delta in ((page_xyz[:40], True), (page_gps[:40], True), (page_rest[:40], False),
                       (page_xyz[::2], True)):        # a strided view too
        out = np.empty_like(col)
        codec.decompress_into(codec.compress(col, delta), out, delta)
        assert np.array_equal(out.view(np.uint8), np.ascontiguousarray(col).view(np.uint8))


def test_codec_compresses_ordered_columns():
    """Neighbouring points: the delta planes must actually compress."""
    rng = np.random.default_rng(1)
    xyz = (np.cumsum(rng.integers(-50, 51, (4096, 3)), axis=0) + 10 ** 6).astype(np.int32)
    assert len(codec.compress(xyz, True)) < xyz.nbytes / 2


def test_spill_and_reload_are_the_same_on_one_and_two_threads(tmp_path):
    """Pages spill together (append_segments) and load ahead (drain), their
    columns coded in parallel: the spill file and every node's points do not
    depend on the thread count."""
    from copc_builder.algorithms.common.threads import set_threads
    from copc_builder.algorithms.store import point_store

    def run(threads, folder):
        rng = np.random.default_rng(11)
        store = PointStore(REST, page_bytes(16) * 40, str(folder), page_points=16)   # loads 8 pages at once
        model = Model()
        with set_threads(threads):
            for _ in range(8):
                cols = random_cols(rng, 400)
                keys = rng.integers(0, 9, len(cols))
                order = np.argsort(keys, kind="stable")
                cols, keys = cols.take(order), keys[order]
                uniq, starts = np.unique(keys, return_index=True)
                bounds = np.append(starts, len(keys))
                store.append_segments(uniq.tolist(), bounds, cols)
                for k, a, b in zip(uniq, bounds[:-1], bounds[1:]):
                    model.append(int(k), cols.slice(int(a), int(b)))
            spilled = (folder / "pages.bin").read_bytes()
            assert store.spilled_pages > 4 * point_store.PREFETCH_PAGES
            taken = {}
            for key in rng.permutation(9):
                taken[int(key)] = store.take(int(key))
                assert same(taken[int(key)], model.take(int(key))), f"node {key}, {threads} threads"
                assert store.resident_bytes <= page_bytes(16) * (40 + 1)
            assert store.loaded_pages > 4 * point_store.PREFETCH_PAGES
        store.close()
        return spilled, taken, store.spilled_pages, store.loaded_pages

    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    one, two = run(1, tmp_path / "one"), run(2, tmp_path / "two")
    assert one[0] == two[0] and one[2:] == two[2:]
    assert all(same(one[1][k], two[1][k]) for k in one[1])


@pytest.mark.parametrize("dtype", [np.int32, np.uint32, np.float64, np.int64, np.uint64, np.int16, np.uint8])
@pytest.mark.parametrize("pattern", ["bytes", "ordered", "extremes"])
def test_delta_planes_are_the_documented_transform(dtype, pattern):
    """kernels.shuffle.delta_shuffle (its 4- and 8-byte loops and the generic
    one) against numpy: wrapping differences, zigzag for signed integers, byte planes."""
    from copc_builder.algorithms.kernels.shuffle import delta_shuffle

    rng = np.random.default_rng(5)
    arr = codec_sample(rng, dtype, (257, 3), pattern)
    values = codec._unsigned(arr)
    bits = 8 * values.itemsize
    u = values.astype(np.uint64)
    mask = np.uint64((1 << bits) - 1)
    d = (u - np.vstack([np.zeros((1, u.shape[1]), np.uint64), u[:-1]])) & mask
    if np.dtype(dtype).kind == "i":
        d = ((d << np.uint64(1)) & mask) ^ ((np.uint64(0) - (d >> np.uint64(bits - 1))) & mask)
    want = np.array([[(int(d[i, c]) >> (8 * b)) & 0xFF for i in range(len(d))]
                     for c in range(d.shape[1]) for b in range(values.itemsize)], np.uint8)
    got = np.empty_like(want)
    delta_shuffle(values, got, np.dtype(dtype).kind == "i")
    assert np.array_equal(got, want)

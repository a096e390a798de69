"""--temporal-index: the COPC Temporal Index Extension, read back with a
parser written from 360-geo's spec (temporal_parse.py) and held against the
GPS times decoded from the file (copc_parse.py), never against the writer's
own code."""
from __future__ import annotations

import numpy as np
import pytest

from copc_builder import build_copc, validate_copc
from copc_builder.algorithms.common.errors import InputError, OptionError
from copc_parse import parse_copc
from temporal_parse import expected_samples, in_subtree, parse_temporal, parse_temporal_data, scan_sequential

laspy = pytest.importorskip("laspy")

ROOT_PAGE_LIMIT = 16 * 1024   # the task: the root page at most 16 KB


def check_index(path, stride: int):
    """Every claim of the index against the decoded points; returns the index."""
    copc = parse_copc(path)
    index = parse_temporal(path)
    assert (index.version, index.stride, index.reserved) == (1, stride, 0)
    nodes = {n.key: n.points["gps_time"] for n in copc.nodes}
    # every node with points once (spec 6.3), and nothing else
    assert set(index.samples) == set(nodes)
    assert index.node_count == len(nodes)
    assert index.page_count == len(index.pages)
    assert index.root_size <= ROOT_PAGE_LIMIT
    for key, gps in nodes.items():
        assert np.all(gps[1:] >= gps[:-1]), f"node {key}: points not sorted by GPS time"
        assert index.samples[key].tobytes() == expected_samples(gps, stride).tobytes(), key
    _check_pointers(index, nodes)
    # the pages: one run right after the 32-byte header, filling the EVLR
    pos = index.data_offset + 32
    for offset, size in sorted((p.offset, p.size) for p in index.pages):
        assert offset == pos
        pos += size
    assert pos == index.data_offset + index.data_size
    for page in index.pages:   # breadth-first key order (spec 6.5)
        assert page.order == sorted(page.order)
    scanned = scan_sequential(open(path, "rb").read(), index.data_offset, index.node_count)
    assert {k: v.tobytes() for k, v in scanned.items()} == {k: v.tobytes() for k, v in index.samples.items()}
    everything = np.concatenate(list(nodes.values()))
    assert (copc.info["gpstime_minimum"], copc.info["gpstime_maximum"]) == (everything.min(), everything.max())
    return index


def _check_pointers(index, nodes):
    by_offset = {p.offset: p for p in index.pages}
    for page in index.pages:
        for p in page.pointers:
            child = by_offset[p.offset]
            assert child.size == p.size and child.depth == page.depth + 1
            assert all(in_subtree(k, p.key) for k in child.nodes + [q.key for q in child.pointers])
            below = np.concatenate([g for k, g in nodes.items() if in_subtree(k, p.key)])
            assert (p.tmin, p.tmax) == (below.min(), below.max()), p.key   # exact (spec 9.3)


def shifted_copy(src, dst, seconds: float, dx: float = 0.0):
    """``src`` as a second pass: the same points, ``seconds`` later."""
    las = laspy.read(str(src))
    las.gps_time = las.gps_time + seconds
    las.x = las.x + dx
    las.write(str(dst))
    return dst


# -- real data ---------------------------------------------------------------------

def test_real_file_every_node(shared_data, tmp_path):
    out = tmp_path / "zurich.copc.laz"
    build_copc(shared_data / "lastools_zurich.laz", out, temporal_index=3, leaf_limit=20_000)
    index = check_index(out, 3)
    assert len(index.samples) > 50 and len(index.pages) > 2
    assert max(p.depth for p in index.pages) >= 2   # pages nested under child pages
    assert validate_copc(out).ok


def test_real_file_stride_100_one_page(shared_data, tmp_path):
    out = tmp_path / "autzen.copc.laz"
    build_copc(shared_data / "pdal_las_autzen_trim.las", out, temporal_index=100)
    index = check_index(out, 100)
    assert len(index.pages) == 1   # small enough for the root page alone


def test_merged_passes(shared_data, tmp_path):
    """Two passes over one area, a day apart: every node against its points,
    and a time window of the second pass selects only nodes that hold it."""
    first = shared_data / "pdal_las_autzen_trim.las"
    second = shifted_copy(first, tmp_path / "second.las", 86_400.0, dx=0.37)
    out = tmp_path / "merged.copc.laz"
    build_copc([first, second], out, temporal_index=5, leaf_limit=5_000)
    index = check_index(out, 5)
    copc = parse_copc(out)
    t0 = laspy.read(str(second)).gps_time.min()
    later = {n.key for n in copc.nodes if np.any(n.points["gps_time"] >= t0)}
    earlier = {n.key for n in copc.nodes if np.any(n.points["gps_time"] < t0)}
    chosen = {k for k, s in index.samples.items() if s[-1] >= t0}
    assert later and earlier
    assert chosen == later


@pytest.mark.parametrize("root_budget, page_budget", [(16384, 262144), (300, 600), (60, 60), (10, 10)])
def test_pages_of_any_tree(root_budget, page_budget):
    """The page builder on a ragged tree (nodes missing between levels), with
    budgets small enough to nest pages deeply, read back by the spec's parser."""
    from copc_builder.algorithms.format import build_temporal_index

    rng = np.random.default_rng(5)
    keys = {1}
    for _ in range(300):
        level = int(rng.integers(1, 8))
        keys.add((1 << 3 * level) | int(rng.integers(0, 8 ** level)))
    samples = {k: np.sort(rng.normal(1e5, 50, int(rng.integers(1, 9)))) for k in keys}
    start = 1000
    data = bytes(start) + build_temporal_index(samples, 9, start, root_budget, page_budget)
    index = parse_temporal_data(data, start, len(data) - start)
    as_xyz = {_xyz(k): s for k, s in samples.items()}
    assert {k: v.tobytes() for k, v in index.samples.items()} == {k: v.tobytes() for k, v in as_xyz.items()}
    assert (index.node_count, index.page_count, index.stride) == (len(keys), len(index.pages), 9)
    assert index.root_size <= max(root_budget, 48)
    for page in index.pages:
        assert page.order == sorted(page.order)
        for p in page.pointers:
            below = [s for k, s in as_xyz.items() if in_subtree(k, p.key)]
            assert (p.tmin, p.tmax) == (min(s[0] for s in below), max(s[-1] for s in below))
    assert sum(p.size for p in index.pages) + 32 == len(data) - start
    if root_budget < 16384:
        assert max(p.depth for p in index.pages) >= 3


def _xyz(packed: int):
    """A packed key (1 << 3*level | Morton code of x, y, z) as (level, x, y, z)."""
    level = (packed.bit_length() - 1) // 3
    code, xyz = packed ^ (1 << 3 * level), [0, 0, 0]
    for bit in range(level):
        for axis in range(3):
            xyz[axis] |= ((code >> (3 * bit + axis)) & 1) << bit
    return (level, *xyz)


# -- determinism -----------------------------------------------------------------------

def pile(n: int) -> np.ndarray:
    """Points piled on two spots, GPS times with many ties: leaves too big
    for a small budget, written in parts."""
    rng = np.random.default_rng(3)
    a = np.zeros(n, [("X", "f8"), ("Y", "f8"), ("Z", "f8"), ("GpsTime", "f8"), ("Intensity", "u2")])
    a["X"] = np.where(np.arange(n) % 2, 1000.0, 1000.02)
    a["Y"] = 2000.0
    a["Z"] = 10.0
    a["GpsTime"] = rng.integers(0, 5000, n) / 10.0
    a["Intensity"] = rng.integers(0, 60000, n)
    return a


def test_same_bytes_whatever_threads_and_budget(tmp_path):
    a = pile(150_000)
    outs = []
    for name, kw in (("plain", {}), ("one", dict(threads=1)),
                     ("two-small", dict(threads=2, memory_budget="2M", page_points=2048))):
        outs.append(tmp_path / f"{name}.copc.laz")
        build_copc(a, outs[-1], scale=0.01, temporal_index=7, **kw)
    assert outs[0].read_bytes() == outs[1].read_bytes() == outs[2].read_bytes()
    check_index(outs[2], 7)


def test_same_bytes_real_file_tiny_budget(shared_data, tmp_path):
    src = shared_data / "pdal_las_autzen_trim.las"
    big, small = tmp_path / "big.copc.laz", tmp_path / "small.copc.laz"
    quiet = build_copc(src, big, temporal_index=4, leaf_limit=3_000, threads=2)
    loud = build_copc(src, small, temporal_index=4, leaf_limit=3_000, threads=1, memory_budget="1M",
                      page_points=256)
    assert big.read_bytes() == small.read_bytes()
    # 110,000 points / 4 * 8 bytes, twice, against a quarter of 1 MB
    assert not any("temporal index at stride" in w for w in quiet.warnings)
    assert any("temporal index at stride 4 takes about 0.4 MB" in w for w in loud.warnings), loud.warnings
    check_index(small, 4)


def test_without_the_option_nothing_changes(shared_data, tmp_path):
    """The index only appends its EVLR and counts it in the header."""
    src = shared_data / "pdal_las_autzen_trim.las"
    plain, indexed = tmp_path / "plain.copc.laz", tmp_path / "indexed.copc.laz"
    build_copc(src, plain, leaf_limit=5_000)
    build_copc(src, indexed, leaf_limit=5_000, temporal_index=50)
    a, b = plain.read_bytes(), indexed.read_bytes()
    assert not any(e["user_id"] == "copc_temporal" for e in parse_copc(plain, decode=False).evlrs)
    evlrs = parse_copc(indexed, decode=False).evlrs
    assert [e["user_id"] for e in evlrs] == ["copc", "qgis", "copc_temporal"]   # statistics are on by default
    assert evlrs[2]["offset"] - 60 == len(a)
    assert int.from_bytes(a[243:247], "little") + 1 == int.from_bytes(b[243:247], "little")
    assert a[:243] + a[247:] == b[:243] + b[247:len(a)]


# -- validate and info ---------------------------------------------------------------------

def corrupt(path, at: int, raw: bytes):
    data = bytearray(path.read_bytes())
    data[at:at + len(raw)] = raw
    path.write_bytes(bytes(data))


@pytest.fixture
def indexed(shared_data, tmp_path):
    out = tmp_path / "indexed.copc.laz"
    build_copc(shared_data / "pdal_las_autzen_trim.las", out, temporal_index=20, leaf_limit=5_000)
    assert validate_copc(out).ok
    return out, parse_temporal(out)


def test_validate_flags_a_changed_sample(indexed):
    out, index = indexed
    key, samples = next((k, s) for k, s in index.samples.items() if len(s) > 2)
    raw = open(out, "rb").read()
    at = raw.find(samples.tobytes())
    corrupt(out, at + 8, np.array([samples[1] + 0.5]).tobytes())
    report = validate_copc(out)
    assert "temporal.samples" in report.checks("error"), [str(f) for f in report.findings]


def test_validate_flags_a_wrong_pointer_range(indexed):
    out, index = indexed
    pointer = next(p for page in index.pages for p in page.pointers)
    raw = open(out, "rb").read()
    head = np.array(pointer.key, "<i4").tobytes() + bytes(4) + np.array([pointer.offset], "<u8").tobytes()
    at = raw.find(head)
    corrupt(out, at + 32, np.array([pointer.tmin - 1.0]).tobytes())
    assert "temporal.pointer" in validate_copc(out).checks("error")


def test_validate_flags_a_wrong_header(indexed):
    out, index = indexed
    corrupt(out, index.data_offset + 8, np.array([index.node_count + 1], "<u4").tobytes())
    assert "temporal.header" in validate_copc(out).checks("error")


def test_validate_flags_a_missing_node(indexed):
    out, index = indexed
    # The root page's first entry is the root node: make it a level-9 node.
    corrupt(out, index.root_offset, np.array([9], "<i4").tobytes())
    assert "temporal.nodes" in validate_copc(out).checks("error")


def _packed(key) -> int:
    level, x, y, z = key
    code = 0
    for bit in range(level):
        code |= ((x >> bit & 1) | (y >> bit & 1) << 1 | (z >> bit & 1) << 2) << 3 * bit
    return 1 << 3 * level | code


def test_validate_accepts_one_big_page_with_a_warning(indexed):
    """Another writer's layout (everything in a root page over 16 KB) is
    valid, with a warning; and the checks still look at every node."""
    from copc_builder.algorithms.format import build_temporal_index

    out, index = indexed
    samples = {_packed(k): s for k, s in index.samples.items()}
    assert {_xyz(p) for p in samples} == set(index.samples)
    data = build_temporal_index(samples, 20, index.data_offset, root_budget=1 << 30)
    raw = bytearray(out.read_bytes()[:index.data_offset] + data)
    raw[index.data_offset - 60 + 20:index.data_offset - 60 + 28] = len(data).to_bytes(8, "little")
    out.write_bytes(bytes(raw))
    one = parse_temporal(out)
    assert len(one.pages) == 1 and one.root_size > ROOT_PAGE_LIMIT
    report = validate_copc(out)
    assert report.ok and "temporal.pages" in report.checks("warning"), [str(f) for f in report.findings]
    first = next(iter(one.samples))
    corrupt(out, one.root_offset + 20, np.array([one.samples[first][0] - 1], "<f8").tobytes())
    assert "temporal.samples" in validate_copc(out).checks("error")


def test_info_shows_the_index(indexed):
    from copc_builder.algorithms.inspection.info import copc_info, format_info

    out, index = indexed
    info = copc_info(out)
    t = info["temporal_index"]
    assert (t["stride"], t["nodes"], t["pages"]) == (20, index.node_count, len(index.pages))
    assert t["samples"] == sum(len(s) for s in index.samples.values())
    assert "Temporal index: stride 20" in format_info(info)


# -- refusals ---------------------------------------------------------------------------------------

def test_no_gps_time_is_refused(shared_data, tmp_path):
    src = shared_data / "lazrs_point10.laz"   # point format 0
    with pytest.raises(InputError, match=r"lazrs_point10\.laz.*no GPS time.*point format 0"):
        build_copc(src, tmp_path / "o.copc.laz", temporal_index=10)
    arrays = np.zeros(10, [("X", "f8"), ("Y", "f8"), ("Z", "f8")])
    with pytest.raises(InputError, match="no GpsTime dimension"):
        build_copc(arrays, tmp_path / "a.copc.laz", temporal_index=10)
    assert not list(tmp_path.iterdir())


def test_one_input_without_gps_time_warns(shared_data, tmp_path):
    out = tmp_path / "o.copc.laz"
    summary = build_copc([shared_data / "lazrs_point10.laz", shared_data / "lazrs_point-time.laz"], out,
                         temporal_index=10)
    assert any("lazrs_point10.laz" in w and "no GPS time" in w for w in summary.warnings)
    check_index(out, 10)


@pytest.mark.parametrize("stride", [0, -1, 1 << 32])
def test_bad_stride(tmp_path, stride):
    arrays = np.zeros(10, [("X", "f8"), ("Y", "f8"), ("Z", "f8"), ("GpsTime", "f8")])
    with pytest.raises(OptionError, match="temporal index stride"):
        build_copc(arrays, tmp_path / "a.copc.laz", temporal_index=stride)


# -- the parser is the spec's, not ours -----------------------------------------------------------

ALLOWED_IMPORTS = {"__future__", "struct", "dataclasses", "typing", "numpy"}


def test_parser_shares_no_code_with_the_product():
    import temporal_parse
    from parser_guard import top_level_imports

    imported = top_level_imports(temporal_parse.__file__)
    assert imported, "no imports found: the walk is broken"
    assert imported <= ALLOWED_IMPORTS, sorted(imported - ALLOWED_IMPORTS)

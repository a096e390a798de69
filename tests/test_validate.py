"""validate_copc on real files (known good and known bad) and on copies
corrupted one field at a time, each of which must fail the right check.

Corruptions are placed with the test-side parser (tests/copc_parse.py), not
with the product's reader, so a wrong offset in one cannot hide in the other.
"""
import os
import shutil
import struct
from collections import Counter

import laspy
import pytest

from copc_builder.algorithms.common.errors import BuildCancelled
from copc_builder.algorithms.validate import (
    MAX_FINDINGS_PER_CHECK,
    ValidationReport,
    format_report,
    validate_copc,
)
from copc_parse import parse_copc
from fixtures import copy_with_child_page, patch

# Expected findings of every COPC file in shared/data, as (error checks,
# warning checks).  Files with a point a hair outside its node's cube fail
# "points.cube": we allow no tolerance, as copc-validator does not either
# (see shared/data/PROVENANCE.md).
EXPECTED = {
    # The reference file: passes everything.
    "copcvalidator_ellipsoid.copc.laz": (set(), set()),
    # PDAL's writer: passes everything (its unnamed WKT parses with pyproj).
    "pdal_copc_lone-star.copc.laz": (set(), set()),
    # PDAL-written (laspy's test data): one point 1.1e-13 below node 3-0-0-0's z min.
    "laspy_simple.copc.laz": ({"points.cube"}, set()),
    # The same points with the hierarchy split into 2 pages: same finding.
    "laspy_simple_with_page.copc.laz": ({"points.cube"}, set()),
    # las-rs test file, one node: one point 3.4e-13 below the root cube's z min.
    "lasrs_autzen.copc.laz": ({"points.cube"}, set()),
    # PDAL tindex test files, one node: one point 0.001 above the root cube's z max.
    "pdal_tindex_autzen_clip_4326.copc.laz": ({"points.cube"}, set()),
    "pdal_tindex_autzen_clip_native.copc.laz": ({"points.cube"}, set()),
    # Pre-1.0 COPC: the info VLR's GPS range is [42, 42], points reach 42.99999.
    "copcvalidator_ellipsoid.old.copc.laz": ({"gpstime"}, set()),
}

GOOD = "copcvalidator_ellipsoid.copc.laz"       # one hierarchy page, 2 levels


def hierarchy_summary(path):
    """(points, nodes, pages, depth, {level: (nodes, points)}) of a COPC file, from
    the test-side parser; the point total is also checked against the header, laspy
    and the points the parser decoded."""
    parsed = parse_copc(path)
    nodes, points = Counter(), Counter()
    for e in parsed.entries:
        nodes[e.key[0]] += 1
        points[e.key[0]] += e.point_count
    total = sum(points.values())
    with laspy.open(path) as f:
        assert total == parsed.header["point_count"] == f.header.point_count == len(parsed.all_points())
    levels = {lv: (nodes[lv], points[lv]) for lv in sorted(nodes)}
    return total, len(parsed.entries), len(parsed.pages), max(levels) + 1, levels


def _errors(report: ValidationReport) -> set:
    return report.checks("error")


def _messages(report: ValidationReport, check: str) -> str:
    return "\n".join(f.message for f in report.findings if f.check == check)


# --------------------------------------------------------------------------
# Real files

@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shared_copc_files_give_expected_findings(shared_data, name):
    errors, warnings = EXPECTED[name]
    report = validate_copc(shared_data / name)
    assert _errors(report) == errors, format_report(report)
    assert report.checks("warning") == warnings, format_report(report)
    assert report.ok == (not errors)
    assert report.decoded_points == report.points > 0


def test_reference_file_summary(shared_data):
    report = validate_copc(shared_data / GOOD)
    assert report.ok and report.findings == []
    points, nodes, pages, depth, levels = hierarchy_summary(shared_data / GOOD)
    assert points > 0 and depth >= 2, "the test needs a file with more than a root node"
    assert (report.points, report.nodes, report.pages, report.depth) == (points, nodes, pages, depth)
    assert report.levels == levels
    assert report.decoded_points == points


def test_two_page_hierarchy_is_walked(shared_data):
    path = shared_data / "laspy_simple_with_page.copc.laz"
    report = validate_copc(path)
    points, nodes, pages, depth, levels = hierarchy_summary(path)
    assert pages >= 2, "the test needs a hierarchy in more than one page"
    assert report.pages == pages
    assert report.nodes == nodes and report.points == points and report.depth == depth
    assert report.levels == levels


def test_tiny_outside_point_is_reported_with_numbers(shared_data):
    report = validate_copc(shared_data / "laspy_simple.copc.laz")
    (finding,) = [f for f in report.findings if f.check == "points.cube"]
    assert finding.message.startswith("node 3-0-0-0: 1 point outside its cube")
    # The coordinates are printed exactly enough to show a 1e-13 miss.
    assert "406.59000000000003" in finding.message and "406.59000000000015" in finding.message


def test_old_copc_gps_range_message(shared_data):
    report = validate_copc(shared_data / "copcvalidator_ellipsoid.old.copc.laz")
    text = _messages(report, "gpstime")
    assert "[42.0, 42.0]" in text and "42.99999" in text


def test_known_bad_file_fails_clearly(shared_data):
    path = shared_data / "copcvalidator_bad-ellipsoid.copc.laz"
    report = validate_copc(path)
    assert not report.ok
    assert {"header.point_format", "header.offsets", "vlrs"} <= _errors(report)
    assert f"past the end of the file ({os.path.getsize(path)} bytes)" in _messages(report, "header.offsets")


def test_plain_laz_is_not_copc(shared_data):
    report = validate_copc(shared_data / "copcvalidator_ellipsoid-1.4.laz")
    assert "info.missing" in _errors(report)
    assert "not a COPC file" in _messages(report, "info.missing")


def test_las_12_file_fails_version_and_format(shared_data):
    report = validate_copc(shared_data / "laspy_simple.las")
    assert {"header.version", "header.size", "header.point_format", "info.missing"} <= _errors(report)


def test_not_a_las_file(tmp_path):
    path = tmp_path / "notes.copc.laz"
    path.write_bytes(b"hello, this is text and not a point cloud at all" * 10)
    report = validate_copc(path)
    assert _errors(report) == {"file"}
    assert "LASF" in report.findings[0].message


def test_missing_file(tmp_path):
    report = validate_copc(tmp_path / "nope.copc.laz")
    assert _errors(report) == {"file"}
    assert "cannot open" in report.findings[0].message


def test_format_report_lists_findings_then_verdict(shared_data):
    good = format_report(validate_copc(shared_data / GOOD)).splitlines()
    points, nodes, _, depth, _ = hierarchy_summary(shared_data / GOOD)
    assert len(good) == 1 and f"valid COPC 1.0 ({points:,} points in {nodes} nodes, {depth} levels" in good[0]
    report = validate_copc(shared_data / "copcvalidator_ellipsoid.old.copc.laz")
    bad = format_report(report).splitlines()
    assert len(bad) == len(report.findings) + 1
    assert bad[0].startswith("ERROR   gpstime:")
    assert "NOT a valid COPC 1.0 file (1 error, 0 warnings)" in bad[-1]


def test_progress_events_and_cancel(shared_data):
    events = []

    class Observer:
        def on_progress(self, event):
            events.append(event)

    path = shared_data / "pdal_copc_lone-star.copc.laz"
    validate_copc(path, observer=Observer())
    with laspy.open(path) as f:
        points = f.header.point_count
    assert points == parse_copc(path, decode=False).header["point_count"] > 0
    fractions = [e.fraction for e in events]
    assert len(events) >= 2 and fractions == sorted(fractions)
    assert fractions[-1] == 1.0 and events[-1].done == events[-1].total == points

    polls = []

    def cancel():
        polls.append(1)
        return len(polls) > 2          # cancel after the second node

    with pytest.raises(BuildCancelled):
        validate_copc(shared_data / "pdal_copc_lone-star.copc.laz", cancel=cancel)
    assert len(polls) == 3


# --------------------------------------------------------------------------
# Corrupted copies

@pytest.fixture
def good_copy(shared_data, tmp_path):
    """A writable copy of the reference file and its independent parse."""
    path = tmp_path / "copy.copc.laz"
    shutil.copyfile(shared_data / GOOD, path)
    path.chmod(0o644)
    return path, parse_copc(path, decode=False)


def _entry_at(parsed, key):
    """File offset of the hierarchy entry for ``key`` (single-page files)."""
    (page_offset, page_size), = parsed.pages
    data = open(parsed.path, "rb").read()
    for at in range(page_offset, page_offset + page_size, 32):
        if struct.unpack_from("<4i", data, at) == tuple(key):
            return at
    raise KeyError(key)


# Offsets inside the structures, from the specs.
INFO = 429                 # info VLR data: first VLR (at 375) + 54-byte VLR header
INFO_HALFSIZE, INFO_SPACING, INFO_ROOT_SIZE, INFO_GPS_MAX, INFO_RESERVED = 24, 32, 48, 64, 72
ENTRY_KEY_X, ENTRY_OFFSET, ENTRY_SIZE, ENTRY_COUNT = 4, 16, 24, 28


def test_corrupt_copy_baseline_is_valid(good_copy):
    path, _ = good_copy
    assert validate_copc(path).findings == []


def test_info_vlr_not_first(good_copy):
    path, parsed = good_copy
    info, laz = parsed.vlrs[0], parsed.vlrs[1]
    data = bytearray(path.read_bytes())
    first = data[info["header_offset"]:info["offset"] + info["size"]]
    second = data[laz["header_offset"]:laz["offset"] + laz["size"]]
    data[375:375 + len(first) + len(second)] = second + first     # same bytes, swapped
    path.write_bytes(bytes(data))
    report = validate_copc(path)
    assert _errors(report) == {"info.first"}, format_report(report)
    assert "VLR 2 of 4" in _messages(report, "info.first")


def test_info_vlr_wrong_size(good_copy):
    """An info VLR of 168 bytes, every later offset shifted so nothing else breaks."""
    path, parsed = good_copy
    data = bytearray(path.read_bytes())
    shift = 8
    struct.pack_into("<H", data, 375 + 20, 160 + shift)            # record length
    h = parsed.header
    struct.pack_into("<I", data, 96, h["offset_to_point_data"] + shift)
    struct.pack_into("<Q", data, 235, h["evlr_start"] + shift)
    struct.pack_into("<Q", data, INFO + 40, parsed.info["root_hier_offset"] + shift)
    (table,) = struct.unpack_from("<q", data, h["offset_to_point_data"])
    struct.pack_into("<q", data, h["offset_to_point_data"], table + shift)
    (page_offset, page_size), = parsed.pages
    for at in range(page_offset, page_offset + page_size, 32):
        (off,) = struct.unpack_from("<Q", data, at + ENTRY_OFFSET)
        struct.pack_into("<Q", data, at + ENTRY_OFFSET, off + shift)
    data[INFO + 160:INFO + 160] = bytes(shift)
    path.write_bytes(bytes(data))
    report = validate_copc(path)
    assert _errors(report) == {"info.size"}, format_report(report)
    assert "168 bytes, must be 160" in _messages(report, "info.size")


def test_info_vlr_too_short_stops_copc_checks(good_copy):
    path, _ = good_copy
    patch(path, 375 + 20, "H", 100)
    report = validate_copc(path)
    assert "info.size" in _errors(report)
    assert report.decoded_points == 0


def test_chunk_size_not_variable(good_copy):
    path, parsed = good_copy
    laz = parsed.vlrs[1]
    assert laz["user_id"] == "laszip encoded"
    patch(path, laz["offset"] + 12, "I", 50_000)
    report = validate_copc(path)
    assert "laz.chunk_size" in _errors(report)
    assert "50000" in _messages(report, "laz.chunk_size")


@pytest.mark.parametrize("delta", [-1, +1])
def test_hierarchy_entry_with_wrong_point_count(good_copy, delta):
    path, parsed = good_copy
    node = parsed.node((1, 1, 0, 0))
    patch(path, _entry_at(parsed, node.key) + ENTRY_COUNT, "i", node.point_count + delta)
    report = validate_copc(path)
    assert {"node.count", "chunk_table", "counts.total"} <= _errors(report), format_report(report)
    assert f"node 1-1-0-0: the hierarchy says {node.point_count + delta} points, its LAZ chunk " \
           f"holds {node.point_count}" in _messages(report, "node.count")
    # The validator decodes what the chunk really holds, and checks those (one
    # point short when the entry says one fewer: it decodes the count it was told).
    total = sum(e.point_count for e in parsed.entries)
    assert total == parsed.header["point_count"] > 0
    assert report.decoded_points == total + min(delta, 0)


def test_hierarchy_byte_range_past_end(good_copy):
    path, parsed = good_copy
    at = _entry_at(parsed, (1, 0, 1, 0))
    patch(path, at + ENTRY_OFFSET, "Q", path.stat().st_size - 100)
    report = validate_copc(path)
    assert "hierarchy.byte_range" in _errors(report)
    assert "node 1-0-1-0" in _messages(report, "hierarchy.byte_range")
    assert "past the end of the file" in _messages(report, "hierarchy.byte_range")


def test_hierarchy_byte_range_outside_point_data(good_copy):
    path, parsed = good_copy
    at = _entry_at(parsed, (1, 0, 1, 0))
    patch(path, at + ENTRY_OFFSET, "Q", 500)            # inside the VLRs
    report = validate_copc(path)
    assert {"hierarchy.byte_range", "chunk_table"} <= _errors(report)
    assert "outside the point data" in _messages(report, "hierarchy.byte_range")


def test_overlapping_chunks(good_copy):
    path, parsed = good_copy
    a, b = parsed.node((1, 0, 0, 0)), parsed.node((1, 1, 0, 0))
    patch(path, _entry_at(parsed, b.key) + ENTRY_OFFSET, "Q", a.offset + 16)
    report = validate_copc(path)
    assert "hierarchy.overlap" in _errors(report)
    assert "1-0-0-0" in _messages(report, "hierarchy.overlap")


@pytest.mark.parametrize("cut", [100, 300_000])
def test_truncated_file(good_copy, cut):
    path, _ = good_copy
    data = path.read_bytes()
    path.write_bytes(data[:-cut])
    report = validate_copc(path)
    assert not report.ok
    # The hierarchy EVLR (the file's last 220 bytes) is gone either way.
    assert "evlrs" in _errors(report), format_report(report)
    assert "hierarchy.page" in _errors(report)
    if cut > 1000:     # chunks and chunk table are cut too
        assert "chunk_table" in _errors(report)


def test_truncated_to_header(good_copy):
    path, _ = good_copy
    path.write_bytes(path.read_bytes()[:200])
    report = validate_copc(path)
    assert _errors(report) == {"file"}
    assert "too short" in report.findings[0].message


def test_node_key_outside_its_level(good_copy):
    path, parsed = good_copy
    patch(path, _entry_at(parsed, (1, 1, 1, 0)) + ENTRY_KEY_X, "i", 2)   # x = 2 >= 2**1
    report = validate_copc(path)
    assert "hierarchy.key" in _errors(report)
    assert "node 1-2-1-0" in _messages(report, "hierarchy.key")


def test_duplicate_key(good_copy):
    path, parsed = good_copy
    patch(path, _entry_at(parsed, (1, 1, 1, 0)), "4i", 1, 0, 1, 0)
    report = validate_copc(path)
    assert "hierarchy.duplicate" in _errors(report)
    assert "node 1-0-1-0 has two entries" in _messages(report, "hierarchy.duplicate")


def test_node_without_parent(good_copy):
    path, parsed = good_copy
    patch(path, _entry_at(parsed, (1, 1, 1, 0)), "4i", 2, 3, 3, 1)      # parent 1-1-1-0 absent now
    report = validate_copc(path)
    assert "hierarchy.parent" in _errors(report)
    assert "node 2-3-3-1 has no parent node 1-1-1-0" in _messages(report, "hierarchy.parent")


def test_gps_range_wrong(good_copy):
    path, parsed = good_copy
    patch(path, INFO + INFO_GPS_MAX, "d", parsed.info["gpstime_maximum"] + 1.0)
    report = validate_copc(path)
    assert _errors(report) == {"gpstime"}


def test_header_bounds_wrong(good_copy):
    path, parsed = good_copy
    patch(path, 179, "d", parsed.header["max_x"] + 1.0)                   # max x
    report = validate_copc(path)
    assert _errors(report) == {"bounds"}
    assert "header max x" in _messages(report, "bounds")


def test_header_bounds_unrounded_double_is_accepted(good_copy):
    """A bound a tenth of a scale step off the points' is the same quantized value."""
    path, parsed = good_copy
    patch(path, 187, "d", parsed.header["min_x"] - 0.1 * parsed.header["scale"][0])
    assert validate_copc(path).findings == []


def test_point_outside_its_cube(good_copy):
    path, parsed = good_copy
    patch(path, INFO + INFO_HALFSIZE, "d", parsed.info["halfsize"] * 0.9)
    report = validate_copc(path)
    assert _errors(report) == {"points.cube"}
    text = _messages(report, "points.cube")
    assert "node 0-0-0-0:" in text and "first at (" in text and "cube [(" in text


def test_many_offending_nodes_are_summed_up(shared_data, tmp_path):
    path = tmp_path / "simple.copc.laz"
    shutil.copyfile(shared_data / "laspy_simple.copc.laz", path)
    path.chmod(0o644)
    parsed = parse_copc(path, decode=False)
    patch(path, INFO + INFO_HALFSIZE, "d", parsed.info["halfsize"] * 0.5)
    report = validate_copc(path)
    cube = [f for f in report.findings if f.check == "points.cube"]
    # 5 nodes in detail, one total, one "... more not shown"; not 65 lines.
    assert len(cube) == MAX_FINDINGS_PER_CHECK + 2
    assert any(f.message.startswith("in all, ") for f in cube)
    assert any("more findings of this check not shown" in f.message for f in cube)


def test_wkt_bit_cleared(good_copy):
    path, parsed = good_copy
    patch(path, 6, "H", parsed.header["global_encoding"] & ~0x10)
    assert _errors(validate_copc(path)) == {"header.wkt_bit"}


def test_laz_bit_cleared(good_copy):
    path, _ = good_copy
    patch(path, 104, "B", 7)
    report = validate_copc(path)
    assert _errors(report) == {"header.point_format"}
    assert "0x80" in _messages(report, "header.point_format")


def test_points_by_return_wrong(good_copy):
    path, parsed = good_copy
    patch(path, 255, "Q", parsed.header["points_by_return"][0] + 1)
    patch(path, 111, "I", parsed.header["points_by_return"][0] + 1)    # keep legacy consistent
    assert _errors(validate_copc(path)) == {"counts.by_return"}


def test_legacy_count_wrong(good_copy):
    path, _ = good_copy
    patch(path, 107, "I", 12)
    assert _errors(validate_copc(path)) == {"header.legacy_counts"}


def test_reserved_and_spacing(good_copy):
    path, _ = good_copy
    patch(path, INFO + INFO_SPACING, "d", 0.0)
    patch(path, INFO + INFO_RESERVED, "Q", 7)
    assert _errors(validate_copc(path)) == {"info.spacing", "info.reserved"}


def test_extra_bytes_vlr_inconsistent(good_copy):
    path, parsed = good_copy
    eb = parsed.vlrs[3]
    assert eb["user_id"] == "LASF_Spec"
    patch(path, eb["offset"] + 2, "B", 9)              # f8 -> f4: 4 bytes described, 8 present
    report = validate_copc(path)
    assert _errors(report) == {"extra_bytes"}
    assert "describes 4 bytes per point" in _messages(report, "extra_bytes")


def test_unparseable_wkt_is_a_warning(good_copy):
    path, parsed = good_copy
    wkt = parsed.vlrs[2]
    data = bytearray(path.read_bytes())
    data[wkt["offset"]:wkt["offset"] + wkt["size"]] = b"NOT A CRS".ljust(wkt["size"], b"\0")
    path.write_bytes(bytes(data))
    report = validate_copc(path)
    assert report.ok and report.checks("warning") == {"crs.wkt"}


def test_empty_wkt_is_an_error(good_copy):
    path, parsed = good_copy
    wkt = parsed.vlrs[2]
    data = bytearray(path.read_bytes())
    data[wkt["offset"]:wkt["offset"] + wkt["size"]] = bytes(wkt["size"])
    path.write_bytes(bytes(data))
    assert _errors(validate_copc(path)) == {"crs.wkt"}


def test_root_page_size_not_multiple_of_32(good_copy):
    path, _ = good_copy
    patch(path, INFO + INFO_ROOT_SIZE, "Q", 33)
    report = validate_copc(path)
    assert "hierarchy.page" in _errors(report)
    assert "not a positive multiple of 32" in _messages(report, "hierarchy.page")


def test_child_page_pointer_past_end(shared_data, tmp_path):
    path, _, pointer = copy_with_child_page(shared_data / "laspy_simple_with_page.copc.laz", tmp_path)
    patch(path, pointer + ENTRY_OFFSET, "Q", path.stat().st_size + 1000)
    report = validate_copc(path)
    assert {"hierarchy.page", "hierarchy.pointer", "chunk_table", "counts.total"} <= _errors(report)
    assert "past the end of the file" in _messages(report, "hierarchy.page")


@pytest.mark.parametrize("name", ["lasrs_autzen.copc.laz", "laspy_simple_with_page.copc.laz"])
def test_random_damage_never_raises(shared_data, tmp_path, name):
    """Bytes flipped anywhere, or the file cut anywhere: a report, never a traceback."""
    import random

    data = (shared_data / name).read_bytes()
    rng = random.Random(20240611)
    path = tmp_path / name
    for _ in range(40):
        damaged = bytearray(data)
        pos = rng.choice([rng.randrange(0, 2000), rng.randrange(len(data) - 2200, len(data))])
        if rng.random() < 0.2:
            damaged = damaged[:pos]
        else:
            for j in range(rng.randint(1, 4)):
                damaged[min(pos + j, len(damaged) - 1)] = rng.randrange(256)
        path.write_bytes(bytes(damaged))
        report = validate_copc(path)       # must not raise
        assert report.path == str(path)


def test_chunk_byte_size_disagrees_with_chunk(good_copy):
    path, parsed = good_copy
    node = parsed.node((1, 1, 1, 0))                  # last chunk: nothing follows it
    patch(path, _entry_at(parsed, node.key) + ENTRY_SIZE, "i", node.byte_size - 10)
    report = validate_copc(path)
    assert {"node.chunk_size", "chunk_table"} <= _errors(report)
    assert f"its LAZ chunk's layers make {node.byte_size}" in _messages(report, "node.chunk_size")


def test_negative_point_count(good_copy):
    path, parsed = good_copy
    patch(path, _entry_at(parsed, (1, 1, 1, 0)) + ENTRY_COUNT, "i", -5)
    report = validate_copc(path)
    assert {"hierarchy.entry", "counts.total"} <= _errors(report)
    assert "point count -5" in _messages(report, "hierarchy.entry")


def test_missing_root(good_copy):
    path, parsed = good_copy
    patch(path, _entry_at(parsed, (0, 0, 0, 0)), "4i", -1, 0, 0, 0)     # level -1
    report = validate_copc(path)
    assert {"hierarchy.key", "hierarchy.root", "hierarchy.parent"} <= _errors(report)


def test_root_page_too_short_leaves_hierarchy_bytes_unused(good_copy):
    path, _ = good_copy
    patch(path, INFO + INFO_ROOT_SIZE, "Q", 4 * 32)        # the 5th entry is cut off
    report = validate_copc(path)
    assert report.checks("warning") == {"hierarchy.unused"}
    assert "32 bytes of the hierarchy EVLR" in _messages(report, "hierarchy.unused")
    assert {"counts.total", "chunk_table"} <= _errors(report)


def test_broken_evlr_chain_is_one_finding(good_copy):
    """The EVLR chain runs past the end: reported once, and the rest (the
    VLRs, the CRS, the hierarchy and the points) is still checked as if the
    file had no EVLRs, without the same failure showing up again."""
    path, parsed = good_copy
    patch(path, 243, "I", 3)                          # number of EVLRs: 1 -> 3
    report = validate_copc(path)
    assert _errors(report) == {"evlrs"} and report.warnings == []
    assert "EVLR 2 of 3" in _messages(report, "evlrs")
    assert report.decoded_points == report.points == parsed.header["point_count"]


# --------------------------------------------------------------------------
# Extra Bytes ranges (generated file: runs without ../shared)

@pytest.fixture
def typed_copc(tmp_path):
    """A COPC built from fixtures.write_typed_extra, with the offset of each
    extra dimension's descriptor (test-side parse)."""
    from copc_builder import build_copc
    from fixtures import TYPED_EXTRA, write_typed_extra

    src = write_typed_extra(tmp_path / "typed.las", n=3_000, seed=5)
    out = tmp_path / "typed.copc.laz"
    build_copc([str(src)], str(out))
    eb = next(r for r in parse_copc(out, decode=False).vlrs if (r["user_id"], r["record_id"]) == ("LASF_Spec", 4))
    return out, {name: eb["offset"] + 192 * k for k, (name, _, _) in enumerate(TYPED_EXTRA)}


def test_extra_bytes_values_outside_declared_range(typed_copc):
    path, at = typed_copc
    assert validate_copc(path).ok
    real_max = struct.unpack_from("<Q", path.read_bytes(), at["u1v"] + 88)[0]
    real_min = struct.unpack_from("<q", path.read_bytes(), at["i8v"] + 64)[0]
    patch(path, at["u1v"] + 88, "Q", real_max - 1)            # max below the points' max
    patch(path, at["i8v"] + 64, "q", real_min + 1)            # min above the points' min
    report = validate_copc(path)
    assert _errors(report) == {"extra_bytes.range"}
    text = _messages(report, "extra_bytes.range")
    assert "'u1v': the points' raw values run from" in text and f"to {real_max}, outside" in text
    assert f"max {real_max - 1}" in text
    assert f"from {real_min} to" in text and f"min {real_min + 1} " in text


def test_extra_bytes_wider_range_and_no_data_are_valid(typed_copc):
    path, at = typed_copc
    patch(path, at["u4v"] + 64, "Q", 0)                       # a wider declared range
    patch(path, at["u4v"] + 88, "Q", 2**32 - 1)
    patch(path, at["u2v"] + 64, "Q", 1)                       # points at 0 hold no_data (0)
    assert struct.unpack_from("<Q", path.read_bytes(), at["u2v"] + 40)[0] == 0
    report = validate_copc(path)
    assert report.ok and not report.checks(), format_report(report)

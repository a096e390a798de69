"""copc_info / format_info on real COPC and plain LAS/LAZ files.

Expected values come from readers that share no code with the product: the
test-side parser (tests/copc_parse.py), laspy, pyproj on the WKT the parser
found, and the LAZ VLR decoded here from the LASzip spec.
"""
import json
import os
import struct
from collections import Counter

import laspy
import numpy as np
import pyproj
import pytest

from copc_builder.algorithms.common.errors import InputError
from copc_builder.algorithms.inspection.info import copc_info, format_info
from copc_parse import parse_copc

# LASzip VLR item types and compressors (laszip.hpp: LASitem::Type, LASZIP_COMPRESSOR_*).
LAZ_ITEM_TYPES = {0: "BYTE", 1: "SHORT", 2: "INT", 3: "LONG", 4: "FLOAT", 5: "DOUBLE", 6: "POINT10",
                  7: "GPSTIME11", 8: "RGB12", 9: "WAVEPACKET13", 10: "POINT14", 11: "RGB14",
                  12: "RGBNIR14", 13: "WAVEPACKET14", 14: "BYTE14"}
LAZ_COMPRESSORS = {0: "none", 1: "pointwise", 2: "pointwise chunked", 3: "layered chunked"}


def laz_vlr_bytes(path) -> bytes:
    """The LASzip VLR's data, found by walking the VLR headers (LAS spec)."""
    data = open(path, "rb").read()
    (header_size,) = struct.unpack_from("<H", data, 94)
    (count,) = struct.unpack_from("<I", data, 100)
    at = header_size
    for _ in range(count):
        user = data[at + 2:at + 18].split(b"\0")[0]
        record_id, size = struct.unpack_from("<HH", data, at + 18)
        if (user, record_id) == (b"laszip encoded", 22204):
            return data[at + 54:at + 54 + size]
        at += 54 + size
    raise AssertionError(f"{path}: no LASzip VLR")


def laz_vlr(raw: bytes) -> dict:
    """The LASzip VLR's fields, from its layout in laszip.cpp."""
    compressor, coder, major, minor, revision, options, chunk_size = struct.unpack_from("<HHBBHII", raw, 0)
    (n_items,) = struct.unpack_from("<H", raw, 32)
    items = [struct.unpack_from("<HHH", raw, 34 + 6 * k) for k in range(n_items)]
    assert len(raw) == 34 + 6 * n_items
    return {"compressor": compressor, "chunk_size": chunk_size,
            "variable_chunks": chunk_size == 0xFFFFFFFF,
            "items": [{"type": t, "name": LAZ_ITEM_TYPES[t], "size": s, "version": v} for t, s, v in items]}


def expected_levels(entries) -> list:
    """[{level, nodes, points, bytes, bytes_per_point}] from the parser's hierarchy
    entries (empty nodes count; bytes are the node entries' byte sizes)."""
    nodes = Counter(e.key[0] for e in entries)
    points = Counter()
    sizes = Counter()
    for e in entries:
        points[e.key[0]] += e.point_count
        sizes[e.key[0]] += e.byte_size if e.point_count > 0 else 0
    return [{"level": lv, "nodes": nodes[lv], "points": points[lv], "bytes": sizes[lv],
             "bytes_per_point": sizes[lv] / points[lv] if points[lv] else None} for lv in sorted(nodes)]


def las_version(h) -> str:
    return f"{h['version_major']}.{h['version_minor']}"


def test_copc_file_info(shared_data):
    path = shared_data / "copcvalidator_ellipsoid.copc.laz"
    info = copc_info(path)
    json.dumps(info)                                   # plain data only
    parsed = parse_copc(path)
    h = parsed.header
    with laspy.open(path) as f:
        laspy_count = f.header.point_count
    assert info["is_copc"] is True
    assert info["file_size"] == os.path.getsize(path)
    assert (info["las_version"], info["point_format"], info["point_record_length"]) == \
        (las_version(h), h["point_format"], h["point_record_length"])
    assert info["compressed"] is True and h["point_format_byte"] & 0x80
    assert info["point_count"] == h["point_count"] == laspy_count == len(parsed.all_points()) > 0
    assert info["points_by_return"] == h["points_by_return"]
    assert info["scale"] == h["scale"] and info["offset"] == h["offset"]
    crs = pyproj.CRS.from_wkt(parsed.wkt)
    assert info["crs"]["name"] == crs.name
    assert info["crs"]["epsg"] == crs.to_epsg() is not None
    assert parsed.extra_dims, "the test needs a file with extra dimensions"
    assert [(d["name"], d["type"], d["size"]) for d in info["extra_dims"]] == \
        [(name, np.dtype(t).str.lstrip("<|"), np.dtype(t).itemsize) for name, t in parsed.extra_dims]
    laz, want_laz = info["laz"], laz_vlr(parsed.laz_vlr)
    assert laz["variable_chunks"] is want_laz["variable_chunks"] is True
    assert laz["compressor_name"] == LAZ_COMPRESSORS[want_laz["compressor"]]
    assert [(i["type"], i["name"], i["size"], i["version"]) for i in laz["items"]] == \
        [(i["type"], i["name"], i["size"], i["version"]) for i in want_laz["items"]]
    copc, want = info["copc"], parsed.info
    assert copc["center"] == want["center"] and copc["halfsize"] == want["halfsize"]
    assert copc["spacing"] == want["spacing"]
    assert (copc["gpstime_minimum"], copc["gpstime_maximum"]) == (want["gpstime_minimum"], want["gpstime_maximum"])
    gps = parsed.all_points()["gps_time"]
    assert want["gpstime_minimum"] <= gps.min() and gps.max() <= want["gpstime_maximum"]
    assert copc["cube"] == {"min": [c - want["halfsize"] for c in want["center"]],
                            "max": [c + want["halfsize"] for c in want["center"]]}
    levels = expected_levels(parsed.entries)
    assert len(levels) >= 2, "the test needs a file with more than a root node"
    assert (copc["pages"], copc["nodes"], copc["depth"], copc["points"]) == \
        (len(parsed.pages), len(parsed.entries), levels[-1]["level"] + 1, h["point_count"])
    assert copc["levels"] == levels
    assert copc["info_vlr_first"] is True
    assert (parsed.vlrs[0]["user_id"], parsed.vlrs[0]["record_id"]) == ("copc", 1)
    assert [(v["user_id"], v["record_id"]) for v in info["evlrs"]] == \
        [(e["user_id"], e["record_id"]) for e in parsed.evlrs]
    assert info["problems"] == []


def test_two_page_hierarchy_info(shared_data):
    path = shared_data / "laspy_simple_with_page.copc.laz"
    info = copc_info(path)
    parsed = parse_copc(path, decode=False)
    with laspy.open(path) as f:
        laspy_count = f.header.point_count
    copc = info["copc"]
    levels = expected_levels(parsed.entries)
    assert len(parsed.pages) >= 2, "the test needs a hierarchy in more than one page"
    assert (copc["pages"], copc["nodes"], copc["depth"]) == \
        (len(parsed.pages), len(parsed.entries), levels[-1]["level"] + 1)
    assert copc["levels"] == levels
    assert sum(row["points"] for row in copc["levels"]) == info["point_count"] == \
        parsed.header["point_count"] == laspy_count > 0
    assert info["crs"]["name"] == pyproj.CRS.from_wkt(parsed.wkt).name


def test_format_info_text(shared_data):
    path = shared_data / "copcvalidator_ellipsoid.copc.laz"
    text = format_info(copc_info(path))
    parsed = parse_copc(path, decode=False)
    h = parsed.header
    by_return = list(h["points_by_return"])
    while by_return and by_return[-1] == 0:
        by_return.pop()
    assert len(by_return) >= 2, "the test needs points of more than one return"
    returns = "  ".join(f"{k + 1}: {c:,}" for k, c in enumerate(by_return))
    crs = pyproj.CRS.from_wkt(parsed.wkt)
    levels = expected_levels(parsed.entries)
    lines = text.splitlines()
    assert lines[0].startswith("File:") and f"{os.path.getsize(path):,} bytes" in lines[0]
    assert (f"COPC 1.0; LAS {las_version(h)}, point format {h['point_format']} (LAZ), "
            f"{h['point_record_length']}-byte records") in text
    assert f"Points:     {h['point_count']:,}  (by return  {returns})" in text
    assert f"CRS:        {crs.name} (EPSG:{crs.to_epsg()})" in text
    assert "Extra dims: " + ", ".join(f"{name} ({np.dtype(t).str.lstrip('<|')})"
                                      for name, t in parsed.extra_dims) in text
    assert (f"Hierarchy:  {len(parsed.entries)} nodes in {len(parsed.pages)} page, {len(levels)} levels, "
            f"{h['point_count']:,} points") in text
    assert len(parsed.pages) == 1 and levels[1]["nodes"] > 1 and levels[1]["points"] > 1
    assert f"  level 1:  {levels[1]['nodes']} nodes, {levels[1]['points']:,} points" in text


def test_plain_las_file_is_not_copc(shared_data):
    path = shared_data / "laspy_autzen.las"
    info = copc_info(path)
    with laspy.open(path) as f:
        h = f.header
    assert info["is_copc"] is False and info["copc"] is None and info["laz"] is None
    assert (info["las_version"], info["point_format"], info["point_count"]) == \
        (f"{h.version.major}.{h.version.minor}", h.point_format.id, h.point_count)
    assert info["las_version"] == "1.2"               # the case this test is about
    # LAS 1.2: the CRS comes from GeoTIFF keys (through laspy + pyproj).
    assert info["crs"]["geotiff"] is True and info["crs"]["wkt"] is None
    assert info["crs"]["name"] == "NAD83(HARN) / Oregon GIC Lambert (ft)"
    text = format_info(info)
    assert (f"not a COPC file; LAS {h.version.major}.{h.version.minor}, point format {h.point_format.id} "
            "(uncompressed)") in text
    assert "Hierarchy" not in text


@pytest.mark.parametrize("name", [
    "lastools_sample.laz",                                            # LAS 1.2 format 1: POINT10, GPSTIME11
    "laspy_simple.laz",                                               # format 3: POINT10, GPSTIME11, RGB12
    "laspy_1_4_w_evlr.laz",                                           # LAS 1.4: POINT14 ...
])
def test_laz_items_named_as_laszip_numbers_them(shared_data, name):
    """LAZ 1.2 files too (POINT10 is type 6, GPSTIME11 7, RGB12 8; BYTE is 0)."""
    path = shared_data / name
    laz = copc_info(path)["laz"]
    want = laz_vlr(laz_vlr_bytes(path))
    assert [(i["type"], i["name"], i["size"], i["version"]) for i in laz["items"]] == \
        [(i["type"], i["name"], i["size"], i["version"]) for i in want["items"]]
    assert laz["compressor_name"] == LAZ_COMPRESSORS[want["compressor"]]
    assert laz["variable_chunks"] is want["variable_chunks"]


def test_plain_laz_14_with_wkt(shared_data):
    info = copc_info(shared_data / "laspy_1_4_w_evlr.laz")
    assert info["is_copc"] is False and info["compressed"] is True
    assert info["laz"] is not None and info["laz"]["variable_chunks"] is False
    assert info["crs"]["name"] == "NAD83(HARN) / New Mexico Central (ftUS)"
    assert "not a COPC file" in format_info(info)


def test_empty_wkt_is_reported(shared_data):
    info = copc_info(shared_data / "pdal_las_warsaw_small.las")
    # The WKT VLR holds just two quote characters (PROVENANCE: "empty string").
    assert info["crs"]["name"] is None and info["crs"]["wkt"] == "''"
    assert "Invalid WKT" in info["crs"]["error"]
    assert "WKT present but not understood" in format_info(info)


def test_unnamed_geocentric_wkt(shared_data):
    path = shared_data / "pdal_copc_lone-star.copc.laz"
    info = copc_info(path)
    parsed = parse_copc(path, decode=False)
    assert parsed.wkt.startswith('GEOCCS["unnamed"')      # the case this test is about
    assert info["crs"]["wkt"] == parsed.wkt
    assert info["crs"]["name"] == pyproj.CRS.from_wkt(parsed.wkt).name == "unnamed"
    assert info["copc"]["nodes"] == len(parsed.entries) and info["point_format"] == parsed.header["point_format"]


def test_corrupt_file_lists_problems_instead_of_raising(shared_data):
    info = copc_info(shared_data / "copcvalidator_bad-ellipsoid.copc.laz")
    assert info["copc"] is None
    assert len(info["problems"]) == 1 and "past the end of the file" in info["problems"][0]
    assert "Problem:" in format_info(info)


def test_not_a_las_file_raises(tmp_path):
    path = tmp_path / "x.laz"
    path.write_bytes(b"PK\x03\x04" + bytes(400))
    with pytest.raises(InputError, match="not a LAS file"):
        copc_info(path)


def test_is_copc_sniffs_the_first_vlr(shared_data, tmp_path):
    from copc_builder.algorithms.copc_file import is_copc

    assert is_copc(shared_data / "laspy_simple_with_page.copc.laz")
    assert not is_copc(shared_data / "copcvalidator_ellipsoid-1.4.laz")     # LAZ 1.4, not COPC
    assert not is_copc(shared_data / "copcvalidator_bad-ellipsoid.copc.laz")
    assert not is_copc(tmp_path / "missing.copc.laz")


def test_extra_dims_ranges_typed_by_data_type(tmp_path):
    """min, max and no_data read as their data type says (uint64, int64,
    double), scale and offset where set, checked against the descriptor bytes
    cut by the test-side parser; the input's array types are their members."""
    from copc_builder import build_copc
    from fixtures import TYPED_EXTRA, write_typed_extra

    src = write_typed_extra(tmp_path / "typed.las", n=2_000, seed=6)
    out = tmp_path / "typed.copc.laz"
    build_copc([str(src)], str(out))
    eb = next(r for r in parse_copc(out, decode=False).vlrs if (r["user_id"], r["record_id"]) == ("LASF_Spec", 4))
    data = out.read_bytes()
    info = copc_info(out)
    text = format_info(info)
    members = []          # (name, element type, no_data, scale, offset): an array as its members
    for name, t, params in TYPED_EXTRA:
        dt = np.dtype(t)
        if not dt.shape:
            members.append((name, dt, (params.get("no_data") or [None])[0], params.get("scales"),
                            params.get("offsets")))
        for i in range(dt.shape[0] if dt.shape else 0):
            nd = params.get("no_data")
            members.append((f"{name}[{i}]", dt.base, None if nd is None else nd[i], None, None))
    assert len(info["extra_dims"]) == len(members)
    for k, ((name, element, nd, scales, offsets), dim) in enumerate(zip(members, info["extra_dims"])):
        d = data[eb["offset"] + 192 * k:eb["offset"] + 192 * (k + 1)]
        storage = {"u": "<u8", "i": "<i8", "f": "<f8"}[element.kind]
        lo, hi = (np.frombuffer(d, storage, 1, at).tolist() for at in (64, 88))
        assert (dim["name"], dim["min"], dim["max"]) == (name, lo[0], hi[0]), name
        assert dim["no_data"] == (None if nd is None else np.array(nd, storage).tolist())
        assert dim["scale"] == scales and dim["offset"] == offsets
        assert f"  {name}:" in text and f"range {_shown(lo)} .. {_shown(hi)} (raw)" in text, name
    assert "u8v" in text and f"range 0 .. {2**64 - 1} (raw)" in text
    assert f"range {-2**63} .. {2**63 - 1} (raw)" in text
    assert "scale 0.01, offset 100" in text and "no data -9999.5" in text
    assert all(f"  triple[{i}]: range" in text for i in range(3)) and "no data 3" in text


def _shown(values) -> str:
    """How format_info shows values: ints in full, floats to 15 digits, arrays in brackets."""
    shown = [str(v) if isinstance(v, int) else f"{v:.15g}" for v in values]
    return shown[0] if len(shown) == 1 else "[" + ", ".join(shown) + "]"

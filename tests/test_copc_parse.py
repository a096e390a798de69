"""The test-side parser (tests/copc_parse.py) against laspy on real files.

Other tests trust copc_parse to read our writer's output, so it is checked
here against an implementation that is neither ours nor its own.
"""
import numpy as np
import pytest

from copc_parse import CopcParseError, parse_copc, pdal_columns

laspy = pytest.importorskip("laspy")

GOOD_COPC = [
    "copcvalidator_ellipsoid.copc.laz",
    "laspy_simple.copc.laz",
    "laspy_simple_with_page.copc.laz",
    "lasrs_autzen.copc.laz",
    "pdal_copc_lone-star.copc.laz",
]


def _sorted_rows(columns: dict, names) -> np.ndarray:
    """Rows as a 2-D float array sorted lexicographically (order-free compare)."""
    table = np.stack([np.asarray(columns[n], dtype=np.float64) for n in names], axis=1)
    return table[np.lexsort(table.T[::-1])]


@pytest.mark.parametrize("name", GOOD_COPC)
def test_parse_matches_laspy(shared_data, name):
    path = shared_data / name
    copc = parse_copc(path)
    las = laspy.read(path)
    assert copc.header["point_count"] == las.header.point_count
    assert copc.header["point_format"] == las.header.point_format.id
    # One chunk per non-empty node, in file order, with the same counts and sizes.
    assert [(n.point_count, n.byte_size) for n in copc.nodes] == copc.chunk_table
    position = copc.header["offset_to_point_data"] + 8
    for node in copc.nodes:
        assert node.offset == position
        position += node.byte_size
    assert sum(n.point_count for n in copc.nodes) == len(las.points)
    cols = pdal_columns(copc, copc.all_points())
    ours = _sorted_rows(cols, ["X", "Y", "Z", "GpsTime", "Intensity", "ReturnNumber",
                               "NumberOfReturns", "Classification", "PointSourceId"])
    theirs = _sorted_rows({"X": las.x, "Y": las.y, "Z": las.z, "GpsTime": las.gps_time,
                           "Intensity": las.intensity, "ReturnNumber": las.return_number,
                           "NumberOfReturns": las.number_of_returns,
                           "Classification": las.classification,
                           "PointSourceId": las.point_source_id},
                          ["X", "Y", "Z", "GpsTime", "Intensity", "ReturnNumber",
                           "NumberOfReturns", "Classification", "PointSourceId"])
    assert np.array_equal(ours, theirs)


def test_all_pdal_columns_match_laspy(shared_data):
    path = shared_data / "copcvalidator_ellipsoid.copc.laz"
    copc = parse_copc(path)
    points = copc.all_points()
    cols = pdal_columns(copc, points)
    # laspy reads the nodes in the same file order, so rows line up.
    las = laspy.read(path)
    pairs = {"Red": "red", "Green": "green", "Blue": "blue", "UserData": "user_data",
             "Synthetic": "synthetic", "KeyPoint": "key_point", "Withheld": "withheld",
             "Overlap": "overlap", "ScanChannel": "scanner_channel",
             "ScanDirectionFlag": "scan_direction_flag", "EdgeOfFlightLine": "edge_of_flight_line",
             "InvertedIntensity": "InvertedIntensity", "X": "x", "GpsTime": "gps_time"}
    for ours, theirs in pairs.items():
        assert np.array_equal(cols[ours], np.asarray(las[theirs])), ours
    assert np.allclose(cols["ScanAngleRank"], np.asarray(las.scan_angle) * 0.006)
    assert copc.extra_dims == [("InvertedIntensity", "<f8")]
    assert cols["Red"].dtype == np.uint16 and cols["X"].dtype == np.float64


def test_two_pages(shared_data):
    copc = parse_copc(shared_data / "laspy_simple_with_page.copc.laz", decode=False)
    assert len(copc.pages) == 2
    assert len(copc.entries) == 65 and len(copc.chunk_table) == 65
    assert copc.nodes[0].points is None                    # decode=False


def test_info_and_cube(shared_data):
    copc = parse_copc(shared_data / "copcvalidator_ellipsoid.copc.laz")
    assert copc.info["halfsize"] == 150.0 and copc.info["reserved"] == [0] * 11
    assert copc.wkt.startswith("PROJCS[") or copc.wkt.startswith("PROJCRS[")
    for node in copc.nodes:
        low, high = copc.cube(node.key)
        xyz = copc.xyz(node.points)
        assert np.all(xyz >= low) and np.all(xyz <= high), node.key


def test_cube_miss_in_laspy_simple(shared_data):
    """The parser sees the same 1e-13 miss the validator reports (PROVENANCE)."""
    copc = parse_copc(shared_data / "laspy_simple.copc.laz")
    misses = {}
    for node in copc.nodes:
        low, high = copc.cube(node.key)
        xyz = copc.xyz(node.points)
        out = np.any((xyz < low) | (xyz > high), axis=1)
        if out.any():
            misses[node.key] = int(out.sum())
    assert misses == {(3, 0, 0, 0): 1}


def test_not_copc_raises(shared_data):
    with pytest.raises(CopcParseError, match="no COPC info VLR"):
        parse_copc(shared_data / "copcvalidator_ellipsoid-1.4.laz")


def test_garbage_raises(tmp_path):
    path = tmp_path / "bad.copc.laz"
    path.write_bytes(b"XXXX" + bytes(500))
    with pytest.raises(CopcParseError, match="not LASF"):
        parse_copc(path)


ALLOWED_IMPORTS = {"__future__", "io", "struct", "dataclasses", "typing", "numpy", "lazrs"}


def test_shares_no_code_with_the_product():
    """Every import of copc_parse, at any depth, is of the standard library
    or numpy/lazrs: none of the product, nor of a test module that could
    lead to it; no import by other means."""
    import copc_parse
    from parser_guard import top_level_imports

    imported = top_level_imports(copc_parse.__file__)
    assert imported, "no imports found: the walk is broken"
    assert imported <= ALLOWED_IMPORTS, sorted(imported - ALLOWED_IMPORTS)

"""copc_info / format_info on real COPC and plain LAS/LAZ files."""
import json
import os

import pytest

from copc_builder.algorithms.errors import InputError
from copc_builder.algorithms.info import copc_info, format_info


def test_copc_file_info(shared_data):
    path = shared_data / "copcvalidator_ellipsoid.copc.laz"
    info = copc_info(path)
    json.dumps(info)                                   # plain data only
    assert info["is_copc"] is True
    assert info["file_size"] == os.path.getsize(path)
    assert (info["las_version"], info["point_format"], info["point_record_length"]) == ("1.4", 7, 44)
    assert info["compressed"] is True
    assert info["point_count"] == 200_000
    assert info["points_by_return"][:3] == [100_004, 99_996, 0]
    assert info["scale"] == [0.01, 0.01, 0.01]
    assert info["crs"]["name"] == "WGS 84 / Pseudo-Mercator"
    assert info["crs"]["epsg"] == 3857
    assert [(d["name"], d["type"], d["size"]) for d in info["extra_dims"]] == [("InvertedIntensity", "f8", 8)]
    laz = info["laz"]
    assert laz["variable_chunks"] and laz["compressor_name"] == "layered chunked"
    assert [i["name"] for i in laz["items"]] == ["POINT14", "RGB14", "BYTE14"]
    copc = info["copc"]
    assert copc["center"] == [-8242596.0, 4966656.0, 100.0] and copc["halfsize"] == 150.0
    assert copc["spacing"] == 2.34375
    assert (copc["gpstime_minimum"], copc["gpstime_maximum"]) == (42.0, 42.99999)
    assert copc["cube"] == {"min": [-8242746.0, 4966506.0, -50.0], "max": [-8242446.0, 4966806.0, 250.0]}
    assert (copc["pages"], copc["nodes"], copc["depth"], copc["points"]) == (1, 5, 2, 200_000)
    assert copc["levels"] == [{"level": 0, "nodes": 1, "points": 66_272},
                              {"level": 1, "nodes": 4, "points": 133_728}]
    assert copc["info_vlr_first"] is True
    assert [(v["user_id"], v["record_id"]) for v in info["evlrs"]] == [("copc", 1000)]
    assert info["problems"] == []


def test_two_page_hierarchy_info(shared_data):
    info = copc_info(shared_data / "laspy_simple_with_page.copc.laz")
    copc = info["copc"]
    assert copc["pages"] == 2 and copc["nodes"] == 65 and copc["depth"] == 4
    assert sum(row["points"] for row in copc["levels"]) == info["point_count"] == 1065
    assert info["crs"]["name"] == "NAD83 / Oregon LCC (m) + NAVD88 height (ftUS)"


def test_format_info_text(shared_data):
    text = format_info(copc_info(shared_data / "copcvalidator_ellipsoid.copc.laz"))
    lines = text.splitlines()
    assert lines[0].startswith("File:") and "1,184,402 bytes" in lines[0]
    assert "COPC 1.0; LAS 1.4, point format 7 (LAZ), 44-byte records" in text
    assert "Points:     200,000  (by return  1: 100,004  2: 99,996)" in text
    assert "CRS:        WGS 84 / Pseudo-Mercator (EPSG:3857)" in text
    assert "Extra dims: InvertedIntensity (f8)" in text
    assert "Hierarchy:  5 nodes in 1 page, 2 levels, 200,000 points" in text
    assert "  level 1:  4 nodes, 133,728 points" in text


def test_plain_las_file_is_not_copc(shared_data):
    info = copc_info(shared_data / "laspy_autzen.las")
    assert info["is_copc"] is False and info["copc"] is None and info["laz"] is None
    assert (info["las_version"], info["point_format"], info["point_count"]) == ("1.2", 1, 106)
    # LAS 1.2: the CRS comes from GeoTIFF keys (through laspy + pyproj).
    assert info["crs"]["geotiff"] is True and info["crs"]["wkt"] is None
    assert info["crs"]["name"] == "NAD83(HARN) / Oregon GIC Lambert (ft)"
    text = format_info(info)
    assert "not a COPC file; LAS 1.2, point format 1 (uncompressed)" in text
    assert "Hierarchy" not in text


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
    info = copc_info(shared_data / "pdal_copc_lone-star.copc.laz")
    assert info["crs"]["name"] == "unnamed" and info["crs"]["wkt"].startswith('GEOCCS["unnamed"')
    assert info["copc"]["nodes"] == 15 and info["point_format"] == 6


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

"""CRS, frame, hierarchy pages and warnings through the Python API."""
from __future__ import annotations

import laspy
import numpy as np
import pyproj
import pytest

from copc_builder import InputError, OptionError, build_copc, validate_copc
from copc_parse import parse_copc
from fixtures import write_las
from hostile_helpers import assert_holds_files
from reference import check_nodes_contain_points, copc_records, copclib_total, output_format_for


def wkt_of(path):
    copc = parse_copc(path, decode=False)
    return copc.wkt


def test_crs_kept_and_assigned(tmp_path):
    a = write_las(tmp_path / "a.las", n=500, crs="EPSG:25832")
    out = tmp_path / "a.copc.laz"
    build_copc(a, out)
    assert pyproj.CRS.from_wkt(wkt_of(out)).to_epsg() == 25832
    build_copc(a, out, a_srs="EPSG:2056")
    assert pyproj.CRS.from_wkt(wkt_of(out)).to_epsg() == 2056


def test_different_crs_refused_unless_assigned(tmp_path):
    n = 500
    a = write_las(tmp_path / "a.las", n=n, crs="EPSG:25832")
    b = write_las(tmp_path / "b.las", n=n, crs="EPSG:25833", seed=3)
    with pytest.raises(InputError, match="b.las: its CRS differs from that of .*a.las"):
        build_copc([a, b], tmp_path / "x.copc.laz")
    assert not (tmp_path / "x.copc.laz").exists()
    summary = build_copc([a, b], tmp_path / "x.copc.laz", a_srs="EPSG:25832")
    assert summary.points == 2 * n
    assert_holds_files(tmp_path / "x.copc.laz", [a, b])


def test_no_crs_no_wkt_vlr_and_a_warning(tmp_path):
    a = write_las(tmp_path / "a.las", n=300)
    summary = build_copc(a, tmp_path / "a.copc.laz")
    assert wkt_of(tmp_path / "a.copc.laz") is None
    assert any("no CRS" in w for w in summary.warnings)


def test_geotiff_keys_become_wkt(tmp_path, shared_data):
    out = tmp_path / "g.copc.laz"
    build_copc(shared_data / "pdal_las_test_utm17.las", out)   # GeoTIFF keys only
    crs = pyproj.CRS.from_wkt(wkt_of(out))
    assert crs.to_epsg() == 32617


def test_waveform_dropped_with_warning(tmp_path, shared_data):
    src = shared_data / "laspy_fullwave.laz"
    out = tmp_path / "w.copc.laz"
    summary = build_copc(src, out)
    with laspy.open(src) as f:
        in_format, in_points = f.header.point_format.id, f.header.point_count
    assert in_format == 10 and in_points > 0               # the case this test is about
    assert summary.point_format == output_format_for([in_format]) and summary.points == in_points
    assert any("waveform" in w for w in summary.warnings)
    assert_holds_files(out, [src])                          # every point once, wave packet fields gone


def test_different_scales_merge_without_loss(tmp_path):
    a = write_las(tmp_path / "a.las", n=400, scale=0.01, seed=1)
    b = write_las(tmp_path / "b.las", n=400, scale=0.001, seed=2, offset=(500_000.0, 4_000_000.0, 0.0))
    out = tmp_path / "ab.copc.laz"
    build_copc([a, b], out)
    with laspy.open(out) as f:
        assert np.allclose(f.header.scales, 0.001)
    # Whole records, compared as sorted rows: every point once, its x, y and z together.
    assert_holds_files(out, [a, b])
    got = laspy.read(out)
    want = np.concatenate([np.stack([laspy.read(p).x, laspy.read(p).y, laspy.read(p).z], 1) for p in (a, b)])
    have = np.stack([got.x, got.y, got.z], 1)
    have, want = np.round(have, 3), np.round(want, 3)
    by_row = lambda xyz: xyz[np.lexsort(xyz.T[::-1])]          # noqa: E731  (rows kept whole)
    assert np.array_equal(by_row(have), by_row(want))


def test_far_apart_inputs_keep_precision(tmp_path):
    """Two tiles 3,000 km apart at 1 mm: the offsets differ, the output frame
    must hold both without overflowing int32 or rounding."""
    a = write_las(tmp_path / "a.las", n=300, scale=0.001, offset=(100_000.0, 100_000.0, 0.0), seed=1)
    b = write_las(tmp_path / "b.las", n=300, scale=0.001, offset=(1_100_000.0, 1_100_000.0, 0.0), seed=2)
    out = tmp_path / "ab.copc.laz"
    build_copc([a, b], out)
    got = laspy.read(out)
    for p in (a, b):
        src = laspy.read(p)
        mask = np.abs(got.x - src.x.min()) < 1_000
        assert np.array_equal(np.sort(np.round(got.x[mask], 3)), np.sort(np.round(src.x, 3)))
    assert validate_copc(out).ok
    assert_holds_files(out, [a, b])                         # whole records, every point once


def test_bad_options(tmp_path):
    a = write_las(tmp_path / "a.las", n=100)
    for bad in (dict(scale=0), dict(scale=-0.01), dict(memory_budget="0"), dict(threads=0)):
        with pytest.raises(OptionError):
            build_copc(a, tmp_path / "x.copc.laz", **bad)
    assert not (tmp_path / "x.copc.laz").exists()


def test_hierarchy_in_several_pages(tmp_path):
    """A small tree forced into pages of 2 levels: readers we did not write
    still find every node and point."""
    n = 60_000
    a = write_las(tmp_path / "a.laz", n=n, point_format=6, seed=4)
    out = tmp_path / "p.copc.laz"
    summary = build_copc(a, out, leaf_limit=500, hierarchy_page_levels=2)
    copc = check_nodes_contain_points(out)
    assert len(copc.pages) > 1 and summary.depth >= 3
    assert len(copc_records(str(out))) == n
    total, count = copclib_total(str(out))
    assert total == count == n
    assert validate_copc(out).ok
    assert_holds_files(out, [a])

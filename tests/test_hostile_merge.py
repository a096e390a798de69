"""Inputs that do not match (issue 6): different point formats (merged, and
converted to the output format), extra-bytes schemas (same name with another
type refused naming both files; other names merged), CRSs (refused unless
one is assigned)."""
from __future__ import annotations

import laspy
import numpy as np
import pyproj
import pytest

from copc_builder import InputError, build_copc
from copc_parse import parse_copc
from fixtures import write_rich
from hostile_helpers import (api_refused, assert_holds_files, cli_refused, folders, listing,
                             output_frame, pdal_array, run_cli)


# -- point formats -------------------------------------------------------------------------
@pytest.mark.parametrize("formats, out_format", [
    ((0, 1, 6), 6),
    ((0, 2, 3, 6), 7),
    ((1, 3, 5, 7, 8, 10), 8),
])
def test_different_point_formats_merge(tmp_path, formats, out_format):
    paths = [write_rich(tmp_path / f"pf{pf}{'.laz' if k % 2 else '.las'}", pf, seed=k)
             for k, pf in enumerate(formats)]
    out_dir, tmp_dir = folders(tmp_path)
    out = out_dir / "merged.copc.laz"
    r = run_cli("build", *paths, "-o", out, "--temp-dir", tmp_dir)
    assert r.returncode == 0, r.stderr
    assert output_frame(out)[0] == out_format
    assert_holds_files(out, paths)
    if any(pf in (4, 5, 9, 10) for pf in formats):
        assert "waveform" in r.stderr
    assert listing(tmp_dir) == []


def test_old_las_versions_merge(tmp_path):
    v10 = write_rich(tmp_path / "v10.las", 1, version="1.1", seed=1)
    data = bytearray(v10.read_bytes())
    data[25] = 0    # version minor: LAS 1.0 has the 1.1 header layout
    v10.write_bytes(bytes(data))
    paths = [v10,
             write_rich(tmp_path / "v11.las", 0, version="1.1", seed=2),
             write_rich(tmp_path / "v13.las", 3, version="1.3", seed=3),
             write_rich(tmp_path / "v14.laz", 8, version="1.4", seed=4)]
    out_dir, tmp_dir = folders(tmp_path)
    out = out_dir / "merged.copc.laz"
    build_copc(paths, out, temp_dir=tmp_dir, memory_budget="2M", page_points=256)
    assert output_frame(out)[0] == 8
    assert_holds_files(out, paths)
    assert listing(tmp_dir) == []


# -- extra-bytes schemas ----------------------------------------------------------------------
def test_same_extra_name_other_type_refused(tmp_path):
    a = write_rich(tmp_path / "alpha.las", 6, extra=[("height", "f4")], seed=1)
    b = write_rich(tmp_path / "beta.laz", 6, extra=[("height", "i2")], seed=2)
    names = ["alpha.las", "beta.laz", "height"]
    cli_refused(tmp_path, [a, b], "extra dimension", names=names)
    api_refused(tmp_path, [a, b], InputError, "extra dimension", names=names)


def test_same_extra_name_other_type_refused_array_and_file(tmp_path):
    a = write_rich(tmp_path / "alpha.las", 6, extra=[("height", "f4")], seed=1)
    arr = pdal_array(100, extra=[("height", "u2")], origin=(500_000.0, 4_000_000.0, 0.0))
    api_refused(tmp_path, [a, arr], InputError, "extra dimension", names=["alpha.las", "height"])


def test_different_extra_names_merge(tmp_path):
    a = write_rich(tmp_path / "alpha.las", 6, extra=[("height", "f4"), ("ring", "u1")], seed=1)
    b = write_rich(tmp_path / "beta.laz", 7, extra=[("quality", "i2"), ("height", "f4")], seed=2)
    c = write_rich(tmp_path / "gamma.las", 3, seed=3)
    out_dir, tmp_dir = folders(tmp_path)
    out = out_dir / "merged.copc.laz"
    r = run_cli("build", a, b, c, "-o", out, "--temp-dir", tmp_dir)
    assert r.returncode == 0, r.stderr
    pf, _, _, extra = output_frame(out)
    assert pf == 7 and sorted(extra) == [("height", 4), ("quality", 2), ("ring", 1)]
    assert_holds_files(out, [a, b, c])
    # The test-side parser reads the extra-bytes VLR: one entry per input name, types kept.
    copc = parse_copc(out, decode=False)
    inputs = {}
    for p in (a, b, c):
        with laspy.open(p) as f:
            inputs.update({d.name: np.dtype(d.dtype) for d in f.header.point_format.extra_dimensions})
    names = [name for name, _ in copc.extra_dims]
    assert sorted(names) == sorted(inputs), (names, sorted(inputs))
    assert {name: np.dtype(t) for name, t in copc.extra_dims} == inputs
    assert listing(tmp_dir) == []


def test_extra_dims_arrays_and_file_merge(tmp_path):
    """An array's extra dimension and a file's, by name; types kept."""
    a = write_rich(tmp_path / "alpha.las", 6, extra=[("height", "f4")], seed=1, n=500)
    arr = pdal_array(400, extra=[("height", "f4"), ("label", "i8")], origin=(500_000.0, 4_000_000.0, 0.0))
    out_dir, tmp_dir = folders(tmp_path)
    out = out_dir / "mixed.copc.laz"
    build_copc([a, arr], out, temp_dir=tmp_dir, scale=0.01)
    pf, _, _, extra = output_frame(out)
    assert sorted(extra) == [("height", 4), ("label", 8)]
    with laspy.open(out) as f:
        assert f.header.point_count == 900
    las = laspy.read(out)
    src = laspy.read(a)
    assert np.array_equal(np.sort(np.concatenate([src["height"], arr["height"]])), np.sort(las["height"]))
    assert np.array_equal(np.sort(np.concatenate([np.zeros(500, "i8"), arr["label"]])), np.sort(las["label"]))


# -- CRSs --------------------------------------------------------------------------------------
def test_different_crs_refused_unless_assigned_cli(tmp_path):
    a = write_rich(tmp_path / "zone32.las", 6, crs="EPSG:25832", seed=1)
    b = write_rich(tmp_path / "zone33.las", 6, crs="EPSG:25833", seed=2)
    cli_refused(tmp_path, [a, b], "CRS differs", names=["zone32.las", "zone33.las"])
    api_refused(tmp_path, [a, b], InputError, "CRS differs", names=["zone32.las", "zone33.las"])
    out_dir, tmp_dir = folders(tmp_path)
    out = out_dir / "assigned.copc.laz"
    r = run_cli("build", a, b, "-o", out, "--temp-dir", tmp_dir, "--a-srs", "EPSG:25832")
    assert r.returncode == 0, r.stderr
    assert pyproj.CRS.from_wkt(parse_copc(out, decode=False).wkt).to_epsg() == 25832
    assert_holds_files(out, [a, b])


def test_crs_on_one_input_only_warns(tmp_path):
    a = write_rich(tmp_path / "with.las", 6, crs="EPSG:25832", seed=1)
    b = write_rich(tmp_path / "without.las", 6, seed=2)
    out_dir, tmp_dir = folders(tmp_path)
    out = out_dir / "x.copc.laz"
    summary = build_copc([a, b], out, temp_dir=tmp_dir)
    assert any("without.las" in w and "no CRS" in w for w in summary.warnings), summary.warnings
    assert pyproj.CRS.from_wkt(parse_copc(out, decode=False).wkt).to_epsg() == 25832


def test_unknown_assigned_crs_refused(tmp_path):
    a = write_rich(tmp_path / "a.las", 6, seed=1)
    cli_refused(tmp_path, [a], "EPSG:999999", "--a-srs", "EPSG:999999")

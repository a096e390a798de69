"""--t-srs (issue 22) against PROJ's own command line, cs2cs, point by point.

Every test builds a COPC with --t-srs and checks that it is valid, holds
every input point once with its other fields intact, and that each point
lies within half a scale step (plus a thousandth for the lattice, see
points/reprojection.py) of where cs2cs puts the decoded input point.  The
real files of ../shared/data are used when present; the generated ones
always run.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pyproj
import pytest

from copc_builder import build_copc
from fixtures import write_rich
from hostile_helpers import output_frame
from reproject_helpers import assert_matches_cs2cs, decoded, require_cs2cs, swiss_grid_env


@pytest.fixture(autouse=True)
def _cs2cs():
    require_cs2cs()


class Messages:
    def __init__(self):
        self.lines = []

    def on_progress(self, event):
        pass

    def on_message(self, level, text):
        self.lines.append((level, text))

    def text(self, level=None) -> str:
        return "\n".join(t for lv, t in self.lines if level is None or lv == level)


def build(inputs, out, **options):
    messages = Messages()
    build_copc(inputs, out, observer=messages, **options)
    return messages


def wkt_epsg(out) -> int:
    from copc_parse import parse_copc

    return pyproj.CRS.from_wkt(parse_copc(out, decode=False).wkt).to_epsg()


# -- the real files ------------------------------------------------------------------------------
def test_autzen_in_feet_to_utm(shared_data, tmp_path):
    """Oregon Lambert (international feet, NAD83(HARN)) to WGS 84 / UTM 10N: 0.01 ft becomes 0.001 m."""
    src = shared_data / "pdal_las_autzen_trim.las"
    out = tmp_path / "autzen.copc.laz"
    said = build([src], out, t_srs="EPSG:32610")
    assert_matches_cs2cs(out, [src], [pyproj.CRS.from_wkt(_wkt_of(src)).to_wkt()], "EPSG:32610", heights=False)
    assert output_frame(out)[1].tolist() == [0.001, 0.001, 0.01]
    assert wkt_epsg(out) == 32610
    assert "NAD83(HARN) to WGS 84" in said.text("info")
    assert "heights are kept" in said.text("warning")


def _wkt_of(path) -> str:
    import laspy

    with laspy.open(str(path)) as f:
        return f.header.parse_crs().to_wkt()


@pytest.mark.parametrize("target, heights", [("EPSG:32610+5703", True), ("EPSG:32610", False)])
def test_autzen_with_navd88_heights(shared_data, tmp_path, target, heights):
    """The compound autzen (Oregon Lambert ft + NAVD88 height in US survey
    feet): to UTM 10N + NAVD88 height the heights become metres; to UTM 10N
    alone they are kept, with a warning."""
    src = shared_data / "lasrs_autzen.copc.laz"
    out = tmp_path / "autzen.copc.laz"
    said = build([src], out, t_srs=target)
    source = _wkt_of(src)
    assert pyproj.CRS.from_wkt(source).is_compound
    assert_matches_cs2cs(out, [src], [source], target, heights=heights)
    z_scale = output_frame(out)[1][2]
    if heights:
        assert z_scale == 0.001            # 0.01 US survey foot, in metres, a power of ten not coarser
        assert "NAVD88 height (ftUS) to NAVD88 height" in said.text("info")
        z_in, z_out = decoded(src)[:, 2], decoded(out)[:, 2]
        assert abs(z_out.mean() / z_in.mean() - 0.3048006) < 1e-4
    else:
        assert z_scale == 0.01 and "heights are kept" in said.text("warning")


def test_zurich_lv03_to_lv95(shared_data, tmp_path):
    """With Debian's proj-data PROJ misses the CHENyx06 grid (its file name's
    case differs): the log says so, the operation used is PROJ's next one,
    and the points are cs2cs's."""
    src = shared_data / "lastools_zurich.laz"
    out = tmp_path / "lv95.copc.laz"
    said = build([src], out, a_srs="EPSG:21781", t_srs="EPSG:2056")
    stats = assert_matches_cs2cs(out, [src], ["EPSG:21781"], "EPSG:2056", heights=False)
    assert stats["points"] == 656_837
    assert output_frame(out)[1].tolist() == [0.01, 0.01, 0.01]
    assert wkt_epsg(out) == 2056
    if "needs the grid" in said.text("warning"):
        assert "ch_swisstopo_CHENyx06a.tif" in said.text("warning")


def test_zurich_lv03_to_lv95_through_the_swiss_grid(shared_data, tmp_path):
    """PROJ finding the CHENyx06 grid (linked under the name proj.db gives it
    when Debian ships it in another case): the log names the grid's
    operation, the points are cs2cs's with the same grid, and they differ
    from the build without the grid (the grid moves points by centimetres)."""
    src = shared_data / "lastools_zurich.laz"
    env = swiss_grid_env(tmp_path / "grids")
    out = tmp_path / "grid.copc.laz"
    run = subprocess.run([sys.executable, "-m", "copc_builder", "build", str(src), "-o", str(out), "--a-srs",
                          "EPSG:21781", "--t-srs", "EPSG:2056", "--progress", "plain"],
                         capture_output=True, text=True, env=env or dict(os.environ), timeout=600)
    assert run.returncode == 0, run.stderr
    assert "CH1903 to CH1903+ (1)" in run.stderr and "needs the grid" not in run.stderr, run.stderr
    assert_matches_cs2cs(out, [src], ["EPSG:21781"], "EPSG:2056", heights=False, env=env)
    if env is not None:
        plain = tmp_path / "plain.copc.laz"
        build([src], plain, a_srs="EPSG:21781", t_srs="EPSG:2056")
        shift = np.abs(np.sort(decoded(out)[:, 0]) - np.sort(decoded(plain)[:, 0]))
        assert shift.max() > 0.01


def test_zurich_to_wgs84(shared_data, tmp_path):
    src = shared_data / "lastools_zurich.laz"
    out = tmp_path / "wgs84.copc.laz"
    said = build([src], out, a_srs="EPSG:21781", t_srs="EPSG:4326")
    assert_matches_cs2cs(out, [src], ["EPSG:21781"], "EPSG:4326", heights=False)
    assert output_frame(out)[1].tolist() == [1e-7, 1e-7, 0.01]
    assert wkt_epsg(out) == 4326
    assert "geographic" in said.text("warning") and "heights alone" in said.text("warning")


def test_zurich_to_geocentric(shared_data, tmp_path):
    """A file with heights to EPSG:4978: X, Y and Z all move; LV03 has no
    vertical axis, so its heights are taken as ellipsoidal (with a warning)."""
    src = shared_data / "lastools_zurich.laz"
    out = tmp_path / "ecef.copc.laz"
    said = build([src], out, a_srs="EPSG:21781", t_srs="EPSG:4978")
    assert_matches_cs2cs(out, [src], ["EPSG:21781"], "EPSG:4978", heights=True)
    assert output_frame(out)[1].tolist() == [0.01, 0.01, 0.01]
    assert "ellipsoidal heights" in said.text("warning")


def test_two_autzen_files_in_different_crss_merge(shared_data, tmp_path):
    """Oregon Lambert feet (HARN) and NAD83 / UTM 10N: refused as they are,
    merged into one valid, conserving COPC with --t-srs."""
    a, b = shared_data / "pdal_las_autzen_trim.las", shared_data / "pdal_autzen_autzen-utm.las"
    out = tmp_path / "merged.copc.laz"
    with pytest.raises(Exception, match="--t-srs"):
        build_copc([a, b], tmp_path / "refused.copc.laz")
    build([a, b], out, t_srs="EPSG:32610")
    stats = assert_matches_cs2cs(out, [a, b], [_wkt_of(a), _wkt_of(b)], "EPSG:32610", heights=False)
    assert stats["points"] == 110_000 + 1_065


# -- generated files (no ../shared needed) -------------------------------------------------------
def test_neighbouring_utm_zones_merge(tmp_path):
    """Two tiles either side of 12 degrees east, each in its own UTM zone, into zone 32."""
    west = write_rich(tmp_path / "zone32.laz", 6, crs="EPSG:32632", seed=1, n=20_000,
                      offset=(800_000.0, 5_300_000.0, 0.0), extent=(600.0, 600.0, 60.0))
    east = write_rich(tmp_path / "zone33.las", 7, crs="EPSG:32633", seed=2, n=15_000,
                      offset=(300_000.0, 5_300_000.0, 200.0), extent=(600.0, 600.0, 60.0))
    out = tmp_path / "merged.copc.laz"
    build([west, east], out, t_srs="EPSG:32632")
    stats = assert_matches_cs2cs(out, [west, east], ["EPSG:32632", "EPSG:32633"], "EPSG:32632", heights=False)
    assert stats["points"] == 35_000


@pytest.mark.parametrize("target, heights", [("EPSG:4326", False), ("EPSG:4978", True), ("EPSG:3857", False)])
def test_generated_utm_tile(tmp_path, target, heights):
    src = write_rich(tmp_path / "tile.laz", 6, crs="EPSG:32632", seed=3, n=30_000,
                     offset=(500_000.0, 5_200_000.0, 300.0), extent=(800.0, 800.0, 100.0))
    out = tmp_path / "out.copc.laz"
    build([src], out, t_srs=target)
    assert_matches_cs2cs(out, [src], ["EPSG:32632"], target, heights=heights)
    assert wkt_epsg(out) == int(target.split(":")[1])


def test_ellipsoidal_heights_to_geocentric_need_no_warning(tmp_path):
    """WGS 84 with ellipsoidal heights (EPSG:4979, a vertical axis) to EPSG:4978."""
    src = write_rich(tmp_path / "geo3d.las", 6, crs="EPSG:4979", seed=4, n=10_000, scales=(1e-7, 1e-7, 0.001),
                     offset=(8.0, 47.0, 0.0), origin=(8.5, 47.3, 400.0), extent=(0.01, 0.01, 80.0))
    out = tmp_path / "out.copc.laz"
    said = build([src], out, t_srs="EPSG:4978")
    assert_matches_cs2cs(out, [src], ["EPSG:4979"], "EPSG:4978", heights=True)
    assert "ellipsoidal" not in said.text("warning") and "kept" not in said.text("warning")
    assert output_frame(out)[1].tolist() == [0.001, 0.001, 0.001]


def test_cli_prints_the_operation_and_writes_the_target(tmp_path):
    src = write_rich(tmp_path / "tile.las", 6, crs="EPSG:32632", seed=5, n=5_000,
                     offset=(500_000.0, 5_200_000.0, 300.0))
    out = tmp_path / "cli.copc.laz"
    run = subprocess.run([sys.executable, "-m", "copc_builder", "build", str(src), "-o", str(out),
                          "--t-srs", "EPSG:25832", "--progress", "json"], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    messages = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    assert any("from WGS 84 / UTM zone 32N (EPSG:32632) to ETRS89 / UTM zone 32N (EPSG:25832) with PROJ's"
               in json.dumps(m)
               for m in messages), run.stdout[-2000:]
    assert wkt_epsg(out) == 25832
    assert_matches_cs2cs(out, [src], ["EPSG:32632"], "EPSG:25832", heights=False)


@pytest.mark.pdal
def test_a_pipeline_reprojects_as_its_file_does(tmp_path):
    """The points of a PDAL pipeline go through the same reprojection (the
    arrays' converter): a pipeline reading a LAS file gives the file's bytes."""
    from pdal_helpers import require_pdal

    require_pdal()
    src = write_rich(tmp_path / "tile.las", 6, crs="EPSG:32632", seed=7, n=8_000,
                     offset=(500_000.0, 5_200_000.0, 300.0), extent=(300.0, 300.0, 40.0))
    direct, piped = tmp_path / "direct.copc.laz", tmp_path / "piped.copc.laz"
    build([src], direct, t_srs="EPSG:4326")
    build(json.dumps([{"type": "readers.las", "filename": str(src)}]), piped, t_srs="EPSG:4326")
    assert_matches_cs2cs(piped, [src], ["EPSG:32632"], "EPSG:4326", heights=False)
    assert piped.read_bytes() == direct.read_bytes()

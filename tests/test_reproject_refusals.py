"""--t-srs on bad input (issue 22): one line naming the CRS or the file, and
nothing written; and what the plan decides before a point is read."""
from __future__ import annotations

import laspy
import numpy as np
import pyproj
import pytest

from copc_builder import InputError, OptionError, build_copc
from copc_builder.algorithms.api import dry_run
from fixtures import write_rich
from hostile_helpers import api_refused, cli_refused, folders, output_frame, run_cli
from reproject_helpers import decoded


def test_unknown_target_crs_is_one_line_naming_it(tmp_path):
    a = write_rich(tmp_path / "a.las", 6, crs="EPSG:32632", seed=1)
    line = cli_refused(tmp_path, [a], "EPSG:999999", "--t-srs", "EPSG:999999")
    assert "target CRS" in line
    api_refused(tmp_path, [a], OptionError, "not-a-crs", t_srs="not-a-crs")


def test_input_without_crs_is_refused_naming_it(tmp_path):
    a = write_rich(tmp_path / "with.las", 6, crs="EPSG:32632", seed=1)
    b = write_rich(tmp_path / "bare.las", 6, seed=2)
    cli_refused(tmp_path, [a, b], "has no CRS", "--t-srs", "EPSG:4326", names=["bare.las"])
    api_refused(tmp_path, [a, b], InputError, "--a-srs", names=["bare.las"], t_srs="EPSG:4326")


def test_input_whose_crs_pyproj_cannot_read_is_refused_naming_it(tmp_path):
    path = write_rich(tmp_path / "garbled.las", 6, seed=3)
    las = laspy.read(str(path))
    las.header.vlrs.append(laspy.vlrs.known.WktCoordinateSystemVlr('PROJCS["nothing",GARBAGE[1]]'))
    las.header.global_encoding.wkt = True
    las.write(str(path))
    cli_refused(tmp_path, [path], "cannot read its CRS", "--t-srs", "EPSG:4326", names=["garbled.las"])


def test_points_proj_cannot_transform_are_counted_over_the_whole_file(tmp_path):
    """Latitudes past the pole in a WGS 84 file: the error names the file and
    how many points, counted over every chunk, and nothing is written."""
    path = write_rich(tmp_path / "polar.las", 6, crs="EPSG:4326", seed=4, n=5_000, scales=(1e-7, 1e-7, 0.01),
                      offset=(8.0, 47.0, 0.0), origin=(8.5, 47.3, 400.0), extent=(0.01, 0.01, 50.0))
    las = laspy.read(str(path))
    y = np.asarray(las.y).copy()
    y[[10, 2_500, 4_999]] = 95.0
    las.y = y
    las.write(str(path))
    error = api_refused(tmp_path, [path], InputError, "3 of its points cannot be transformed",
                        names=["polar.las", "CH1903+ / LV95"], t_srs="EPSG:2056", chunk_points=1_000)
    assert "y=95" in str(error)
    cli_refused(tmp_path, [path], "3 of its points", "--t-srs", "EPSG:2056", names=["polar.las"])


def test_assigned_crs_is_the_source_of_every_input(tmp_path):
    """--a-srs overrides the file's (wrong) CRS as the source of the transformation."""
    wrong = write_rich(tmp_path / "wrong.las", 6, crs="EPSG:32633", seed=5, n=2_000,
                       offset=(500_000.0, 5_200_000.0, 0.0))
    out_dir, tmp_dir = folders(tmp_path)
    out = out_dir / "out.copc.laz"
    build_copc([wrong], out, temp_dir=tmp_dir, a_srs="EPSG:32632", t_srs="EPSG:4326")
    lon = decoded(out)[:, 0]
    assert 8.9 < lon.min() and lon.max() < 9.1         # zone 32's central meridian is 9 degrees east


def test_dry_run_plans_in_the_target_crs(tmp_path):
    src = write_rich(tmp_path / "tile.las", 6, crs="EPSG:32632", seed=6, n=2_000,
                     offset=(500_000.0, 5_200_000.0, 300.0))
    plan = dry_run([src], t_srs="EPSG:4326")
    assert plan.scale == (1e-7, 1e-7, 0.01)
    assert plan.crs == "WGS 84"
    assert 8.9 < plan.offset[0] < 9.1 or plan.offset[0] == 9.0
    assert plan.cube_center is not None and 46 < plan.cube_center[1] < 48 + plan.cube_halfsize
    r = run_cli("build", src, "--dry-run", "--t-srs", "EPSG:4326")
    assert r.returncode == 0 and "WGS 84" in r.stdout, r.stdout + r.stderr


@pytest.mark.parametrize("target, scale", [
    ("EPSG:2994", [0.01, 0.01, 0.01]),        # metres to international feet: 0.0328 ft -> 0.01
    ("EPSG:32632", [0.01, 0.01, 0.01]),       # same unit: the input's own
    ("EPSG:4326", [1e-7, 1e-7, 0.01]),        # degrees: about a centimetre
    ("EPSG:4978", [0.01, 0.01, 0.01]),        # geocentric: one scale for all three
])
def test_the_scale_follows_the_target_units(tmp_path, target, scale):
    src = write_rich(tmp_path / "tile.las", 6, crs="EPSG:32632", seed=7, n=2_000,
                     offset=(500_000.0, 5_200_000.0, 300.0))
    out = tmp_path / "out.copc.laz"
    build_copc([src], out, t_srs=target)
    assert output_frame(out)[1].tolist() == scale
    assert pyproj.CRS.from_wkt(_wkt(out)).equals(pyproj.CRS.from_user_input(target), ignore_axis_order=True)


def _wkt(path) -> str:
    from copc_parse import parse_copc

    return parse_copc(path, decode=False).wkt


def test_scale_and_offset_still_override_and_the_overflow_check_guards(tmp_path):
    src = write_rich(tmp_path / "tile.las", 6, crs="EPSG:32632", seed=8, n=2_000,
                     offset=(500_000.0, 5_200_000.0, 300.0))
    out = tmp_path / "out.copc.laz"
    build_copc([src], out, t_srs="EPSG:4326", scale=(1e-8, 1e-8, 0.001), offset=(9.0, 47.0, 0.0))
    _, scales, offsets, _ = output_frame(out)
    assert scales.tolist() == [1e-8, 1e-8, 0.001] and offsets.tolist() == [9.0, 47.0, 0.0]
    # geocentric coordinates are millions of metres: at 1 mm from an offset of 0 they overflow 32 bits
    api_refused(tmp_path, [src], OptionError, "32-bit", t_srs="EPSG:4978", scale=0.001, offset=0)


def test_inputs_already_in_the_target_crs_are_left_as_they_are(tmp_path):
    """Nothing to reproject: the bytes of the build that assigns the same CRS."""
    src = write_rich(tmp_path / "tile.las", 6, crs="EPSG:32632", seed=9, n=3_000,
                     offset=(500_000.0, 5_200_000.0, 300.0))
    messages = []

    class Observer:
        def on_progress(self, event):
            pass

        def on_message(self, level, text):
            messages.append(text)

    build_copc([src], tmp_path / "t.copc.laz", t_srs="EPSG:32632", observer=Observer())
    build_copc([src], tmp_path / "a.copc.laz", a_srs="EPSG:32632")
    assert (tmp_path / "t.copc.laz").read_bytes() == (tmp_path / "a.copc.laz").read_bytes()
    assert any("nothing to reproject" in m for m in messages), messages

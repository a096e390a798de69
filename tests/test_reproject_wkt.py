"""The output's WKT is the target CRS's, written as readers accept it
(points/crs.py writable_wkt): proj4js (copc.js, copc-validator) reads every
one, and pyproj reads back the target (its horizontal part for a compound
target, the vertical one named in a warning)."""
from __future__ import annotations

import pyproj
import pytest

from copc_builder import build_copc
from fixtures import write_rich
from js_readers import proj4_verdicts
from reference import wkt_written

TARGETS = ["EPSG:2056", "EPSG:4326", "EPSG:4978", "EPSG:3857", "EPSG:32610", "EPSG:2994", "EPSG:25832+5783",
           "+proj=utm +zone=33 +datum=WGS84 +units=m +no_defs"]


def test_target_wkts_are_read_by_proj4js_and_pyproj(tmp_path):
    src = write_rich(tmp_path / "tile.las", 6, crs="EPSG:32632", seed=1, n=500,
                     offset=(500_000.0, 5_200_000.0, 300.0), extent=(100.0, 100.0, 20.0))
    wkts, warnings = {}, {}
    for k, target in enumerate(TARGETS):
        out = tmp_path / f"{k}.copc.laz"
        summary = build_copc([src], out, t_srs=target)
        wkts[target], warnings[target] = wkt_written(out), summary.warnings
    assert {t: v for t, v in proj4_verdicts(wkts).items() if v != "ok"} == {}
    for target, wkt in wkts.items():
        want = pyproj.CRS.from_user_input(target)
        if want.is_compound:
            assert any(want.sub_crs_list[1].name in w and "left out" in w for w in warnings[target]), warnings[target]
            want = want.sub_crs_list[0]
        assert pyproj.CRS.from_wkt(wkt).equals(want, ignore_axis_order=True), target
    assert wkts["EPSG:4978"].lstrip().startswith("GEODCRS")      # geocentric: WKT2, which proj4js reads


@pytest.mark.parametrize("target", ["EPSG:4326", "EPSG:2056"])
def test_same_wkt_as_assigning_the_target(tmp_path, target):
    """--t-srs writes the WKT that --a-srs of the same CRS writes."""
    src = write_rich(tmp_path / "tile.las", 6, crs="EPSG:32632", seed=2, n=300,
                     offset=(500_000.0, 5_200_000.0, 300.0), extent=(100.0, 100.0, 20.0))
    build_copc([src], tmp_path / "t.copc.laz", t_srs=target)
    build_copc([src], tmp_path / "a.copc.laz", a_srs=target)
    assert wkt_written(tmp_path / "t.copc.laz") == wkt_written(tmp_path / "a.copc.laz")

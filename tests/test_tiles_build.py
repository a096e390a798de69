"""The tiled build: every input point in exactly one tile, every tile a valid
COPC for readers we did not write, the same bytes whatever the threads or
budget, a tile's bytes independent of the other tiles, the overview made of
the tiles' roots, the .vpc listing them; outputs only on success."""
import hashlib
import json
import os
from pathlib import Path

import laspy
import numpy as np
import pytest

from copc_builder.algorithms.api import OptionError, OutputError, build_copc, copc_info, validate_copc
from copc_parse import parse_copc
from fixtures import write_rich
from reference import (check_nodes_contain_points, copc_records, copclib_total, expected_layout,
                       expected_records, sorted_rows)

ORIGIN = (2683000.0, 1247000.0, 400.0)
SMALL = dict(leaf_limit=2_000, page_points=4096)


@pytest.fixture(scope="module")
def survey(tmp_path_factory) -> Path:
    """60,000 points over 1000 m x 1000 m from a tile corner: 16 tiles of 250 m."""
    folder = tmp_path_factory.mktemp("survey")
    return write_rich(folder / "survey.laz", point_format=7, n=60_000, crs="EPSG:2056",
                      offset=(2600000.0, 1200000.0, 0.0), origin=ORIGIN, extent=(999.99, 999.99, 40.0))


@pytest.fixture(scope="module")
def tiled(survey, tmp_path_factory):
    out = tmp_path_factory.mktemp("tiled") / "survey.vpc"
    return build_copc([str(survey)], out, tile_size=250, threads=2, **SMALL)


def digest(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_the_tiles_hold_every_input_point_exactly_once(survey, tiled):
    out_format, extra = expected_layout([str(survey)])
    header = laspy.open(str(survey)).header
    want = expected_records([str(survey)], out_format, header.scales, header.offsets, extra)
    got = np.concatenate([copc_records(t["path"]) for t in tiled.tiles])
    assert len(tiled.tiles) == 16 and tiled.points == len(want) == len(got)
    assert np.array_equal(sorted_rows(got), sorted_rows(want))


def test_every_point_lies_in_its_tiles_half_open_cell(tiled):
    for tile in tiled.tiles:
        x0, y0 = (float(v) for v in tile["name"].split("_")[1:])
        with laspy.open(tile["path"]) as f:
            las = f.read()
        assert np.all((las.x >= x0) & (las.x < x0 + 250) & (las.y >= y0) & (las.y < y0 + 250)), tile["name"]


def test_every_tile_is_valid_for_our_validator_laspy_and_copclib(tiled):
    for tile in tiled.tiles:
        report = validate_copc(tile["path"])
        assert report.ok, [str(f) for f in report.findings]
        assert copclib_total(tile["path"]) == (tile["points"], tile["points"])
        check_nodes_contain_points(tile["path"])
        info = copc_info(tile["path"])
        assert any(e["user_id"] == "qgis" for e in info["evlrs"]), "exact statistics EVLR missing"


def test_tiles_share_the_point_format_scale_offset_and_crs(survey, tiled):
    first = laspy.open(tiled.tiles[0]["path"]).header
    src = laspy.open(str(survey)).header
    for tile in tiled.tiles:
        h = laspy.open(tile["path"]).header
        assert h.point_format.id == 7
        assert list(h.scales) == list(src.scales) and list(h.offsets) == list(src.offsets)
        assert h.parse_crs() == first.parse_crs() == src.parse_crs()


def test_the_overview_is_the_tiles_root_nodes(tiled):
    (overview,) = tiled.overviews
    roots = []
    for tile in tiled.tiles:
        parsed = parse_copc(tile["path"])
        root = next(n for n in parsed.nodes if n.key == (0, 0, 0, 0))
        roots.append(np.ascontiguousarray(root.points).view(np.uint8).reshape(len(root.points), -1))
    roots = np.concatenate(roots)
    assert overview["points"] == len(roots) > 0
    assert np.array_equal(sorted_rows(copc_records(overview["path"])), sorted_rows(roots))
    assert validate_copc(overview["path"]).ok


def test_the_vpc_lists_every_tile_with_its_count_bounds_and_the_overview(tiled):
    vpc = json.loads(Path(tiled.output).read_text())
    assert vpc["type"] == "FeatureCollection" and len(vpc["features"]) == 16
    folder = Path(tiled.output).parent
    for item, tile in zip(vpc["features"], tiled.tiles):
        assert item["stac_version"] == "1.0.0" and item["id"] == tile["name"]
        props = item["properties"]
        assert props["pc:count"] == tile["points"]
        data = item["assets"]["data"]["href"]
        assert data == f"./survey-tiles/{tile['name']}.copc.laz" and (folder / data).resolve() == Path(tile["path"])
        assert item["assets"]["overview"] == {"href": "./survey-overview.copc.laz", "type": "application/vnd.laszip+copc",
                                              "roles": ["overview"]}
        header = laspy.open(tile["path"]).header
        assert props["proj:bbox"] == pytest.approx(list(header.mins) + list(header.maxs), abs=1e-9)
        assert props["proj:epsg"] == 2056 and "CH1903+" in props["proj:wkt2"]
        lon0, lat0, _, lon1, lat1, _ = item["bbox"]
        assert 8.5 < lon0 < lon1 < 8.6 and 47.3 < lat0 < lat1 < 47.4     # Zurich, in WGS 84


def test_same_bytes_at_one_and_two_threads_and_at_two_budgets(survey, tiled, tmp_path):
    # 3M: the cloud does not fit a unit (read into tile keys) and the biggest tiles are built unit by unit.
    other = build_copc([str(survey)], tmp_path / "survey.vpc", tile_size=250, threads=1, memory_budget="3M", **SMALL)
    assert other.stats["spilled_pages"] > 0
    assert [t["name"] for t in other.tiles] == [t["name"] for t in tiled.tiles]
    for a, b in zip(tiled.tiles, other.tiles):
        assert digest(a["path"]) == digest(b["path"]), a["name"]
    assert digest(tiled.overviews[0]["path"]) == digest(other.overviews[0]["path"])
    assert Path(tiled.output).read_text().replace(str(Path(tiled.output).parent), "") == \
        (tmp_path / "survey.vpc").read_text().replace(str(tmp_path), "")


def test_a_tiles_bytes_do_not_depend_on_the_other_tiles(survey, tiled, tmp_path):
    las = laspy.read(str(survey))
    keep = (las.x >= ORIGIN[0] + 250) & (las.x < ORIGIN[0] + 500) & (las.y >= ORIGIN[1]) & (las.y < ORIGIN[1] + 250)
    alone = laspy.LasData(las.header)
    alone.points = las.points[keep]
    alone.write(str(tmp_path / "alone.laz"))
    one = build_copc([str(tmp_path / "alone.laz")], tmp_path / "alone.vpc", tile_size=250, **SMALL)
    (tile,) = one.tiles
    same = next(t for t in tiled.tiles if t["name"].endswith("_2683250_1247000"))
    assert tile["name"] == "alone_2683250_1247000"
    assert digest(tile["path"]) == digest(same["path"])


def test_tiles_carry_the_temporal_index_when_asked(survey, tmp_path):
    out = build_copc([str(survey)], tmp_path / "t.vpc", tile_size=500, temporal_index=50, **SMALL)
    for tile in out.tiles:
        info = copc_info(tile["path"])
        assert any(e["user_id"] == "copc_temporal" for e in info["evlrs"])
        assert validate_copc(tile["path"]).ok


def test_an_overview_size_splits_the_overview_on_whole_tiles(survey, tmp_path):
    out = build_copc([str(survey)], tmp_path / "s.vpc", tile_size=250, overview_size=400, **SMALL)
    names = sorted(o["name"] for o in out.overviews)
    assert names == ["s-overview_2683000_1247000", "s-overview_2683000_1247500",
                     "s-overview_2683500_1247000", "s-overview_2683500_1247500"]
    vpc = json.loads((tmp_path / "s.vpc").read_text())
    for item in vpc["features"]:
        x, y = (float(v) for v in item["id"].split("_")[1:])
        cell = f"s-overview_{int(x // 500 * 500):07d}_{int(y // 500 * 500):07d}.copc.laz"
        assert item["assets"]["overview"]["href"] == f"./{cell}"
    assert sum(o["points"] for o in out.overviews) > 0


def test_no_overview_when_told(survey, tmp_path):
    out = build_copc([str(survey)], tmp_path / "n.vpc", tile_size=500, overview=False, **SMALL)
    assert out.overviews == [] and not (tmp_path / "n-overview.copc.laz").exists()
    assert all("overview" not in f["assets"] for f in json.loads((tmp_path / "n.vpc").read_text())["features"])


def test_a_rebuild_replaces_the_tiles_folder(survey, tmp_path):
    build_copc([str(survey)], tmp_path / "r.vpc", tile_size=250, **SMALL)
    build_copc([str(survey)], tmp_path / "r.vpc", tile_size=500, **SMALL)
    assert len(os.listdir(tmp_path / "r-tiles")) == 4
    assert sorted(os.listdir(tmp_path)) == ["r-overview.copc.laz", "r-tiles", "r.vpc"]


def test_a_foreign_file_in_the_tiles_folder_is_left_alone(survey, tmp_path):
    (tmp_path / "f-tiles").mkdir()
    (tmp_path / "f-tiles" / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="notes.txt"):
        build_copc([str(survey)], tmp_path / "f.vpc", tile_size=250)
    assert sorted(os.listdir(tmp_path)) == ["f-tiles"] and os.listdir(tmp_path / "f-tiles") == ["notes.txt"]


def test_without_a_crs_the_tiled_build_says_so_and_leaves_nothing(tmp_path):
    src = write_rich(tmp_path / "nocrs.laz", n=500)
    with pytest.raises(OptionError, match="needs a CRS"):
        build_copc([str(src)], tmp_path / "x.vpc", tile_size=100)
    assert sorted(os.listdir(tmp_path)) == ["nocrs.laz"]
    out = build_copc([str(src)], tmp_path / "x.vpc", tile_size=100, a_srs="EPSG:32631")
    assert out.points == 500


def test_a_vpc_output_needs_a_tile_size_and_tiles_need_a_vpc(survey, tmp_path):
    with pytest.raises(OptionError, match="tile size"):
        build_copc([str(survey)], tmp_path / "x.vpc")
    with pytest.raises(OutputError, match=r"\*\.vpc"):
        build_copc([str(survey)], tmp_path / "x.copc.laz", tile_size=100)
    assert os.listdir(tmp_path) == []


def test_cancel_leaves_nothing_behind(survey, tmp_path):
    from copc_builder.algorithms.api import BuildCancelled

    calls = []

    def cancel():
        calls.append(1)
        return len(calls) > 40

    with pytest.raises(BuildCancelled):
        build_copc([str(survey)], tmp_path / "c.vpc", tile_size=250, cancel=cancel, **SMALL)
    assert os.listdir(tmp_path) == []


def test_tiles_from_an_http_input_are_the_local_tiles(survey, tiled, tmp_path):
    """Inputs read by ranges over HTTP (storage/) cut into the same tiles."""
    pytest.importorskip("urllib3")
    from storage_servers import RangeServer

    server = RangeServer(Path(survey).parent)
    try:
        remote = build_copc([server.url(Path(survey).name)], tmp_path / "survey.vpc", tile_size=250, threads=1,
                            **SMALL)
    finally:
        server.close()
    assert [digest(t["path"]) for t in remote.tiles] == [digest(t["path"]) for t in tiled.tiles]

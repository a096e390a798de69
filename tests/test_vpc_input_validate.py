"""A .vpc as input (its members become the inputs), and validate / info of a .vpc:
members exist and are valid, counts, bounds and CRS match, the overview is there
and holds only members' points."""
import json
import os
import shutil
from pathlib import Path

import laspy
import numpy as np
import pytest

from copc_builder.algorithms.api import InputError, build_copc, copc_info, format_info, validate_copc
from copc_builder.plugin.cli import main
from fixtures import patch, write_rich
from reference import copc_records, sorted_rows

SMALL = dict(leaf_limit=2_000)


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    folder = tmp_path_factory.mktemp("vpc_collection")
    src = write_rich(folder / "src.laz", point_format=6, n=20_000, crs="EPSG:2056", offset=(2600000.0, 1200000.0, 0.0),
                     origin=(2683000.0, 1247000.0, 400.0), extent=(599.0, 399.0, 30.0))
    out = build_copc([str(src)], folder / "c.vpc", tile_size=200, **SMALL)
    return folder, src, out


def fresh_copy(collection, tmp_path) -> Path:
    folder, _, _ = collection
    for name in ("c.vpc", "c-overview.copc.laz"):
        shutil.copy(folder / name, tmp_path / name)
    shutil.copytree(folder / "c-tiles", tmp_path / "c-tiles")
    return tmp_path / "c.vpc"


def edit(vpc: Path, change) -> None:
    doc = json.loads(vpc.read_text())
    change(doc["features"])
    vpc.write_text(json.dumps(doc))


def test_a_valid_collection_validates(collection):
    folder, _, out = collection
    report = validate_copc(folder / "c.vpc")
    assert report.ok, [str(f) for f in report.findings]
    assert report.points == out.points == 20_000 and report.nodes == sum(t["nodes"] for t in out.tiles)
    assert main(["validate", str(folder / "c.vpc")]) == 0


@pytest.mark.parametrize("change, check", [
    (lambda f: f[0]["properties"].__setitem__("pc:count", 7), "vpc.count"),
    (lambda f: f[1]["properties"]["proj:bbox"].__setitem__(0, 2680000.0), "vpc.bounds"),
    (lambda f: f[2]["properties"].__setitem__("proj:epsg", 2154), "vpc.crs"),
    (lambda f: f[0]["assets"]["data"].__setitem__("href", "./c-tiles/nothing.copc.laz"), "vpc.member"),
    (lambda f: [i["assets"]["overview"].__setitem__("href", "./gone.copc.laz") for i in f], "vpc.overview"),
])
def test_what_does_not_match_is_an_error(collection, tmp_path, change, check):
    vpc = fresh_copy(collection, tmp_path)
    edit(vpc, change)
    report = validate_copc(vpc)
    assert not report.ok and check in report.checks("error"), [str(f) for f in report.findings]
    assert main(["validate", str(vpc)]) == 1


def test_a_damaged_member_is_an_error(collection, tmp_path):
    vpc = fresh_copy(collection, tmp_path)
    tile = sorted((tmp_path / "c-tiles").iterdir())[0]
    patch(tile, 247, "Q", 5)      # LAS 1.4 header: number of point records
    report = validate_copc(vpc)
    assert "vpc.member" in report.checks("error")


def test_an_overview_with_points_of_no_member_is_an_error(collection, tmp_path):
    folder, src, _ = collection
    vpc = fresh_copy(collection, tmp_path)
    las = laspy.read(str(src))
    las.z = las.z + 0.5       # the same places, other points
    las.write(str(tmp_path / "other.laz"))
    build_copc([str(tmp_path / "other.laz")], tmp_path / "other.copc.laz")
    shutil.copy(tmp_path / "other.copc.laz", tmp_path / "c-overview.copc.laz")
    report = validate_copc(vpc)
    assert "vpc.overview" in report.checks("error"), [str(f) for f in report.findings]
    assert any("but not in it" in f.message for f in report.findings)


def test_info_of_a_vpc_sums_up_its_members(collection):
    folder, _, out = collection
    info = copc_info(folder / "c.vpc")
    assert info["is_vpc"] and info["point_count"] == 20_000 and len(info["members"]) == len(out.tiles)
    assert info["crs"]["epsg"] == 2056 and info["overviews"][0]["exists"]
    text = format_info(info)
    assert "virtual point cloud" in text and "20,000" in text and "./c-overview.copc.laz" in text


def test_a_vpc_as_input_gives_its_members_points(collection, tmp_path):
    folder, src, out = collection
    one = build_copc([str(folder / "c.vpc")], tmp_path / "one.copc.laz")
    direct = build_copc([str(src)], tmp_path / "direct.copc.laz")
    assert one.points == 20_000
    assert np.array_equal(sorted_rows(copc_records(str(tmp_path / "one.copc.laz"))),
                          sorted_rows(copc_records(str(tmp_path / "direct.copc.laz"))))
    again = build_copc([str(folder / "c.vpc")], tmp_path / "again.vpc", tile_size=300, **SMALL)
    assert again.points == 20_000 and validate_copc(tmp_path / "again.vpc").ok


def test_a_vpc_of_las_files_turns_into_copc_tiles(tmp_path):
    """A VPC whose members are plain LAS files (as wrench's build_vpc writes): hrefs relative to it."""
    (tmp_path / "las").mkdir()
    a = write_rich(tmp_path / "las" / "a.las", point_format=6, n=3000, crs="EPSG:2056",
                   offset=(2600000.0, 1200000.0, 0.0), origin=(2683000.0, 1247000.0, 400.0), extent=(99.0, 99.0, 9.0))
    b = write_rich(tmp_path / "las" / "b.las", point_format=6, n=2000, crs="EPSG:2056", seed=4,
                   offset=(2600000.0, 1200000.0, 0.0), origin=(2683100.0, 1247000.0, 400.0), extent=(99.0, 99.0, 9.0))
    items = [{"type": "Feature", "stac_version": "1.0.0", "id": p.stem, "properties": {"pc:count": n},
              "geometry": None, "assets": {"data": {"href": f"./las/{p.name}", "roles": ["data"]}}}
             for p, n in ((a, 3000), (b, 2000))]
    (tmp_path / "las.vpc").write_text(json.dumps({"type": "FeatureCollection", "features": items}))
    out = build_copc([str(tmp_path / "las.vpc")], tmp_path / "tiles.vpc", tile_size=100, **SMALL)
    assert out.points == 5000 and len(out.tiles) == 2 and validate_copc(tmp_path / "tiles.vpc").ok


def test_a_vpc_naming_a_missing_file_is_refused_with_its_name(tmp_path):
    item = {"type": "Feature", "id": "x", "properties": {}, "assets": {"data": {"href": "./nope.laz"}}}
    (tmp_path / "m.vpc").write_text(json.dumps({"type": "FeatureCollection", "features": [item]}))
    with pytest.raises(InputError, match=r"m\.vpc: item x names \./nope\.laz, which does not exist"):
        build_copc([str(tmp_path / "m.vpc")], tmp_path / "o.copc.laz")
    (tmp_path / "bad.vpc").write_text("{not json")
    with pytest.raises(InputError, match=r"bad\.vpc: is not JSON"):
        build_copc([str(tmp_path / "bad.vpc")], tmp_path / "o.copc.laz")
    assert sorted(os.listdir(tmp_path)) == ["bad.vpc", "m.vpc"]

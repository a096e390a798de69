"""--t-srs and tiles compose (issue 22 beside issue 21): the points are
reprojected as they are read, so the grid cuts output coordinates; the tiles
together hold the single --t-srs build's points, each tile lies in its cell
of the target CRS, and a 2-worker Dask cluster writes the in-process bytes."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from copc_builder import build_copc
from dask_cluster import local_cluster  # noqa: F401
from fixtures import write_rich
from reference import copc_records, sorted_rows
from reproject_helpers import decoded

TILE = 250.0


@pytest.fixture(scope="module")
def lv03(tmp_path_factory) -> Path:
    """40,000 points near Zurich in CH1903 / LV03, to be tiled in CH1903+ / LV95."""
    folder = tmp_path_factory.mktemp("lv03")
    return write_rich(folder / "lv03.laz", 6, crs="EPSG:21781", seed=11, n=40_000,
                      offset=(683_000.0, 247_000.0, 400.0), extent=(700.0, 600.0, 50.0))


def sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_tiles_cut_the_reprojected_points(lv03, tmp_path):
    single = tmp_path / "single.copc.laz"
    build_copc([str(lv03)], single, t_srs="EPSG:2056")
    tiled = build_copc([str(lv03)], tmp_path / "lv95.vpc", t_srs="EPSG:2056", tile_size=TILE)
    got = np.concatenate([copc_records(t["path"]) for t in tiled.tiles])
    assert np.array_equal(sorted_rows(got), sorted_rows(copc_records(str(single))))
    for tile in tiled.tiles:
        xyz = decoded(tile["path"])
        cells = np.unique(np.floor(xyz[:, :2] / TILE), axis=0)
        assert len(cells) == 1                                    # one cell of the LV95 grid
        assert 2_680_000 < xyz[:, 0].min() and xyz[:, 0].max() < 2_690_000   # LV95 numbers


def test_tiles_on_dask_reproject_to_the_same_bytes(lv03, local_cluster, tmp_path):  # noqa: F811
    here = build_copc([str(lv03)], tmp_path / "here.vpc", t_srs="EPSG:2056", tile_size=TILE)
    work = tmp_path / "work"
    work.mkdir()
    there = build_copc([str(lv03)], tmp_path / "there.vpc", t_srs="EPSG:2056", tile_size=TILE,
                       scheduler=local_cluster.scheduler_address, temp_dir=str(work), chunk_points=7_000)
    assert [t["name"].split("_", 1)[1] for t in here.tiles] == [t["name"].split("_", 1)[1] for t in there.tiles]
    for a, b in zip(here.tiles, there.tiles):
        assert sha(a["path"]) == sha(b["path"])

"""The tiled build on a real 2-worker Dask cluster (loopback) writes the
in-process build's bytes: every tile, the overview and the .vpc, to a local
folder and to s3:// (moto on loopback)."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from copc_builder.algorithms.api import OptionError, build_copc  # noqa: E402
from dask_cluster import dask_scheduler_file  # noqa: E402,F401
from fixtures import write_rich  # noqa: E402

SMALL = dict(leaf_limit=2_000, page_points=4096)


def sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiles_dask")
    a = write_rich(folder / "a.laz", point_format=7, n=30_000, crs="EPSG:2056", offset=(2600000.0, 1200000.0, 0.0),
                   origin=(2683000.0, 1247000.0, 400.0), extent=(600.0, 500.0, 40.0), seed=1)
    b = write_rich(folder / "b.laz", point_format=7, n=20_000, crs="EPSG:2056", offset=(2600000.0, 1200000.0, 0.0),
                   origin=(2683400.0, 1247300.0, 400.0), extent=(500.0, 500.0, 40.0), seed=2)
    return [str(a), str(b)]


@pytest.mark.parametrize("budget", ["2G", "3M"])
def test_the_cluster_writes_the_in_process_bytes(inputs, dask_scheduler_file, tmp_path, budget):  # noqa: F811
    here = build_copc(inputs, tmp_path / "here.vpc", tile_size=250, memory_budget=budget, **SMALL)
    work = tmp_path / "work"
    work.mkdir()
    there = build_copc(inputs, tmp_path / "there.vpc", tile_size=250, memory_budget=budget, temp_dir=str(work),
                       scheduler=dask_scheduler_file.scheduler_file, **SMALL)
    assert len(here.tiles) == len(there.tiles) > 4 and there.points == here.points == 50_000
    for a, b in zip(here.tiles, there.tiles):
        assert a["name"].replace("here", "") == b["name"].replace("there", "")
        assert sha(a["path"]) == sha(b["path"]), a["name"]
    assert sha(here.overviews[0]["path"]) == sha(there.overviews[0]["path"])
    assert (tmp_path / "here.vpc").read_text().replace("here", "X") == \
        (tmp_path / "there.vpc").read_text().replace("there", "X")
    assert os.listdir(work) == []   # the job's work folder is gone
    assert sorted(os.listdir(tmp_path)) == ["here-overview.copc.laz", "here-tiles", "here.vpc",
                                            "there-overview.copc.laz", "there-tiles", "there.vpc", "work"]


def test_arrays_are_refused_on_the_cluster_with_a_clear_message(tmp_path, dask_scheduler_file):  # noqa: F811
    import numpy as np

    points = np.zeros(10, dtype=[("X", "f8"), ("Y", "f8"), ("Z", "f8")])
    with pytest.raises(OptionError, match="cluster build reads LAS/LAZ files"):
        build_copc(points, tmp_path / "x.vpc", tile_size=100, a_srs="EPSG:2056",
                   scheduler=dask_scheduler_file.scheduler_file)
    assert os.listdir(tmp_path) == []


def test_the_cluster_uploads_the_in_process_bytes_to_s3(inputs, dask_scheduler_file, s3, tmp_path):  # noqa: F811
    """Tiles built on the workers, the .vpc, tiles and overview uploaded by the client: every
    object the in-process local build's bytes."""
    (tmp_path / "here").mkdir()
    here = build_copc(inputs, tmp_path / "here" / "city.vpc", tile_size=250, **SMALL)
    work = tmp_path / "work"
    work.mkdir()
    s3.client().create_bucket(Bucket="dask-tiles")
    there = build_copc(inputs, "s3://dask-tiles/pub/city.vpc", tile_size=250, temp_dir=str(work),
                       scheduler=dask_scheduler_file.scheduler_file, **SMALL)
    assert there.output == "s3://dask-tiles/pub/city.vpc" and len(there.tiles) == len(here.tiles) > 4
    local = {p.relative_to(tmp_path / "here").as_posix(): p.read_bytes()
             for p in (tmp_path / "here").rglob("*") if p.is_file()}
    client = s3.client()
    stored = {k[len("pub/"):]: client.get_object(Bucket="dask-tiles", Key=k)["Body"].read()
              for k in s3.keys("dask-tiles")}
    assert sorted(stored) == sorted(local)
    for name, data in local.items():
        assert stored[name] == data, name
    assert os.listdir(work) == []   # the job's work folder and the staging folder are gone

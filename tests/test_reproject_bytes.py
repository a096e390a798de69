"""--t-srs gives the same bytes whatever the threads, the memory budget, the
chunking and the Dask workers (issue 22): a point's transformed position
depends on the point alone (points/reprojection.py anchors its lattice at
whole multiples of the cell size), and the read tasks on Dask transform as
the in-process read does."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from copc_builder import build_copc
from copc_builder.demo import write_sample_scene
from dask_cluster import local_cluster  # noqa: F401
from conftest import SHARED_DATA

TARGET = "EPSG:4326"


def sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    """The real zurich tile (LV03, assigned) when ../shared is there, else the
    sample scene (ETRS89 / UTM 32N)."""
    zurich = SHARED_DATA / "lastools_zurich.laz"
    if zurich.exists():
        return [str(zurich)], {"a_srs": "EPSG:21781"}
    scene = write_sample_scene(tmp_path_factory.mktemp("scene") / "scene.laz", points=300_000, seed=9)
    return [str(scene)], {}


@pytest.fixture(scope="module")
def reference(cloud, tmp_path_factory):
    inputs, options = cloud
    out = tmp_path_factory.mktemp("ref") / "reference.copc.laz"
    build_copc(inputs, out, t_srs=TARGET, threads=1, **options)
    return sha(out)


@pytest.mark.parametrize("variant", [
    {"threads": 2},
    {"memory_budget": "3M", "page_points": 4096, "threads": 2},
    {"memory_budget": "16M", "chunk_points": 77_777},
])
def test_same_bytes_at_any_threads_budget_and_chunking(cloud, reference, tmp_path, variant):
    inputs, options = cloud
    out = tmp_path / "variant.copc.laz"
    build_copc(inputs, out, t_srs=TARGET, **options, **variant)
    assert sha(out) == reference


def test_same_bytes_on_a_two_worker_dask_cluster(cloud, reference, local_cluster, tmp_path):  # noqa: F811
    inputs, options = cloud
    out = tmp_path / "dask.copc.laz"
    summary = build_copc(inputs, out, t_srs=TARGET, scheduler=local_cluster.scheduler_address,
                         temp_dir=str(tmp_path), chunk_points=100_000, **options)
    assert summary.points > 0
    assert sha(out) == reference


def test_unprojectable_points_are_refused_on_dask_too(local_cluster, tmp_path):  # noqa: F811
    import laspy
    import numpy as np

    from copc_builder import InputError
    from fixtures import write_rich

    path = write_rich(tmp_path / "polar.las", 6, crs="EPSG:4326", seed=4, n=4_000, scales=(1e-7, 1e-7, 0.01),
                      offset=(8.0, 47.0, 0.0), origin=(8.5, 47.3, 400.0), extent=(0.01, 0.01, 50.0))
    las = laspy.read(str(path))
    y = np.asarray(las.y).copy()
    y[[5, 3_999]] = 95.0
    las.y = y
    las.write(str(path))
    with pytest.raises(InputError, match="polar.las: 2 of its points cannot be transformed"):
        build_copc([path], tmp_path / "x.copc.laz", t_srs="EPSG:2056", scheduler=local_cluster.scheduler_address,
                   temp_dir=str(tmp_path), chunk_points=1_000)
    assert not (tmp_path / "x.copc.laz").exists()

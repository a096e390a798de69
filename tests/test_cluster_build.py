"""The build on a Dask cluster (issue 13) gives the in-process build's bytes.

A real LocalCluster of worker processes on loopback; every output is
compared byte for byte with the in-process build of the same input and
options, and read back by laspy's COPC reader.
"""
from __future__ import annotations

import hashlib
import logging
import os
import sys
from pathlib import Path

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

from copc_builder.algorithms.api import build_copc  # noqa: E402
from copc_builder.algorithms.common.errors import (BuildCancelled, DependencyError, InputError,  # noqa: E402
                                                   OptionError)
from copc_builder.demo import write_sample_scene  # noqa: E402
from fixtures import patch, write_las, write_rich, write_typed_extra  # noqa: E402


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None, silence_logs=logging.ERROR) as c:
        yield c


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    return write_sample_scene(tmp_path_factory.mktemp("scene") / "scene.laz", points=300_000, seed=3)


def sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def both(inputs, folder, scheduler, **options):
    """In-process and cluster builds of the same inputs: their summaries."""
    a = build_copc(inputs, folder / "in_process.copc.laz", **options)
    b = build_copc(inputs, folder / "cluster.copc.laz", scheduler=scheduler, **options)
    return a, b


def assert_same(folder):
    a, b = folder / "in_process.copc.laz", folder / "cluster.copc.laz"
    assert sha(a) == sha(b), "the cluster build wrote other bytes than the in-process build"
    import laspy

    with laspy.CopcReader.open(str(b)) as reader:
        points = reader.query()
    assert len(points) == reader.header.point_count > 0


@pytest.mark.parametrize("budget", ["2G", "16M", "3M"])
def test_scene_same_bytes(scene, tmp_path, cluster, budget):
    a, b = both(scene, tmp_path, cluster.scheduler_address, memory_budget=budget)
    assert_same(tmp_path)
    assert b.stats["workers"] == 2 and b.stats["unit_tasks"] > 1
    assert (a.points, a.nodes, a.depth) == (b.points, b.nodes, b.depth)


def test_extensions_and_paged_hierarchy_same_bytes(tmp_path, cluster):
    src = write_rich(tmp_path / "rich.laz", point_format=8, n=120_000, extra=[("height", "f4"), ("rank", "u2")],
                     crs="EPSG:2056")
    both(src, tmp_path, cluster.scheduler_address, temporal_index=7, hierarchy_page_levels=1,
         memory_budget="8M", leaf_limit=5_000)
    assert_same(tmp_path)


def test_extra_bytes_ranges_merged_over_tasks(tmp_path, cluster):
    """Each unit task folds its own extra-bytes ranges; merged, they are the
    range over both inputs (raw values, upcast: tests/reference.py)."""
    from reference import assert_extra_ranges

    paths = [write_typed_extra(tmp_path / "a.las", n=30_000, seed=1, shift=-40),
             write_typed_extra(tmp_path / "b.las", n=30_000, seed=2, shift=40)]
    a, b = both(paths, tmp_path, cluster.scheduler_address, memory_budget="4M", leaf_limit=2_000)
    assert b.stats["unit_tasks"] > 1
    assert_same(tmp_path)
    assert_extra_ranges(tmp_path / "cluster.copc.laz", paths)


def test_several_inputs_same_bytes(tmp_path, cluster):
    paths = [write_las(tmp_path / f"tile{i}.laz", n=40_000 + 1000 * i, point_format=f, seed=i,
                       offset=(500_000.0 + 400 * i, 4_000_000.0, 0.0), extent=400.0)
             for i, f in enumerate((1, 3, 6))]
    both(paths, tmp_path, cluster.scheduler_address, memory_budget="4M", leaf_limit=2_000)
    assert_same(tmp_path)


def test_lying_header_redistributes_same_bytes(tmp_path, cluster):
    src = write_las(tmp_path / "lies.las", n=60_000, point_format=3, extent=300.0)
    patch(src, 219, "d", 20.0)      # header's lowest Z: 20 m, points go down to 0
    messages = []

    class Listen:
        def on_message(self, level, text):
            messages.append(text)

    build_copc(src, tmp_path / "in_process.copc.laz", memory_budget="4M")
    build_copc(src, tmp_path / "cluster.copc.laz", memory_budget="4M", scheduler=cluster.scheduler_address,
               observer=Listen())
    assert_same(tmp_path)
    assert any("redistributing" in m for m in messages)


def test_many_points_in_one_cell_same_bytes(tmp_path, cluster):
    """More points at one place than a unit holds: a leaf built in parts, a big unit root."""
    src = write_las(tmp_path / "pile.las", n=80_000, point_format=1, extent=0.0, scale=0.01)
    both(src, tmp_path, cluster.scheduler_address, memory_budget="3M", leaf_limit=1_000)
    assert_same(tmp_path)


def test_shared_files_same_bytes(shared_data, tmp_path, cluster):
    built = 0
    for path in sorted(shared_data.glob("*.la[sz]")):
        folder = tmp_path / path.name
        folder.mkdir()
        try:
            build_copc(path, folder / "in_process.copc.laz", memory_budget="16M")
        except InputError as exc:
            with pytest.raises(InputError) as again:
                build_copc(path, folder / "cluster.copc.laz", memory_budget="16M",
                           scheduler=cluster.scheduler_address)
            assert str(again.value) == str(exc)
            continue
        build_copc(path, folder / "cluster.copc.laz", memory_budget="16M", scheduler=cluster.scheduler_address)
        assert sha(folder / "in_process.copc.laz") == sha(folder / "cluster.copc.laz"), path.name
        built += 1
    assert built >= 50


def test_workers_option_starts_its_own_cluster(scene, tmp_path):
    a = build_copc(scene, tmp_path / "in_process.copc.laz", memory_budget="16M")
    b = build_copc(scene, tmp_path / "cluster.copc.laz", memory_budget="16M", workers=1, temp_dir=tmp_path)
    assert_same(tmp_path)
    assert b.stats["workers"] == 1 and a.stats.get("workers") is None
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("copc_builder")] == []


def test_progress_reaches_the_caller(scene, tmp_path, cluster):
    events = []

    class Watch:
        def on_progress(self, event):
            events.append(event)

    build_copc(scene, tmp_path / "out.copc.laz", memory_budget="16M", scheduler=cluster.scheduler_address,
               observer=Watch())
    stages = [e.stage for e in events]
    for stage in ("read", "build", "finish"):
        assert stage in stages
    fractions = [e.fraction for e in events]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    import laspy

    reads = [e for e in events if e.stage == "read"]
    assert reads[-1].done == reads[-1].total == laspy.open(str(scene)).header.point_count


def test_cancel_stops_and_removes_the_work(scene, tmp_path, cluster):
    seen = []

    class Watch:
        def on_progress(self, event):
            seen.append(event.stage)

    with pytest.raises(BuildCancelled):
        build_copc(scene, tmp_path / "out.copc.laz", memory_budget="16M", scheduler=cluster.scheduler_address,
                   temp_dir=tmp_path, observer=Watch(), cancel=lambda: "read" in seen)
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "the output or shared work files were left behind"
    with distributed.Client(cluster.scheduler_address) as client:   # the cluster is still fine
        assert client.submit(sum, [1, 2]).result() == 3


def test_damaged_input_is_named(tmp_path, cluster):
    src = write_las(tmp_path / "broken.laz", n=200_000, point_format=3)
    size = os.path.getsize(src)
    patch(src, size // 2, "32s", bytes(range(7, 39)))   # garbage in the middle of the LAZ chunks
    with pytest.raises(InputError) as info:
        build_copc(src, tmp_path / "out.copc.laz", scheduler=cluster.scheduler_address)
    assert str(src) in str(info.value) and "decode" in str(info.value)
    assert not (tmp_path / "out.copc.laz").exists()


def test_arrays_are_refused_clearly(tmp_path, cluster):
    points = np.zeros(10, dtype=[("X", "f8"), ("Y", "f8"), ("Z", "f8")])
    with pytest.raises(OptionError, match="cluster build reads LAS/LAZ files"):
        build_copc(points, tmp_path / "out.copc.laz", scheduler=cluster.scheduler_address)


def test_scheduler_and_workers_together_is_an_option_error(scene, tmp_path):
    with pytest.raises(OptionError, match="not both"):
        build_copc(scene, tmp_path / "out.copc.laz", scheduler="tcp://127.0.0.1:1", workers=2)


def test_unreachable_scheduler_is_named(scene, tmp_path):
    from copc_builder.algorithms.common.errors import ClusterError

    with pytest.raises(ClusterError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        build_copc(scene, tmp_path / "out.copc.laz", scheduler="tcp://127.0.0.1:9")


def test_without_dask_one_message(scene, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(DependencyError, match=r"dask\[distributed\]"):
        build_copc(scene, tmp_path / "out.copc.laz", workers=2)
    assert not (tmp_path / "out.copc.laz").exists()


def test_scheduler_without_workers_is_named(scene, tmp_path, monkeypatch):
    from copc_builder.algorithms.cluster import session
    from copc_builder.algorithms.common.errors import ClusterError

    monkeypatch.setattr(session, "WORKER_WAIT_SECONDS", 2)
    with distributed.LocalCluster(n_workers=0, host="127.0.0.1", dashboard_address="127.0.0.1:0",
                                  silence_logs=logging.ERROR) as empty:
        with pytest.raises(ClusterError, match=f"no Dask worker has joined the scheduler at "
                                               f"{empty.scheduler_address} within 2 s"):
            build_copc(scene, tmp_path / "out.copc.laz", scheduler=empty.scheduler_address, temp_dir=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_return_zero_warned_as_in_process(tmp_path, cluster):
    """Points with return number 0 spread over several read tasks: one warning per input, the same as in-process."""
    import laspy

    src = write_las(tmp_path / "zero.las", n=60_000, point_format=6, seed=4)
    las = laspy.read(str(src))
    las.return_number = np.where(np.arange(len(las.points)) % 3 == 0, 0, las.return_number)
    las.write(str(src))
    a, b = both(src, tmp_path, cluster.scheduler_address, chunk_points=10_000)
    assert_same(tmp_path)
    warned = [w for w in b.warnings if "return number 0" in w]
    assert warned == [w for w in a.warnings if "return number 0" in w] == [
        f"{src}: 20,000 points have return number 0, which is not valid; the header counts them as first returns"]
    assert b.stats["read_tasks"] > 1

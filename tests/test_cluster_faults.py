"""The cluster build on a real ``dask scheduler`` and two ``dask worker``
processes (as users start them, from a scheduler file): the same bytes as
in-process, a worker killed mid-build, workers that cannot see the work
folder or an input."""
from __future__ import annotations

import hashlib
import os
import signal
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from copc_builder.algorithms.api import build_copc  # noqa: E402
from copc_builder.algorithms.common.errors import ClusterError  # noqa: E402
from copc_builder.demo import write_sample_scene  # noqa: E402
from dask_cluster import SchedulerFileCluster, can_hide, dask_scheduler_file  # noqa: E402,F401,F811

OPTIONS = dict(memory_budget="16M", chunk_points=50_000)   # many read and unit tasks


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    return write_sample_scene(tmp_path_factory.mktemp("scene") / "scene.laz", points=400_000, seed=5)


@pytest.fixture(scope="module")
def in_process(scene, tmp_path_factory):
    out = tmp_path_factory.mktemp("in_process") / "scene.copc.laz"
    build_copc(scene, out, **OPTIONS)
    return out


def sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.mark.parametrize("how", ["scheduler file", "address"])
def test_scheduler_and_workers_processes_same_bytes(dask_scheduler_file, scene, in_process, tmp_path, how):
    cluster = dask_scheduler_file
    target = str(cluster.scheduler_file) if how == "scheduler file" else cluster.address
    summary = build_copc(scene, tmp_path / "out.copc.laz", scheduler=target, temp_dir=tmp_path, **OPTIONS)
    assert sha(tmp_path / "out.copc.laz") == sha(in_process)
    assert summary.stats["workers"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.copc.laz"]   # shared work files removed


@pytest.mark.parametrize("stage", ["read", "build"])
def test_killed_worker_costs_only_its_tasks(dask_scheduler_file, scene, in_process, tmp_path, stage):
    cluster = dask_scheduler_file
    pids = cluster.wait_for_workers(2)
    victim = min(pids.values())
    killed = []

    class KillOnce:
        def on_progress(self, event):
            if event.stage == stage and event.done < event.total and not killed:
                os.kill(victim, signal.SIGKILL)
                killed.append(event.done)

    build_copc(scene, tmp_path / "out.copc.laz", scheduler=cluster.address, observer=KillOnce(), **OPTIONS)
    assert killed, f"no {stage} progress arrived before the end"
    with pytest.raises(ProcessLookupError):
        os.kill(victim, 0)   # it really died
    assert sha(tmp_path / "out.copc.laz") == sha(in_process)
    after = cluster.wait_for_workers(2)   # the nanny started a new worker process
    assert victim not in after.values()


@pytest.fixture(scope="module")
def blind_cluster(tmp_path_factory):
    """A scheduler and two workers that see an empty folder where the client sees ``hidden``."""
    pytest.importorskip("distributed")
    root = tmp_path_factory.mktemp("blind")
    hidden = root / "hidden"
    if not can_hide(hidden):
        pytest.skip("cannot give the workers a mount namespace of their own here (needs root)")
    cluster = SchedulerFileCluster(root / "cluster", hidden=hidden)
    (root / "cluster").mkdir()
    try:
        yield cluster.start(), hidden
    finally:
        cluster.close()


def test_work_folder_the_workers_cannot_see(blind_cluster, scene, tmp_path):
    cluster, hidden = blind_cluster
    work = hidden / "work"
    work.mkdir()
    with pytest.raises(ClusterError) as info:
        build_copc(scene, tmp_path / "out.copc.laz", scheduler=cluster.address, temp_dir=work, **OPTIONS)
    text = str(info.value)
    assert "cannot see the work folder" in text and str(work) in text and "Dask worker tcp://127.0.0.1" in text
    assert list(work.iterdir()) == [] and not (tmp_path / "out.copc.laz").exists()


def test_input_the_workers_cannot_read(blind_cluster, scene, tmp_path):
    cluster, hidden = blind_cluster
    copy = hidden / "scene.laz"
    copy.write_bytes(Path(scene).read_bytes())
    with pytest.raises(ClusterError) as info:
        build_copc(copy, tmp_path / "out.copc.laz", scheduler=cluster.address, temp_dir=tmp_path, **OPTIONS)
    text = str(info.value)
    assert f"cannot read the input {copy}" in text and "does not exist on the worker" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == []

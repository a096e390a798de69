"""The Dask cluster fixtures of dask_cluster.py work: separate worker
processes on loopback, tasks run there, a killed worker is replaced, and
nothing is left running afterwards."""
from __future__ import annotations

import os
import signal
import time

import pytest

from dask_cluster import SchedulerFileCluster, dask_scheduler_file, local_cluster  # noqa: F401,F811

pytest.importorskip("distributed")


def pid_and_package() -> tuple:
    """Run on a worker: its pid and the copc_builder it imports."""
    import copc_builder

    return os.getpid(), os.path.dirname(os.path.abspath(copc_builder.__file__))


def run_on_each_worker(client, pids_wanted: int):
    """pid_and_package on every worker (one task pinned to each)."""
    workers = sorted(client.scheduler_info()["workers"])
    assert len(workers) == pids_wanted
    futures = [client.submit(pid_and_package, pure=False, workers=[w], allow_other_workers=False)
               for w in workers]
    return dict(zip(workers, client.gather(futures)))


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_scheduler_file_cluster_runs_tasks_in_its_worker_processes(dask_scheduler_file):
    import copc_builder

    cluster = dask_scheduler_file
    assert cluster.scheduler_file.is_file() and cluster.address.startswith("tcp://127.0.0.1:")
    assert len(cluster.workers) == 2 and all(w.poll() is None for w in cluster.workers)
    info = cluster.client().scheduler_info()
    assert all(a.startswith("tcp://127.0.0.1:") for a in info["workers"])
    assert all(w["nanny"].startswith("tcp://127.0.0.1:") for w in info["workers"].values())
    ran = run_on_each_worker(cluster.client(), 2)
    pids = {pid for pid, _ in ran.values()}
    assert len(pids) == 2 and os.getpid() not in pids
    assert pids == set(cluster.worker_pids().values())
    nannies = {w.pid for w in cluster.workers}
    assert not pids & nannies                       # tasks run in the nannies' children
    here = os.path.dirname(os.path.abspath(copc_builder.__file__))
    assert {package for _, package in ran.values()} == {here}   # the copc_builder under test


def test_a_killed_worker_is_restarted_by_its_nanny(dask_scheduler_file):
    """SIGKILL of a worker process: its nanny starts a new one, and the cluster
    has two workers again (the other worker untouched)."""
    cluster = dask_scheduler_file
    before = cluster.worker_pids()
    victim_address, victim = sorted(before.items())[0]
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 60
    after = cluster.worker_pids(on_error="ignore")
    while victim in after.values() or len(after) < 2:
        assert time.monotonic() < deadline, f"no replacement worker: {after}"
        time.sleep(0.5)
        after = cluster.worker_pids(on_error="ignore")
    assert len(after) == 2 and victim not in after.values()
    assert victim_address not in after                         # a new worker, at a new address
    assert set(before.values()) - {victim} <= set(after.values())
    assert all(w.poll() is None for w in cluster.workers)      # the nannies live on
    assert len({pid for pid, _ in run_on_each_worker(cluster.client(), 2).values()}) == 2


def test_close_leaves_no_process(tmp_path):
    cluster = SchedulerFileCluster(tmp_path).start(workers=1)
    started = [cluster.scheduler.pid, cluster.workers[0].pid] + list(cluster.worker_pids().values())
    cluster.close()
    assert cluster.scheduler.returncode is not None and cluster.workers[0].returncode is not None
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in started) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in started if alive(pid)]


def test_local_cluster_has_two_worker_processes(local_cluster):
    from distributed import Client

    assert local_cluster.scheduler_address.startswith("tcp://127.0.0.1:")
    with Client(local_cluster) as client:
        ran = run_on_each_worker(client, 2)
    pids = {pid for pid, _ in ran.values()}
    assert len(pids) == 2 and os.getpid() not in pids

"""Real Dask clusters for the tests, on loopback only.

Import the fixtures into a test module to use them:

    from dask_cluster import dask_scheduler_file, local_cluster  # noqa: F401,F811

- ``dask_scheduler_file`` (module scope): a ``dask scheduler`` process and two
  ``dask worker`` processes (each a nanny that starts, and restarts, one
  worker process of one thread), as a user would start them by hand with a
  scheduler file.  Yields a :class:`SchedulerFileCluster`: ``.scheduler_file``,
  ``.address``, ``.workers`` (the ``dask worker`` Popen objects: the nannies),
  ``.worker_pids()`` (worker address -> pid of the process that runs tasks),
  ``.client()``.  Everything it started is stopped at the end (SIGTERM, then
  SIGKILL of each process group).
- ``local_cluster`` (module scope): ``distributed.LocalCluster`` of two worker
  processes of one thread.

Both skip when ``distributed`` cannot be imported.  The workers import the
same ``copc_builder`` as the tests (its folder and tests/ go first on their
PYTHONPATH), so tasks can be functions of copc_builder or of a test module.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import pytest

import copc_builder

LOOPBACK = "127.0.0.1"
WORKERS = 2
START_TIMEOUT = 60.0
# The HTTP servers (health, metrics; the dashboard when bokeh is there) start
# even with --no-dashboard, on :8787 of every interface unless told otherwise.
HTTP_ON_LOOPBACK = ["--no-dashboard", "--dashboard-address", f"{LOOPBACK}:0"]


def dask_command(which: str) -> List[str]:
    """``dask scheduler`` / ``dask worker`` of this Python's environment."""
    exe = Path(sys.executable).with_name("dask")
    if exe.is_file():
        return [str(exe), which]
    return [sys.executable, "-m", f"distributed.cli.dask_{which}"]


def worker_environment() -> Dict[str, str]:
    """This environment, with the tested copc_builder and tests/ first on PYTHONPATH."""
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(copc_builder.__file__)))
    tests = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ)
    paths = [package_parent, tests] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


def stop(process: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM, wait, then SIGKILL the process and whatever is left of its group."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)   # its own session: the group is what it started
    except (ProcessLookupError, PermissionError):
        pass
    process.wait(timeout=grace)


class SchedulerFileCluster:
    """A scheduler and its workers, started as separate ``dask`` processes."""

    def __init__(self, folder: Path, hidden: Optional[Path] = None):
        self.folder = Path(folder)
        # A folder the workers do not see: each runs in its own mount
        # namespace with an empty tmpfs over it (needs root; see can_hide).
        self.hidden = hidden
        self.scheduler_file = self.folder / "scheduler.json"
        self.address: Optional[str] = None
        self.scheduler: Optional[subprocess.Popen] = None
        self.workers: List[subprocess.Popen] = []
        self.logs: List[Path] = []
        self._client = None

    def _start(self, name: str, args: List[str]) -> subprocess.Popen:
        log = self.folder / f"{name}.log"
        self.logs.append(log)
        with open(log, "wb") as out:
            return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=worker_environment(),
                                    cwd=self.folder, start_new_session=True)

    def start(self, workers: int = WORKERS) -> "SchedulerFileCluster":
        self.scheduler = self._start("scheduler", dask_command("scheduler") + [
            "--host", LOOPBACK, "--port", "0", *HTTP_ON_LOOPBACK, "--scheduler-file", str(self.scheduler_file)])
        self._wait_for_scheduler_file()
        for n in range(workers):
            local = self.folder / f"worker-{n}"
            local.mkdir(exist_ok=True)
            args = dask_command("worker") + [
                "--scheduler-file", str(self.scheduler_file), "--nworkers", "1", "--nthreads", "1",
                *HTTP_ON_LOOPBACK, "--host", LOOPBACK, "--memory-limit", "2GB",
                "--local-directory", str(local)]
            if self.hidden is not None:
                args = ["unshare", "-m", "sh", "-c", 'mount -t tmpfs none "$0" && exec "$@"',
                        str(self.hidden)] + args
            self.workers.append(self._start(f"worker-{n}", args))
        self.client().wait_for_workers(workers, timeout=START_TIMEOUT)
        self.address = json.loads(self.scheduler_file.read_text())["address"]
        return self

    def _wait_for_scheduler_file(self) -> None:
        """Until the scheduler has written its file whole (it is not written atomically)."""
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                if json.loads(self.scheduler_file.read_text()).get("address"):
                    return
            except (OSError, ValueError):
                pass
            if self.scheduler.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"dask scheduler did not start: {self.logs[0].read_text()[-2000:]}")
            time.sleep(0.1)

    def client(self):
        """One client of this cluster (made on first use, closed by ``close``)."""
        if self._client is None:
            from distributed import Client

            self._client = Client(scheduler_file=str(self.scheduler_file), timeout=START_TIMEOUT)
        return self._client

    def worker_pids(self, on_error: str = "raise") -> Dict[str, int]:
        """Worker address -> pid of the worker process (the nanny's child that runs tasks).

        on_error="ignore" leaves out a worker that cannot answer (just killed,
        before the scheduler has noticed)."""
        return self.client().run(os.getpid, on_error=on_error)

    def wait_for_workers(self, count: int, timeout: float = START_TIMEOUT) -> Dict[str, int]:
        """worker_pids() once exactly ``count`` workers are connected."""
        deadline = time.monotonic() + timeout
        while len(self.client().scheduler_info(n_workers=-1)["workers"]) != count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{count} workers wanted, have "
                                   f"{len(self.client().scheduler_info(n_workers=-1)['workers'])}")
            time.sleep(0.2)
        return self.worker_pids()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        for process in self.workers:
            stop(process)
        if self.scheduler is not None:
            stop(self.scheduler)


def can_hide(folder: Path) -> bool:
    """Whether a process here can get its own mount namespace with a tmpfs
    over ``folder`` (root, or a kernel allowing it), as the workers of a
    cluster with ``hidden`` need."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(["unshare", "-m", "sh", "-c", 'mount -t tmpfs none "$0"', str(folder)],
                              capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@pytest.fixture(scope="module")
def dask_scheduler_file(tmp_path_factory):
    pytest.importorskip("distributed")
    cluster = SchedulerFileCluster(tmp_path_factory.mktemp("dask_cluster"))
    try:
        yield cluster.start()
    finally:
        cluster.close()


@pytest.fixture(scope="module")
def local_cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=WORKERS, threads_per_worker=1, processes=True, host=LOOPBACK,
                                  dashboard_address=f"{LOOPBACK}:0") as cluster:
        yield cluster

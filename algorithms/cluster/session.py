"""The client's side of a cluster build: the Dask client (a scheduler's, or
a local cluster of our own), the job's folder in the shared work folder,
the check that every worker sees it and the inputs, and running a list of
tasks with progress, cancel and readable errors.  Everything the session
made is removed when it closes, however the build ended."""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
import uuid
from typing import Callable, List, Optional, Sequence

from ..common.errors import ClusterError, CopcBuilderError
from ..common.progress import Progress
from ..sources.native_errors import short_text
from .dask_support import import_distributed

MARKER = "copc_builder-job"
POLL_SECONDS = 0.2
WORKER_WAIT_SECONDS = 60


def _connect(distributed, scheduler: str):
    """A client of the scheduler at an address or in a scheduler file."""
    try:
        if os.path.isfile(scheduler):
            return distributed.Client(scheduler_file=scheduler, timeout="20s")
        return distributed.Client(scheduler, timeout="20s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {scheduler} ({short_text(exc)}); give the "
                           f"address of a running scheduler (tcp://host:8786) or its scheduler file") from None


def worker_sees(job_dir: str, token: str, paths: Sequence[str]) -> List[str]:
    """Run on each worker: what it cannot see of the job folder and inputs."""
    problems = []
    marker = os.path.join(job_dir, MARKER)
    try:
        with open(marker) as f:
            if f.read() != token:
                problems.append(f"the work folder {job_dir} holds another build's marker")
    except OSError as exc:
        problems.append(f"cannot see the work folder {job_dir} ({exc.strerror}); the temp folder must be a "
                        f"shared folder every worker sees at the same path (--temp-dir)")
    for path in paths:
        if not os.access(path, os.R_OK):
            why = "does not exist" if not os.path.exists(path) else "cannot be read"
            problems.append(f"cannot read the input {path} (it {why} on the worker); inputs must be readable "
                            f"by every worker at the same path")
    return problems


class ClusterSession:
    def __init__(self, scheduler: Optional[str], workers: int, temp_dir: Optional[str], progress: Progress):
        self.distributed = import_distributed()
        self.progress = progress
        self.cluster = None
        self.local = not scheduler
        if scheduler:
            self.client = _connect(self.distributed, scheduler)
        else:
            self.cluster = self._local_cluster(workers)
            self.client = self.distributed.Client(self.cluster)
        base = temp_dir or tempfile.gettempdir()
        try:
            self.job_dir = tempfile.mkdtemp(prefix=f"copc_builder-cluster-{os.getpid()}-", dir=base)
        except OSError as exc:
            self.close()
            raise ClusterError(f"cannot create a work folder in {base} ({exc.strerror})") from None
        self.token = uuid.uuid4().hex

    @staticmethod
    def start_fork_server() -> None:
        """Start the fork server the local cluster's workers come from, with
        the build's modules preloaded (worker_warm.py): it warms up on
        another core while this process goes on.  A server already running
        (an earlier build in this process) is kept."""
        import multiprocessing
        from multiprocessing import forkserver

        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["distributed", f"{__package__}.worker_warm"])
        forkserver.ensure_running()

    def _local_cluster(self, workers: int):
        """A cluster of ``workers`` processes on loopback.  They start from a
        fork server (a clean process that has imported Dask once, forking
        each worker): seconds faster to start and to close than spawning
        each, and safe, as the fork server never ran a thread pool."""
        import dask

        with dask.config.set({"distributed.worker.multiprocessing-method": "forkserver"}):
            return self.distributed.LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                # Its HTTP server (health, dashboard) on loopback too, any free port.
                dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR,
                preload=[f"{__package__}.worker_setup"])

    def _workers(self) -> dict:
        try:
            info = self.client.scheduler_info(n_workers=-1)   # some versions list 5 unless asked
        except TypeError:
            info = self.client.scheduler_info()
        return info.get("workers", {})

    @property
    def worker_count(self) -> int:
        return len(self._workers())

    def worker_memory(self) -> Optional[int]:
        """The smallest memory limit of the workers (None: none set)."""
        limits = [w.get("memory_limit") or 0 for w in self._workers().values()]
        limits = [m for m in limits if m > 0]
        return min(limits) if limits else None

    def folder(self, name: str) -> str:
        path = os.path.join(self.job_dir, name)
        os.makedirs(path, exist_ok=True)
        return path

    def check_visible(self, inputs: Sequence[str]) -> None:
        """Every worker finds the marker this client wrote, and reads every input."""
        with open(os.path.join(self.job_dir, MARKER), "w") as f:
            f.write(self.token)
        if self.worker_count == 0:
            try:
                self.client.wait_for_workers(1, timeout=WORKER_WAIT_SECONDS)
            except (TimeoutError, OSError):
                raise ClusterError(f"no Dask worker has joined the scheduler at {self.client.scheduler.address} "
                                   f"within {WORKER_WAIT_SECONDS} s; start workers for it (dask worker "
                                   f"ADDRESS)") from None
        found = self.client.run(worker_sees, self.job_dir, self.token, list(inputs))
        for worker, problems in sorted(found.items()):
            if problems:
                raise ClusterError(f"Dask worker {worker}: " + "; ".join(problems[:3])
                                   + ("; ..." if len(problems) > 3 else ""))

    def run(self, kind: str, fn: Callable, jobs: list, on_done: Callable) -> None:
        """Run fn(job) for every job on the cluster; on_done(result) as each
        ends, in any order.  Cancel stops the tasks; a task's error is raised."""
        dist = self.distributed
        futures = [self.client.submit(fn, job, key=f"{kind}-{self.token[:8]}-{i}", pure=False)
                   for i, job in enumerate(jobs)]
        pending = set(futures)
        try:
            while pending:
                self.progress.check_cancel()
                try:
                    done, pending = dist.wait(pending, timeout=POLL_SECONDS, return_when="FIRST_COMPLETED")
                except TimeoutError:
                    continue
                for future in done:
                    on_done(self._result(kind, future))
        except BaseException:
            self.client.cancel(futures)
            raise

    @staticmethod
    def _result(kind: str, future):
        if future.status == "error":
            exc = future.exception()
            if isinstance(exc, CopcBuilderError):
                raise exc
            raise ClusterError(f"a {kind} task failed on the cluster: {short_text(exc)}")
        if future.status == "cancelled":
            raise ClusterError(f"a {kind} task was cancelled by the cluster")
        result = future.result()
        future.release()
        return result

    def close(self) -> None:
        job_dir = getattr(self, "job_dir", None)
        if job_dir:
            shutil.rmtree(job_dir, ignore_errors=True)
        for thing in (self.client, self.cluster):
            try:
                if thing is not None:
                    thing.close()
            except Exception:
                pass

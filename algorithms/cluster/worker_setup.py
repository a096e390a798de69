"""Dask preload for the worker processes of the local cluster a build starts
(``--workers N``): they ignore SIGINT.  Ctrl-C in a terminal reaches the
whole process group; it is the client's to act on (it cancels the tasks,
removes the work files and closes the cluster), not the workers', which
would otherwise each print a traceback as they die."""
from __future__ import annotations

import signal


def dask_setup(worker) -> None:
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:   # not the process's main thread: nothing to change
        pass

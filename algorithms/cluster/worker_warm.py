"""Preloaded by the fork server of the local cluster a build starts
(``--workers N``), before it forks the workers: the build's modules imported
and numba's registries set up once (by one small kernel that starts no
thread pool), so every worker begins its first task warm.  Nothing here may
start a thread pool: a process that forks must not have one."""
from __future__ import annotations

import numpy as np

from ..kernels.distribute import int_bounds
from . import tasks  # noqa: F401  (the task functions and every module they use)

int_bounds(np.zeros((1, 3), np.int32), np.zeros(3, np.int64), np.zeros(3, np.int64))

"""Thread count for numba kernels and lazrs (rayon) compression."""
from __future__ import annotations

import contextlib
import os
from typing import Iterator, Optional


def prepare_threads(threads: Optional[int]) -> None:
    """Call before lazrs first runs: rayon reads RAYON_NUM_THREADS once."""
    if threads:
        os.environ["RAYON_NUM_THREADS"] = str(threads)
        os.environ.setdefault("NUMBA_NUM_THREADS", str(max(threads, os.cpu_count() or 1)))


@contextlib.contextmanager
def set_threads(threads: Optional[int]) -> Iterator[None]:
    """Use ``threads`` numba threads inside the block (all cores when None)."""
    prepare_threads(threads)
    from .. import kernels  # noqa: F401  (chooses numba's cache folder first)
    import numba

    previous = numba.get_num_threads()
    if threads:
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        yield
    finally:
        numba.set_num_threads(previous)

"""Thread count for numba kernels and lazrs (rayon) compression, and a
small pool for work that releases the GIL (the node store's page codec)."""
from __future__ import annotations

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterator, List, Optional, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")


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


def kernel_threads() -> int:
    """Threads this thread's kernels may use: all cores, or what set_threads chose."""
    import numba

    return numba.get_num_threads()


_pool: Optional[ThreadPoolExecutor] = None
_pool_lock = threading.Lock()


def _forget_pool() -> None:
    """In a forked child the pool's threads are gone: make a new one when needed."""
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def _shared_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="copc-builder")
        return _pool


def map_in_threads(fn: Callable[[T], R], items: Sequence[T], threads: int) -> List[R]:
    """[fn(item) for item in items], with up to ``threads`` items at a time:
    the calling thread and ``threads - 1`` of a shared pool take the next item
    as they finish one.  For work that releases the GIL (lz4, nogil kernels).
    Results come in the items' order; the first error is raised once every
    thread has stopped (no item is started after it)."""
    threads = min(max(int(threads), 1), len(items))
    if threads <= 1:
        return [fn(item) for item in items]
    results: List[Optional[R]] = [None] * len(items)
    errors: List[BaseException] = []
    lock = threading.Lock()
    position = iter(range(len(items)))

    def work() -> None:
        while True:
            with lock:
                i = None if errors else next(position, None)
            if i is None:
                return
            try:
                results[i] = fn(items[i])
            except BaseException as exc:   # re-raised in the caller below
                with lock:
                    errors.append(exc)

    helpers = [_shared_pool().submit(work) for _ in range(threads - 1)]
    work()
    for helper in helpers:
        helper.result()
    if errors:
        raise errors[0]
    return results  # type: ignore[return-value]

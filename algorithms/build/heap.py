"""Give the C heap's free pages back to the system.

glibc keeps memory that numpy and numba free in its heaps (and raises its
mmap threshold after a large block is freed, so later arrays of up to 32 MB
come from the heap too): over a unit's build tens of MB of freed pages stay
resident.  ``release_free_memory`` asks glibc to return them (malloc_trim);
elsewhere (no glibc) it does nothing.
"""
from __future__ import annotations

import ctypes
import ctypes.util
from typing import Callable, Optional


def _find_malloc_trim() -> Optional[Callable[[int], int]]:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_MALLOC_TRIM = _find_malloc_trim()


def release_free_memory() -> None:
    """Return the C heap's free pages to the system (glibc; else a no-op)."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)

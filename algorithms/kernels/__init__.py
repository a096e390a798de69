"""numba kernels: arrays in, arrays out, no I/O.

Importing this package points numba's on-disk cache at a user cache folder
(unless NUMBA_CACHE_DIR is already set), so compiled kernels survive between
runs even when the package itself is installed read-only.
"""
import os
import tempfile


def _cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = os.path.join(base, "copc_builder", "numba")
    try:
        os.makedirs(path, exist_ok=True)
        if os.access(path, os.W_OK):
            return path
    except OSError:
        pass
    return os.path.join(tempfile.gettempdir(), f"copc_builder-numba-{os.getuid()}")


if not os.environ.get("NUMBA_CACHE_DIR"):
    os.environ["NUMBA_CACHE_DIR"] = _cache_dir()

import numba  # noqa: E402  (after the cache folder is chosen)

if not numba.config.CACHE_DIR:
    numba.config.CACHE_DIR = os.environ["NUMBA_CACHE_DIR"]


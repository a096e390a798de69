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


# numba's OpenMP threading layer: idle worker threads wait passively (unless
# the user chose otherwise).  libgomp's default lets them spin for a while
# after every parallel region; the build alternates short kernels with lazrs
# compression (rayon threads) and Python, so the spinning took the cores those
# need: on the 10.5 M-point zurich mosaic (2 cores) the single build used
# 8.7 CPU s spinning and 8.1 passive, and the 16-tile build 11.6 and 8.4
# (benchmarks/tiles_scale.py).  Read when libgomp loads, at the first
# parallel kernel: set before it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

if not os.environ.get("NUMBA_CACHE_DIR"):
    os.environ["NUMBA_CACHE_DIR"] = _cache_dir()

import numba  # noqa: E402  (after the cache folder is chosen)

if not numba.config.CACHE_DIR:
    numba.config.CACHE_DIR = os.environ["NUMBA_CACHE_DIR"]


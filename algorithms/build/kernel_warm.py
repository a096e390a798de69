"""The build's numba kernels compiled ahead of a build, and whether a build would still compile.

numba compiles a kernel on its first call for each set of argument types;
with ``cache=True`` (every kernel in kernels/) it keeps the machine code in
its cache (the kernels' ``__pycache__``, or ``NUMBA_CACHE_DIR``), keyed by
the source file, so later processes load it in milliseconds.  The first
build on a fresh cache therefore spends about 25 s compiling (in QGIS: the
bar sat at "Reading points into the node store, 45 %").

``warm_kernels`` runs small builds that reach every kernel a build calls,
with the argument types a build passes (points from arrays and from a LAZ
file, spilled and in memory, a temporal index, QGIS statistics, leaves too
big for memory, cells in floating point, points reprojected, nodes of a
million points), then notes beside numba's cache which kernels it left
there.  ``kernels_compiled`` reads that note and numba's index of each of
those kernels (which numba empties when the source changes): False means a
build would compile first.  tests/test_kernel_warm.py holds that after
``warm_kernels`` a build of the sample scene compiles nothing.

The Dask fork server's preload (cluster/worker_warm.py) is another thing:
it imports the build's modules before forking and must start no thread
pool; this module's builds do.
"""
from __future__ import annotations

import importlib
import json
import os
import pkgutil
import sys
import tempfile
import time
from typing import Callable, Iterator, List, Optional

import numpy as np

from ..common.options import DEFAULT_BUDGET, BuildOptions
from ..common.progress import Progress
from .builder import Build

MARKER = "copc_builder-kernels.json"
STEPS = 7


def warm_kernels(on_step: Optional[Callable[[int, int], None]] = None,
                 cancel: Optional[Callable[[], bool]] = None) -> float:
    """Compile (or load from numba's cache) every kernel a build uses; the seconds it took.

    ``on_step(i, STEPS)`` is called before each of the STEPS steps (small builds);
    ``cancel`` is polled by them (BuildCancelled, as for a build).
    """
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="copc_builder-warm-") as folder:
        steps = [
            # arrays, spilled through small pages, a temporal index, nodes split and sampled
            lambda: _build(_cloud(10_000), os.path.join(folder, "a.copc.laz"), cancel, leaf_limit=2_000,
                           memory_budget=1 << 20, page_points=512, temporal_index=50, temp_dir=folder),
            # the same points from a LAZ file (LAS records), in memory
            lambda: _build(os.path.join(folder, "a.copc.laz"), os.path.join(folder, "b.copc.laz"), cancel,
                           leaf_limit=2_000, temp_dir=folder),
            # points piled on two spots: leaves too big for the budget, sorted in runs, merged and
            # sampled as streams
            lambda: _build(_piles(20_000), os.path.join(folder, "c.copc.laz"), cancel, memory_budget=1 << 20,
                           page_points=512, leaf_limit=1_000, scale=0.01, temp_dir=folder),
            # scales with no small common unit: cells computed in floating point
            lambda: _build(_cloud(5_000), os.path.join(folder, "d.copc.laz"), cancel,
                           scale=(0.001164, 0.001164, 0.001003), temp_dir=folder),
            # the LAZ reprojected (--t-srs): the lattice's kernels, from LAS records and from arrays
            lambda: _build(os.path.join(folder, "a.copc.laz"), os.path.join(folder, "e.copc.laz"), cancel,
                           a_srs="EPSG:32632", t_srs="EPSG:4326", temp_dir=folder),
            lambda: _build(_cloud(5_000), os.path.join(folder, "f.copc.laz"), cancel, a_srs="EPSG:32632",
                           t_srs="EPSG:25832", temp_dir=folder),
            _split_big_nodes,
        ]
        assert len(steps) == STEPS
        for i, step in enumerate(steps):
            if on_step is not None:
                on_step(i, len(steps))
            step()
    _write_marker()
    return time.perf_counter() - start


def _build(inputs, output: str, cancel: Optional[Callable[[], bool]], memory_budget: int = DEFAULT_BUDGET,
           scale=None, **options) -> None:
    """One small build, as ``build_copc`` runs it in process."""
    scale = (scale,) * 3 if isinstance(scale, float) else scale
    options = BuildOptions(memory_budget=memory_budget, scale=scale, **options).checked()
    Build(inputs, output, options, Progress(None, cancel), "copc_builder kernel warm-up").run()


def kernels_compiled() -> Optional[bool]:
    """True when numba's cache holds every kernel ``warm_kernels`` left there, current with
    the source; False when a build would compile first; None when this cannot be told
    (numba's cache laid out otherwise than this numba version's)."""
    try:
        path = _marker_path()
        if path is None:
            return None
        try:
            with open(path, encoding="utf-8") as f:
                note = json.load(f)
        except (OSError, ValueError):
            return False
        if note.get("numba") != _numba_version() or note.get("python") != list(sys.version_info[:2]):
            return False
        wanted = set(note.get("kernels", []))
        found = {name: kernel for name, kernel in _kernels() if name in wanted}
        return len(found) == len(wanted) and all(_cached(kernel) for kernel in found.values())
    except Exception:     # noqa: BLE001 (numba's private cache layout: unknown is an answer)
        return None


def _kernels() -> Iterator:
    """(module.function, dispatcher) of every numba kernel of kernels/."""
    from .. import kernels

    for info in pkgutil.iter_modules(kernels.__path__):
        module = importlib.import_module(f"{kernels.__name__}.{info.name}")
        for name, value in vars(module).items():
            if hasattr(value, "py_func") and hasattr(value, "_cache") and value.__module__ == module.__name__:
                yield f"{info.name}.{name}", value


def _cached(kernel) -> bool:
    return bool(kernel._cache._cache_file._load_index())    # {} when missing or stale


def _cached_kernels() -> List[str]:
    return sorted(name for name, kernel in _kernels() if _cached(kernel))


def _marker_path() -> Optional[str]:
    for _, kernel in _kernels():
        folder = getattr(kernel._cache, "cache_path", None)
        return os.path.join(folder, MARKER) if folder else None
    return None


def _write_marker() -> None:
    path = _marker_path()
    if path is None:
        return
    note = {"numba": _numba_version(), "python": list(sys.version_info[:2]), "kernels": _cached_kernels()}
    temp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(temp, "w", encoding="utf-8") as f:
            json.dump(note, f, indent=1)
        os.replace(temp, path)
    except OSError:       # a read-only cache: numba then compiles anyway; nothing to note
        try:
            os.remove(temp)
        except OSError:
            pass


def _numba_version() -> str:
    import numba

    return numba.__version__


def _cloud(n: int) -> np.ndarray:
    """A small survey-like cloud with every field a build carries: clustered, returns, GPS time, RGB."""
    rng = np.random.default_rng(12)
    points = np.zeros(n, [("X", "f8"), ("Y", "f8"), ("Z", "f8"), ("Intensity", "u2"), ("ReturnNumber", "u1"),
                          ("NumberOfReturns", "u1"), ("Classification", "u1"), ("GpsTime", "f8"),
                          ("Red", "u2"), ("Green", "u2"), ("Blue", "u2")])
    centres = rng.uniform(0, 200, (12, 2))
    around = centres[rng.integers(0, len(centres), n)] + rng.normal(0, 8, (n, 2))
    points["X"], points["Y"] = around[:, 0] + 600_000.0, around[:, 1] + 5_200_000.0
    points["Z"] = 400.0 + rng.normal(0, 3, n)
    points["Intensity"] = rng.integers(0, 4_000, n)
    points["NumberOfReturns"] = rng.integers(1, 4, n)
    points["ReturnNumber"] = 1 + rng.integers(0, 3, n) % points["NumberOfReturns"]
    points["Classification"] = rng.choice([1, 2, 5, 6], n)
    points["GpsTime"] = np.sort(rng.uniform(0, 100, n))
    for band in ("Red", "Green", "Blue"):
        points[band] = rng.integers(0, 65_535, n)
    return points


def _piles(n: int) -> np.ndarray:
    """``n`` points on two spots 2 cm apart: the deepest leaves hold them all."""
    rng = np.random.default_rng(13)
    points = np.zeros(n, [("X", "f8"), ("Y", "f8"), ("Z", "f8"), ("Intensity", "u2"), ("GpsTime", "f8")])
    points["X"], points["Y"], points["Z"] = np.where(np.arange(n) % 2, 1_000.0, 1_000.02), 2_000.0, 10.0
    points["Intensity"] = rng.integers(0, 50, n)
    points["GpsTime"] = rng.integers(0, 1_000, n) / 10.0
    return points


def _split_big_nodes() -> None:
    """The kernels that split a node of BIG_NODE points or more (a million), called as the
    octree unit calls them, on a few points: a build reaches them only on inputs that big."""
    from ..kernels.octree import split_big_node, split_root
    from .octree_unit import BIG_NODE, index_dtype

    codes = np.arange(64, dtype=np.int64)[::-1].copy()        # the fine Morton codes (Cube.fine_codes)
    perm = np.zeros(len(codes), index_dtype(BIG_NODE))
    counts = np.zeros((1, 512), np.int64)
    split_root(codes, 0, 3, 8, perm, counts[0])                 # three levels a pass, leaves of 8
    scratch = np.empty(len(codes), perm.dtype)
    split_big_node(codes, perm, 0, len(codes), 0, 3, 8, counts[0], scratch, np.empty(len(codes), np.uint16))

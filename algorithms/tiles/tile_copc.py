"""One COPC file from the points of one tile (or one overview cell).

The tile's own cube is chosen from its own points' exact bounds, so a tile's
bytes depend only on its points and the collection's header fields (point
format, scale, offset, CRS), not on which other tiles exist.  Points that fit
a unit are built in memory at once (``build_unit``); a bigger tile is cut
into buckets of its cube in the shared store and built unit by unit by the
same ``TreeBuilder`` as the single-file build, so the bytes are the same
whatever the memory budget.  The root node's points, thinned to one point
per cell of the root's 128 x 128 x 128 sampling grid (the points a parent of
the root would take; a tile of many nodes has no more than that in its root,
a tile of one node has all its points there), are handed to ``on_root``:
they make the overview.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Callable, Optional, Sequence, Tuple

import numpy as np

from ..build.distribution import split_into_buckets
from ..build.memory_budget import MemoryBudget
from ..build.octree_unit import build_unit
from ..build.tree import TreeBuilder
from ..format.node_key import ROOT
from ..kernels.merge import sample_stream
from ..kernels.octree import lod_grid
from ..points.columns import Columns
from ..points.cube import Cube
from ..store import PointStore
from ..writer.copc_writer import CopcWriter
from ..writer.output_header import HeaderTemplate

RootSink = Callable[[Columns], None]


@dataclass
class TileSettings:
    """What every tile of a build is built with."""

    header: HeaderTemplate
    extensions: Tuple            # writer extensions, copied fresh for every file
    leaf_limit: int
    unit_points: int
    budget: MemoryBudget
    work_folder: str
    page_levels: int = 0
    check_cancel: Callable[[], None] = lambda: None
    on_points: Callable[[int], None] = lambda n: None   # points written, for progress


@dataclass
class CopcWritten:
    path: str
    points: int
    nodes: int
    depth: int
    bytes: int
    imin: np.ndarray        # integer bounds of the points written
    imax: np.ndarray


def tile_cube(settings: TileSettings, imin, imax) -> Cube:
    h = settings.header
    return Cube.enclosing(imin, imax, h.scales, h.offsets)


def write_copc_from_columns(cols: Columns, imin, imax, path: str, settings: TileSettings,
                            on_root: Optional[RootSink] = None) -> CopcWritten:
    """A COPC of these points (they fit a unit), built in memory."""
    cube = tile_cube(settings, imin, imax)
    writer = _open_writer(path, cube, settings)
    try:
        build_unit(cols, ROOT, cube, settings.leaf_limit, _emitter(writer, settings, _thinned(on_root, cube)),
                   True, settings.check_cancel)
        return _close(writer)
    except BaseException:
        writer.abort()
        raise


def write_copc_from_store(store: PointStore, key: int, imin, imax, path: str, settings: TileSettings,
                          on_root: Optional[RootSink] = None) -> CopcWritten:
    """A COPC of the points the store holds under ``key``; they leave the store."""
    count = store.count(key)
    if count <= max(settings.unit_points, settings.leaf_limit):
        return write_copc_from_columns(store.take(key), imin, imax, path, settings, on_root)
    cube = tile_cube(settings, imin, imax)
    level = settings.budget.bucket_level(count, settings.unit_points, cube)
    for part in store.drain(key):
        split_into_buckets(store, part, cube.fine_codes(part.xyz), ROOT, level)
    writer = _open_writer(path, cube, settings)
    try:
        thinned = _thinned(on_root, cube)
        TreeBuilder(store, cube, settings.leaf_limit, settings.unit_points, _emitter(writer, settings, thinned),
                    settings.check_cancel, _stream_emitter(writer, settings, thinned)).run()
        return _close(writer)
    except BaseException:
        writer.abort()
        raise


def _open_writer(path: str, cube: Cube, settings: TileSettings) -> CopcWriter:
    fresh = [copy.deepcopy(e) for e in settings.extensions]
    return CopcWriter(path, settings.header, cube, settings.work_folder, settings.page_levels, fresh)


def _close(writer: CopcWriter) -> CopcWritten:
    size = writer.close()
    return CopcWritten(writer.output, writer.points, writer.node_count, writer.depth, size,
                       writer.fold.mins.copy(), writer.fold.maxs.copy())


def _thinned(on_root: Optional[RootSink], cube: Cube) -> Optional[RootSink]:
    """``on_root`` given only the first point of each cell of the root's sampling grid, in the
    order the root's points come (canonical order)."""
    if on_root is None:
        return None
    bitmap = np.zeros(lod_grid(0)[2], np.uint8)

    def sink(cols: Columns) -> None:
        flags = np.empty(len(cols), np.uint8)
        sample_stream(cube.fine_codes(cols.xyz), 0, bitmap, flags)
        on_root(cols.take(np.flatnonzero(flags)))
    return sink


def _emitter(writer: CopcWriter, settings: TileSettings, on_root: Optional[RootSink]):
    def emit(keys: Sequence[int], counts: Sequence[int], cols: Columns, index: np.ndarray) -> None:
        writer.add_nodes(keys, counts, cols, index)
        settings.on_points(len(index))
        if on_root is not None and keys[0] == ROOT:   # the root is emitted alone, last
            on_root(cols.take(index))
    return emit


def _stream_emitter(writer: CopcWriter, settings: TileSettings, on_root: Optional[RootSink]):
    def emit_stream(key: int, parts) -> None:
        def counted():
            for cols, index in parts:
                yield cols, index
                settings.on_points(len(index))
                if on_root is not None and key == ROOT:
                    on_root(cols.take(index))
        writer.add_node_stream(key, counted())
    return emit_stream

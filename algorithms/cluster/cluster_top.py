"""The levels above the units, on the client: each unit's own points (left
by its task in a shard) go into a store, and the tree builder makes the
nodes from the units' parents up to the root."""
from __future__ import annotations

import copy
import os
import threading
from typing import List

import numpy as np

from ..build.memory_budget import MemoryBudget
from ..build.octree_unit import merge_children
from ..build.tree import TreeBuilder
from ..common.options import BuildOptions
from ..common.progress import Progress
from ..format.node_key import ROOT
from ..points.columns import Columns
from ..points.cube import Cube
from ..store import PointStore
from ..writer.copc_writer import CopcWriter
from ..writer.node_spool import NodeSpool
from .shards import load_pieces
from .tasks import UnitsBuilt


def build_top(writer: CopcWriter, cube: Cube, built: List[UnitsBuilt], rest_size: int, budget: MemoryBudget,
              unit_points: int, options: BuildOptions, folder: str, progress: Progress) -> None:
    roots = {key: pieces for result in built for key, pieces in result.roots.items()}
    if not roots:   # one unit, the root: its task wrote every node
        return
    store = PointStore(rest_size, budget.build_store_bytes(), folder, options.page_points)
    try:
        for key in sorted(roots):
            for piece in roots[key]:   # a piece at a time: a big root is never whole in memory
                store.append(key, load_pieces([piece], rest_size))
        tree = TreeBuilder(store, cube, options.leaf_limit, unit_points, writer.add_nodes,
                           progress.check_cancel, writer.add_node_stream, top=ROOT)
        tree.big.update(key for result in built for key in result.big_roots)
        tree.build_top(sorted(roots))
    finally:
        store.close()


def warm_top_kernels(layout, cube: Cube, extensions, folder: str) -> threading.Thread:
    """Load the kernels the levels above the units and the writer use (from
    numba's cache: a second or so in a new process) in a thread while the
    tasks run, so the client is ready when the last one ends.  A node of a
    few points is sampled and written to a throwaway spool; nothing is kept."""
    def run() -> None:
        try:
            n = 64
            cols = Columns(np.tile(np.array(cube.imin, np.int32), (n, 1)), np.linspace(0.0, 1.0, n),
                           np.zeros((n, layout.rest_size), np.uint8))
            spool = NodeSpool(layout, os.path.join(folder, "warm.laz"), [copy.deepcopy(e) for e in extensions])
            try:
                merge_children(ROOT, [(ROOT << 3, cols)], cube, spool.add_nodes, True, layout.rest_size)
                spool.flush()   # compressed, and folded by the extensions, as the real nodes are
            finally:
                spool.close()
        except Exception:   # only a warm-up: the real work reports its own errors
            pass

    thread = threading.Thread(target=run, name="copc_builder-warm-up", daemon=True)
    thread.start()
    return thread

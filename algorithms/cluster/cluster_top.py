"""The levels above the units, on the client: each unit's own points (left
by its task in a shard) go into a store, and the tree builder makes the
nodes from the units' parents up to the root."""
from __future__ import annotations

from typing import List

from ..copc_writer import CopcWriter
from ..cube import Cube
from ..format.node_key import ROOT
from ..memory_budget import MemoryBudget
from ..options import BuildOptions
from ..progress import Progress
from ..store import PointStore
from ..tree import TreeBuilder
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

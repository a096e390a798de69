"""The node store's keys: one integer space holding three kinds of key.

    raw    RAW_KEY (0): points read before the root cube is known
           (build/distribution.py re-buckets them once it is)
    node   an octree node's key (node_key.py): 1 << 3*level | morton,
           below 1 << (3 * MAX_LEVEL + 1)
    tile   TILE_KEY_BASE + ...: the points of one tile (or one overview
           cell) of a tiled build, before it is built (tiles/)
    run    RUN_KEY_BASE + i: sorted run i of a node too big for memory
           (build/big_node.py)

The kinds never overlap, so the store needs no tag beside the key.
"""
from __future__ import annotations

from ..format.node_key import MAX_LEVEL

RAW_KEY = 0
NODE_KEY_LIMIT = 1 << (3 * MAX_LEVEL + 1)   # node keys are below this
TILE_KEY_BASE = 3 << 60   # tile keys are from here up to RUN_KEY_BASE
RUN_KEY_BASE = 1 << 62


def run_key(index: int) -> int:
    """The store key of sorted run ``index``."""
    return RUN_KEY_BASE + index


def is_node_key(key: int) -> bool:
    """An octree node's key (not raw, tile or run)."""
    return RAW_KEY < key < NODE_KEY_LIMIT


def key_kind(key: int) -> str:
    """'raw', 'node', 'tile' or 'run'."""
    if key == RAW_KEY:
        return "raw"
    if key < NODE_KEY_LIMIT:
        return "node"
    if key >= RUN_KEY_BASE:
        return "run"
    if key >= TILE_KEY_BASE:
        return "tile"
    raise ValueError(f"{key:#x} is no store key")

"""The writer's seam for optional EVLRs (QGIS statistics, a temporal index...).

An extension watches every node's records as the writer makes them, then
gives one EVLR when the file is closed.  Nodes arrive in any order (as the
builder finishes them); a node too big for memory arrives in parts, each
with the index of its first point in the node.  Whatever an extension
computes must not depend on that order or on where parts are cut, so the
output stays the same whatever the thread count or memory budget.  The
cluster build gives each unit task a fresh copy (pickled) and merges the
copies back (``merge``), so the state must pickle and merge in any order.

An extension may also have ``nodes_records(keys, counts, records)``: whole
nodes one after another, as node_records would get them.  The writer then
calls it instead, from a thread of its own while lazrs compresses the same
records, so it should spend its time in a kernel that holds no GIL and
touch nothing but its own state (the QGIS statistics do).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Protocol, Tuple

import numpy as np

# packed node key -> (file offset, byte size, point count) of every node in the file
NodeEntries = Dict[int, Tuple[int, int, int]]


@dataclass
class EvlrData:
    user_id: str
    record_id: int
    description: str
    data: bytes


class WriterExtension(Protocol):
    def node_records(self, key: int, first: int, records: np.ndarray) -> None:
        """``records`` (n x record size, uint8) are the node's points first .. first+n, in file order."""

    def merge(self, other: "WriterExtension") -> None:
        """Take the state of another copy (that saw other nodes) into this one."""

    def evlr(self, nodes: NodeEntries, data_offset: int) -> Optional[EvlrData]:
        """The EVLR to append (its data starts at file offset ``data_offset``), or None."""

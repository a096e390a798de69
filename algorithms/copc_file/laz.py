"""The LAZ side of a COPC file: the LASzip VLR and its items, the chunk
table, and the head of a layered (LAZ 1.4) chunk.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import List, Tuple

from .spec import (
    LAZ_ITEM_BYTE14,
    LAZ_ITEM_POINT14,
    LAZ_ITEM_RGB14,
    LAZ_ITEM_RGBNIR14,
    LAZ_ITEM_WAVEPACKET14,
    VARIABLE_CHUNK_SIZE,
)


@dataclass
class LazItem:
    item_type: int
    size: int
    version: int



@dataclass
class LazVlr:
    """The LASzip VLR (user "laszip encoded", record 22204)."""

    compressor: int
    coder: int
    version_major: int
    version_minor: int
    version_revision: int
    options: int
    chunk_size: int
    num_special_evlrs: int
    offset_special_evlrs: int
    items: List[LazItem]
    raw: bytes = field(repr=False, default=b"")

    unpacker = struct.Struct("<HHBBHIIqqH")   # 34 bytes, then num_items x item
    item_unpacker = struct.Struct("<HHH")

    @classmethod
    def from_bytes(cls, data: bytes) -> "LazVlr":
        if len(data) < cls.unpacker.size:
            raise ValueError(f"LAZ VLR holds {len(data)} bytes, needs at least {cls.unpacker.size}")
        v = cls.unpacker.unpack_from(data, 0)
        n_items = v[9]
        need = cls.unpacker.size + n_items * cls.item_unpacker.size
        if len(data) < need:
            raise ValueError(f"LAZ VLR lists {n_items} items ({need} bytes) but holds {len(data)} bytes")
        items = [LazItem(*cls.item_unpacker.unpack_from(data, cls.unpacker.size + 6 * i))
                 for i in range(n_items)]
        return cls(*v[:9], items=items, raw=bytes(data))

    @property
    def variable_chunks(self) -> bool:
        return self.chunk_size == VARIABLE_CHUNK_SIZE

    @property
    def point_size(self) -> int:
        """Bytes per decoded point, as the items describe it."""
        return sum(item.size for item in self.items)

    @property
    def layer_count(self) -> int:
        """Number of layers (each with a u32 size) in a layered chunk's header."""
        count = 0
        for item in self.items:
            if item.item_type == LAZ_ITEM_POINT14:
                count += 9
            elif item.item_type in (LAZ_ITEM_RGB14, LAZ_ITEM_WAVEPACKET14):
                count += 1
            elif item.item_type == LAZ_ITEM_RGBNIR14:
                count += 2
            elif item.item_type == LAZ_ITEM_BYTE14:
                count += item.size
        return count



@dataclass
class ChunkTable:
    """The LAZ chunk table: where it is and its (point count, byte size) pairs."""

    offset: int
    version: int
    chunks: List[Tuple[int, int]]

    header_unpacker = struct.Struct("<II")



def layered_chunk_header(data: bytes, laz: LazVlr) -> Tuple[int, List[int]]:
    """(point count, layer sizes) from the head of a layered (LAZ 1.4) chunk.

    Such a chunk starts with its first point raw, then a u32 point count and
    one u32 size per layer; so the chunk itself says how many points it holds
    and how long it is, which the hierarchy and the chunk table must repeat.
    """
    raw = laz.point_size
    layers = laz.layer_count
    need = raw + 4 + 4 * layers
    if len(data) < need:
        raise ValueError(f"chunk is {len(data)} bytes, shorter than its own header ({need} bytes)")
    (count,) = struct.unpack_from("<I", data, raw)
    sizes = list(struct.unpack_from(f"<{layers}I", data, raw + 4))
    return count, sizes



def layered_chunk_size(laz: LazVlr, layer_sizes: List[int]) -> int:
    return laz.point_size + 4 + 4 * len(layer_sizes) + sum(layer_sizes)

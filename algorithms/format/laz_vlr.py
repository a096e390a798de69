"""The LAZ records: the LASzip VLR and its items, the chunk table's head, and
the head of a layered (LAZ 1.4) chunk."""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import List, Tuple

from .record_ids import VARIABLE_CHUNK_SIZE

# LASzip compressors (the VLR's ``compressor`` field).
COMPRESSOR_NONE, COMPRESSOR_POINTWISE, COMPRESSOR_POINTWISE_CHUNKED, COMPRESSOR_LAYERED_CHUNKED = 0, 1, 2, 3
COMPRESSOR_NAMES = {COMPRESSOR_NONE: "none", COMPRESSOR_POINTWISE: "pointwise",
                    COMPRESSOR_POINTWISE_CHUNKED: "pointwise chunked",
                    COMPRESSOR_LAYERED_CHUNKED: "layered chunked"}
LAZ_LAYERED_COMPRESSOR = COMPRESSOR_LAYERED_CHUNKED

# LASzip item types (laszip_dll / lazrs LazItemType).
LAZ_ITEM_POINT14, LAZ_ITEM_RGB14, LAZ_ITEM_RGBNIR14 = 10, 11, 12
LAZ_ITEM_WAVEPACKET14, LAZ_ITEM_BYTE14 = 13, 14
ITEM_NAMES = {0: "BYTE", 6: "POINT10", 7: "GPSTIME11", 8: "RGB12", 9: "WAVEPACKET13", LAZ_ITEM_POINT14: "POINT14",
              LAZ_ITEM_RGB14: "RGB14", LAZ_ITEM_RGBNIR14: "RGBNIR14", LAZ_ITEM_WAVEPACKET14: "WAVEPACKET14",
              LAZ_ITEM_BYTE14: "BYTE14"}
# Layers a layered (v3) chunk holds per item (BYTE14: one per byte).
_ITEM_LAYERS = {LAZ_ITEM_POINT14: 9, LAZ_ITEM_RGB14: 1, LAZ_ITEM_WAVEPACKET14: 1, LAZ_ITEM_RGBNIR14: 2}


@dataclass
class LazItem:
    item_type: int
    size: int
    version: int

    @property
    def name(self) -> str:
        return ITEM_NAMES.get(self.item_type, "unknown")


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
        items = [LazItem(*cls.item_unpacker.unpack_from(data, cls.unpacker.size + cls.item_unpacker.size * i))
                 for i in range(n_items)]
        return cls(*v[:9], items=items, raw=bytes(data))

    def to_bytes(self) -> bytes:
        head = self.unpacker.pack(self.compressor, self.coder, self.version_major, self.version_minor,
                                  self.version_revision, self.options, self.chunk_size, self.num_special_evlrs,
                                  self.offset_special_evlrs, len(self.items))
        return head + b"".join(self.item_unpacker.pack(i.item_type, i.size, i.version) for i in self.items)

    @property
    def compressor_name(self) -> str:
        return COMPRESSOR_NAMES.get(self.compressor, "unknown")

    @property
    def version(self) -> str:
        return f"{self.version_major}.{self.version_minor}r{self.version_revision}"

    @property
    def variable_chunks(self) -> bool:
        return self.chunk_size == VARIABLE_CHUNK_SIZE

    @property
    def chunked(self) -> bool:
        """Points compressed in chunks (compressors 2 and 3), which a reader
        can decode in parallel and seek into chunk by chunk."""
        return self.compressor in (COMPRESSOR_POINTWISE_CHUNKED, COMPRESSOR_LAYERED_CHUNKED)

    @property
    def point_size(self) -> int:
        """Bytes per decoded point, as the items describe it."""
        return sum(item.size for item in self.items)

    @property
    def layer_count(self) -> int:
        """Number of layers (each with a u32 size) in a layered chunk's header."""
        count = 0
        for item in self.items:
            if item.item_type == LAZ_ITEM_BYTE14:
                count += item.size
            else:
                count += _ITEM_LAYERS.get(item.item_type, 0)
        return count


@dataclass
class ChunkTable:
    """The LAZ chunk table: where it is and its (point count, byte size) pairs."""

    offset: int
    version: int
    chunks: List[Tuple[int, int]]

    header_unpacker = struct.Struct("<II")   # version, number of chunks


_count = struct.Struct("<I")


def layered_chunk_header(data: bytes, laz: LazVlr) -> Tuple[int, List[int]]:
    """(point count, layer sizes) from the head of a layered (LAZ 1.4) chunk.

    Such a chunk starts with its first point raw, then a u32 point count and
    one u32 size per layer; so the chunk itself says how many points it holds
    and how long it is, which the hierarchy and the chunk table must repeat.
    """
    raw = laz.point_size
    layers = laz.layer_count
    need = raw + _count.size * (1 + layers)
    if len(data) < need:
        raise ValueError(f"chunk is {len(data)} bytes, shorter than its own header ({need} bytes)")
    (count,) = _count.unpack_from(data, raw)
    sizes = list(struct.unpack_from(f"<{layers}I", data, raw + _count.size))
    return count, sizes


def layered_chunk_size(laz: LazVlr, layer_sizes: List[int]) -> int:
    return laz.point_size + _count.size * (1 + len(layer_sizes)) + sum(layer_sizes)

"""The hierarchy, chunk-table and node half of ``CopcFile``.

A mixin: it reads through the file's ``read_at``, ``error``, ``header``,
``read_info`` and ``read_laz_vlr``, which ``CopcFile`` defines.
"""
from __future__ import annotations

import struct
from typing import List, Optional

import numpy as np

from ..format import (HIERARCHY_ENTRY_SIZE, ChunkTable, HierarchyEntry, LazVlr, NodeKey, parse_page,
                      point_record_dtype)


class CopcFileNodes:
    """Hierarchy pages, the LAZ chunk table and node chunks of a ``CopcFile``."""

    # -- hierarchy -----------------------------------------------------------

    def read_page(self, offset: int, size: int) -> List[HierarchyEntry]:
        """The entries of one hierarchy page."""
        if size <= 0 or size % HIERARCHY_ENTRY_SIZE:
            raise self.error(f"hierarchy page at byte {offset} has size {size}, "
                             f"not a positive multiple of {HIERARCHY_ENTRY_SIZE}")
        return parse_page(self.read_at(offset, size, "hierarchy page"), offset)

    # -- LAZ chunk table -------------------------------------------------------

    def chunk_table_offset(self) -> int:
        """The i64 at the start of the point data: where the chunk table is."""
        start = self.header.offset_to_point_data
        (offset,) = struct.unpack("<q", self.read_at(start, 8, "chunk table offset"))
        return offset

    def read_chunk_table(self, laz: Optional[LazVlr] = None) -> ChunkTable:
        laz = laz or self.read_laz_vlr()
        offset = self.chunk_table_offset()
        if offset == -1:
            raise self.error("chunk table offset is -1: the writer never filled it in")
        if offset < self.header.offset_to_point_data + 8:
            raise self.error(f"chunk table offset {offset} points before the point data "
                             f"(which starts at byte {self.header.offset_to_point_data})")
        version, count = ChunkTable.header_unpacker.unpack(self.read_at(offset, 8, "chunk table header"))
        if version != 0:
            raise self.error(f"chunk table at byte {offset} has version {version}, expected 0")
        if count == 0:
            return ChunkTable(offset, version, [])
        import io

        import lazrs

        # The pairs are arithmetic-coded; lazrs decodes them.  It wants the
        # stream at the start of the point data and seeks by itself.  Give it
        # only the bytes it may need (the rest of the file from the table on)
        # so a lying count cannot make it read forever.
        # An arithmetic-coded pair never takes more than a few bytes; bound
        # the read so a lying count cannot pull in the whole file.
        tail_size = min(self.size - offset, 8 + 32 * count + 1024)
        tail = self.read_at(offset, tail_size, "chunk table")
        buf = io.BytesIO(struct.pack("<q", 8) + tail)
        try:
            chunks = lazrs.read_chunk_table(buf, lazrs.LazVlr(laz.raw))
        except Exception as exc:   # lazrs raises LazrsError, or ValueError on bad VLRs
            raise self.error(f"chunk table at byte {offset} ({count} chunks) cannot be "
                             f"decoded: {exc}") from None
        chunks = [(int(c), int(s)) for c, s in chunks]
        if len(chunks) != count:
            raise self.error(f"chunk table at byte {offset} says {count} chunks, "
                             f"decoded {len(chunks)}")
        return ChunkTable(offset, version, chunks)

    # -- nodes -------------------------------------------------------------------

    def point_dtype(self) -> np.dtype:
        h = self.header
        try:
            return point_record_dtype(h.point_format, h.point_record_length)
        except ValueError as exc:
            raise self.error(str(exc)) from None

    def read_chunk(self, entry: HierarchyEntry) -> bytes:
        return self.read_at(entry.offset, entry.byte_size, f"LAZ chunk of node {entry.key}")

    def decode_chunk(self, data: bytes, count: int, laz: LazVlr, key: NodeKey,
                     dtype: Optional[np.dtype] = None) -> np.ndarray:
        """``count`` raw records decoded from one node's LAZ chunk."""
        import lazrs

        dtype = dtype or self.point_dtype()
        if laz.point_size != dtype.itemsize:
            raise self.error(f"LAZ items describe {laz.point_size}-byte points, the header "
                             f"says {dtype.itemsize} bytes")
        out = np.zeros(count * dtype.itemsize, dtype=np.uint8)
        try:
            lazrs.decompress_points_with_chunk_table(bytes(data), laz.raw, out, [(count, len(data))])
        except Exception as exc:
            raise self.error(f"node {key}: its LAZ chunk ({len(data)} bytes) does not decode "
                             f"to {count} points: {exc}") from None
        return out.view(dtype)


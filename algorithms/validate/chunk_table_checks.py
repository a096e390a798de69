"""Checks of the LAZ chunk table: where it is, and that it lists the chunks the
hierarchy does (chunk_table).
"""
from __future__ import annotations

from typing import Optional

from ..common.errors import CopcBuilderError
from ..format import ChunkTable
from .context import ValidationContext


def check_chunk_table_offset(ctx: ValidationContext) -> Optional[int]:
    """Where the chunk table is, if that is sane; it bounds the point data."""
    h, f = ctx.header, ctx.file
    try:
        offset = f.chunk_table_offset()
    except CopcBuilderError as exc:
        ctx.error("chunk_table", exc.problem)
        return None
    limit = h.evlr_start if h.evlr_count and h.evlr_start <= f.size else f.size
    if offset == -1:
        ctx.error("chunk_table", "the chunk table offset at the start of the point data is -1 "
                  "(never filled in)")
        return None
    if not (h.offset_to_point_data + 8 <= offset and offset + 8 <= limit):
        ctx.error("chunk_table", f"the chunk table offset {offset} is outside the point data "
                  f"(bytes {h.offset_to_point_data + 8}..{limit})")
        return None
    return offset


def check_chunk_table(ctx: ValidationContext) -> Optional[ChunkTable]:
    """The chunk table, read with the LAZ VLR; its chunks end where it starts."""
    if ctx.laz is None or ctx.table_offset is None:
        return None
    try:
        table = ctx.file.read_chunk_table(ctx.laz)
    except CopcBuilderError as exc:
        ctx.error("chunk_table", exc.problem)
        return None
    end = ctx.header.offset_to_point_data + 8 + sum(size for _, size in table.chunks)
    if end > table.offset:
        ctx.error("chunk_table", f"the {len(table.chunks)} chunks end at byte {end}, past the chunk "
                  f"table at byte {table.offset}")
    elif end < table.offset:
        ctx.warning("chunk_table", f"{table.offset - end} bytes between the last chunk (ends at "
                    f"byte {end}) and the chunk table (at byte {table.offset})")
    return table


def check_chunks_match(ctx: ValidationContext) -> None:
    """Chunk table and hierarchy describe the same chunks, in file order."""
    table = ctx.table
    nodes = sorted((e for e in ctx.entries if e.point_count > 0), key=lambda e: e.offset)
    if len(nodes) != len(table.chunks):
        ctx.error("chunk_table", f"the chunk table lists {len(table.chunks)} chunks, the hierarchy "
                  f"{len(nodes)} non-empty nodes")
    position = ctx.header.offset_to_point_data + 8
    for i, (entry, (count, size)) in enumerate(zip(nodes, table.chunks)):
        if (entry.offset, entry.byte_size, entry.point_count) != (position, size, count):
            ctx.error("chunk_table", f"node {entry.key}: hierarchy says {entry.point_count} points, "
                      f"{entry.byte_size} bytes at byte {entry.offset}; chunk {i} of the chunk table "
                      f"holds {count} points, {size} bytes at byte {position}")
        position += size

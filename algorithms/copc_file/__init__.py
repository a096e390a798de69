"""Read-only, byte-level view of a COPC file: LAS 1.4 header, (E)VLRs, the
COPC info and hierarchy records, the LAZ VLR and chunk table, and node
decoding.

This is the validator's and ``info``'s reader, not the writer's: it trusts
nothing and turns every malformed byte range into a ``MalformedCopcError``
that names the file, the record and the numbers, never a raw struct or lazrs
traceback.  Each binary layout lives on its type as a ``struct.Struct``.

Only headers and small records are read eagerly; hierarchy pages, the chunk
table and node chunks are read on request, so a caller decides how much
memory to use (the validator decodes one node at a time).

    spec.py          sizes, record ids and item types from the specs; the error
    header.py        LasHeader, the public header block
    vlrs.py          Vlr, one VLR or EVLR
    copc_records.py  CopcInfo, NodeKey, HierarchyEntry, level_counts
    laz.py           LazVlr and its items, ChunkTable, layered chunk heads
    point_record.py  ExtraBytesField, point_record_dtype
    reader.py        CopcFile (records), is_copc
    nodes.py         CopcFile's hierarchy, chunk-table and node reading
"""
from __future__ import annotations

from .copc_records import CopcInfo, HierarchyEntry, NodeKey, level_counts
from .header import LasHeader
from .hierarchy_walk import HierarchyCounts, HierarchyPage, PageProblem, walk_pages
from .laz import ChunkTable, LazItem, LazVlr, layered_chunk_header, layered_chunk_size
from .point_record import ExtraBytesField, point_record_dtype
from .reader import CopcFile, is_copc
from .spec import (
    COPC_HIERARCHY_RECORD, COPC_INFO_RECORD, COPC_INFO_SIZE, COPC_POINT_FORMATS, COPC_USER,
    EVLR_HEADER_SIZE, EXTRA_BYTES_RECORD, GEOTIFF_RECORD, HIERARCHY_ENTRY_SIZE, LAS14_HEADER_SIZE,
    LAZ_FORMAT_BIT, LAZ_ITEM_BYTE14, LAZ_ITEM_POINT14, LAZ_ITEM_RGB14, LAZ_ITEM_RGBNIR14,
    LAZ_ITEM_WAVEPACKET14, LAZ_LAYERED_COMPRESSOR, LAZ_RECORD, LAZ_USER, POINT_FORMAT_SIZES,
    PROJECTION_USER, SPEC_USER, VARIABLE_CHUNK_SIZE, VLR_HEADER_SIZE, WKT_ENCODING_BIT, WKT_RECORD,
    MalformedCopcError,
)
from .vlrs import Vlr

__all__ = [
    "COPC_HIERARCHY_RECORD", "COPC_INFO_RECORD", "COPC_INFO_SIZE", "COPC_POINT_FORMATS", "COPC_USER",
    "ChunkTable", "CopcFile", "CopcInfo", "EVLR_HEADER_SIZE", "EXTRA_BYTES_RECORD", "ExtraBytesField",
    "GEOTIFF_RECORD", "HIERARCHY_ENTRY_SIZE", "HierarchyEntry", "LAS14_HEADER_SIZE", "LAZ_FORMAT_BIT",
    "LAZ_ITEM_BYTE14", "LAZ_ITEM_POINT14", "LAZ_ITEM_RGB14", "LAZ_ITEM_RGBNIR14", "LAZ_ITEM_WAVEPACKET14",
    "LAZ_LAYERED_COMPRESSOR", "LAZ_RECORD", "LAZ_USER", "LasHeader", "LazItem", "LazVlr",
    "MalformedCopcError", "NodeKey", "POINT_FORMAT_SIZES", "PROJECTION_USER", "SPEC_USER",
    "VARIABLE_CHUNK_SIZE", "VLR_HEADER_SIZE", "Vlr", "WKT_ENCODING_BIT", "WKT_RECORD", "is_copc",
    "layered_chunk_header", "layered_chunk_size", "level_counts", "point_record_dtype",
]
__all__ += ["HierarchyCounts", "HierarchyPage", "PageProblem", "walk_pages"]

"""The format layer: every LAS 1.4, LAZ and COPC record, defined once.

Each record type holds its binary layout (a ``struct.Struct``) and a
``from_bytes`` / ``to_bytes`` pair; the writer, the reader (``copc_file``),
the validator, ``info`` and the sources all use these.  The point-format
table (sizes and field offsets) is ``kernels.point_formats``, because the
kernels compile its numbers in; it is re-exported here.  This package
imports only numpy, the standard library and the kernels' table.

    record_ids.py      sizes, user/record ids, flag bits, the text fields
    public_header.py   LasHeader, the public header block
    vlr_header.py      Vlr, a VLR or EVLR header and where its data lies
    laz_vlr.py         LazVlr and its items, compressor codes, ChunkTable, layered chunk heads
    copc_info.py       CopcInfo, the COPC info VLR
    node_key.py        NodeKey (level, x, y, z) and the builder's packed int64 keys
    copc_hierarchy.py  HierarchyEntry, pages (parse and build), level counts
    extra_bytes.py     ExtraBytesField, the Extra Bytes VLR's descriptor
    point_record.py    point_record_dtype, a raw format 6/7/8 record as numpy
    temporal_index.py  the 360-geo temporal index EVLR: header, entries, pages (parse and build)
    qgis_statistics.py the QGIS statistics EVLR: per-attribute min, max, mean, deviation, classes
"""
from ..kernels.point_formats import COPC_FORMATS, LEGACY_FORMATS, RECORD_SIZE, WAVEFORM_FORMATS
from .copc_hierarchy import PAGE_POINTER, HierarchyEntry, build_pages, level_counts, parse_page
from .copc_info import CopcInfo
from .extra_bytes import (DESCRIPTOR_SIZE, MAX_AT, MAX_BIT, MIN_AT, MIN_BIT, NO_DATA_AT, NO_DATA_BIT, OFFSET_BIT,
                          SCALE_BIT, ExtraBytesField, parse_descriptors, written_descriptors)
from .laz_vlr import (COMPRESSOR_LAYERED_CHUNKED, COMPRESSOR_NAMES, COMPRESSOR_NONE, COMPRESSOR_POINTWISE,
                      COMPRESSOR_POINTWISE_CHUNKED, ITEM_NAMES, LAZ_ITEM_BYTE14, LAZ_ITEM_POINT14, LAZ_ITEM_RGB14,
                      LAZ_ITEM_RGBNIR14, LAZ_ITEM_WAVEPACKET14, LAZ_LAYERED_COMPRESSOR, ChunkTable, LazItem, LazVlr,
                      layered_chunk_header, layered_chunk_size)
from .node_key import MAX_LEVEL, ROOT, NodeKey, key_level, key_xyz
from .point_record import point_record_dtype
from .public_header import LasHeader
from .record_ids import (COPC_HIERARCHY_RECORD, COPC_INFO_RECORD, COPC_INFO_SIZE, COPC_USER, EVLR_HEADER_SIZE,
                         EXTRA_BYTES_RECORD, GEOTIFF_RECORD, GPS_STANDARD_BIT, HIERARCHY_ENTRY_SIZE,
                         LAS12_HEADER_SIZE, LAS14_HEADER_SIZE, LAZ_FORMAT_BIT, LAZ_RECORD, LAZ_USER, PROJECTION_USER,
                         SPEC_USER, VARIABLE_CHUNK_SIZE, VLR_HEADER_SIZE, WKT_ENCODING_BIT, WKT_RECORD, padded,
                         text_field)
from .qgis_statistics import AttributeStatistics, QgisStatistics
from .record_ids import QGIS_STATISTICS_RECORD, QGIS_USER, TEMPORAL_RECORD, TEMPORAL_USER
from .temporal_index import (ROOT_PAGE_BUDGET, TEMPORAL_VERSION, TemporalHeader, TemporalNodeEntry,
                             TemporalPage, TemporalPagePointer, build_temporal_index, parse_temporal_page,
                             sample_indices, walk_temporal_pages)
from .vlr_header import Vlr

__all__ = [
    "COMPRESSOR_LAYERED_CHUNKED", "COMPRESSOR_NAMES", "COMPRESSOR_NONE", "COMPRESSOR_POINTWISE",
    "COMPRESSOR_POINTWISE_CHUNKED", "COPC_FORMATS", "COPC_HIERARCHY_RECORD", "COPC_INFO_RECORD", "COPC_INFO_SIZE", "COPC_USER",
    "ChunkTable", "CopcInfo", "DESCRIPTOR_SIZE", "EVLR_HEADER_SIZE", "EXTRA_BYTES_RECORD", "ExtraBytesField",
    "GEOTIFF_RECORD", "GPS_STANDARD_BIT", "HIERARCHY_ENTRY_SIZE", "HierarchyEntry", "ITEM_NAMES",
    "LAS12_HEADER_SIZE", "LAS14_HEADER_SIZE", "LAZ_FORMAT_BIT", "LAZ_ITEM_BYTE14", "LAZ_ITEM_POINT14",
    "LAZ_ITEM_RGB14", "LAZ_ITEM_RGBNIR14", "LAZ_ITEM_WAVEPACKET14", "LAZ_LAYERED_COMPRESSOR", "LAZ_RECORD",
    "LAZ_USER", "LEGACY_FORMATS", "LasHeader", "LazItem", "LazVlr", "MAX_LEVEL", "NodeKey", "PAGE_POINTER",
    "PROJECTION_USER", "RECORD_SIZE", "ROOT", "SPEC_USER", "VARIABLE_CHUNK_SIZE", "VLR_HEADER_SIZE", "Vlr",
    "WAVEFORM_FORMATS", "WKT_ENCODING_BIT", "WKT_RECORD", "build_pages", "key_level", "key_xyz",
    "layered_chunk_header", "layered_chunk_size", "level_counts", "padded", "parse_descriptors", "parse_page",
    "point_record_dtype", "text_field", "written_descriptors",
]
__all__ += [
    "MAX_AT", "MAX_BIT", "MIN_AT", "MIN_BIT", "NO_DATA_AT", "NO_DATA_BIT", "OFFSET_BIT", "SCALE_BIT",
]
__all__ += [
    "AttributeStatistics", "QGIS_STATISTICS_RECORD", "QGIS_USER", "QgisStatistics",
    "ROOT_PAGE_BUDGET", "TEMPORAL_RECORD", "TEMPORAL_USER", "TEMPORAL_VERSION", "TemporalHeader",
    "TemporalNodeEntry", "TemporalPage", "TemporalPagePointer", "build_temporal_index", "parse_temporal_page",
    "sample_indices", "walk_temporal_pages",
]

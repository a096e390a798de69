"""The format layer: every LAS 1.4, LAZ and COPC record, defined once.

Each record type holds its binary layout (a ``struct.Struct``) and a
``from_bytes`` / ``to_bytes`` pair; the writer, the reader (``copc_file``),
the validator, ``info`` and the sources all use these.  The point-format
table (sizes and field offsets) is ``kernels.point_formats``, because the
kernels compile its numbers in; it is re-exported here.  The names load
on first use (``__getattr__``): importing one module of the package, such as
``public_header``, loads neither numpy nor numba (``sources/first_chunk.py``
reads headers before either is imported).

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
# Where each public name is defined; it is imported from there on first use.
_DEFINED_IN = {
    "..kernels.point_formats": ("COPC_FORMATS", "LEGACY_FORMATS", "RECORD_SIZE", "WAVEFORM_FORMATS"),
    ".copc_hierarchy": ("PAGE_POINTER", "HierarchyEntry", "build_pages", "level_counts",
        "parse_page"),
    ".copc_info": ("CopcInfo",),
    ".extra_bytes": ("DESCRIPTOR_SIZE", "MAX_AT", "MAX_BIT", "MIN_AT", "MIN_BIT", "NO_DATA_AT",
        "NO_DATA_BIT", "OFFSET_BIT", "SCALE_BIT", "ExtraBytesField", "parse_descriptors",
        "written_descriptors"),
    ".laz_vlr": ("COMPRESSOR_LAYERED_CHUNKED", "COMPRESSOR_NAMES", "COMPRESSOR_NONE",
        "COMPRESSOR_POINTWISE", "COMPRESSOR_POINTWISE_CHUNKED", "ITEM_NAMES", "LAZ_ITEM_BYTE14",
        "LAZ_ITEM_POINT14", "LAZ_ITEM_RGB14", "LAZ_ITEM_RGBNIR14", "LAZ_ITEM_WAVEPACKET14",
        "LAZ_LAYERED_COMPRESSOR", "ChunkTable", "LazItem", "LazVlr", "layered_chunk_header",
        "layered_chunk_size"),
    ".node_key": ("MAX_LEVEL", "ROOT", "NodeKey", "key_level", "key_xyz"),
    ".point_record": ("point_record_dtype",),
    ".public_header": ("LasHeader",),
    ".record_ids": ("COPC_HIERARCHY_RECORD", "COPC_INFO_RECORD", "COPC_INFO_SIZE", "COPC_USER",
        "EVLR_HEADER_SIZE", "EXTRA_BYTES_RECORD", "GEOTIFF_RECORD", "GPS_STANDARD_BIT",
        "HIERARCHY_ENTRY_SIZE", "LAS12_HEADER_SIZE", "LAS14_HEADER_SIZE", "LAZ_FORMAT_BIT",
        "LAZ_RECORD", "LAZ_USER", "PROJECTION_USER", "SPEC_USER", "VARIABLE_CHUNK_SIZE",
        "VLR_HEADER_SIZE", "WKT_ENCODING_BIT", "WKT_RECORD", "padded", "text_field",
        "QGIS_STATISTICS_RECORD", "QGIS_USER", "TEMPORAL_RECORD", "TEMPORAL_USER"),
    ".qgis_statistics": ("AttributeStatistics", "QgisStatistics"),
    ".temporal_index": ("ROOT_PAGE_BUDGET", "TEMPORAL_VERSION", "TemporalHeader",
        "TemporalNodeEntry", "TemporalPage", "TemporalPagePointer", "build_temporal_index",
        "parse_temporal_page", "sample_indices", "walk_temporal_pages"),
    ".vlr_header": ("Vlr",),
}
_MODULE_OF = {name: module for module, names in _DEFINED_IN.items() for name in names}
__all__ = sorted(_MODULE_OF)


def __getattr__(name):
    try:
        module = _MODULE_OF[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value

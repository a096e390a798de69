"""The COPC writer: nodes in any order in, one valid file out.

    copc_writer.py           CopcWriter: chunks laid out in key order, chunk table,
                             hierarchy, header and VLRs; temp name renamed on success
    node_spool.py            NodeSpool: nodes as LAZ chunks in one spool file, and the
                             header figures folded as they pass (RecordFold)
    output_header.py         the output's header template from the plan
    writer_extension.py      WriterExtension: optional EVLRs gathered as nodes pass
    qgis_stats_extension.py  QGIS's statistics EVLR, exact over every point
    temporal_extension.py    the COPC temporal index EVLR
    extra_ranges.py          each extra-bytes dimension's min and max, as written
"""

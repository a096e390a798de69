"""Read-only, byte-level view of a COPC file: its header, (E)VLRs, COPC info
and hierarchy, the LAZ VLR and chunk table, and node decoding.

This is the reader of the validator and ``info``: it trusts nothing and
turns every malformed byte range into a ``MalformedCopcError`` that names
the file, the record and the numbers, never a raw struct or lazrs
traceback.  The records themselves are the format layer's (``format/``).

Only headers and small records are read eagerly; hierarchy pages, the chunk
table and node chunks are read on request, so a caller decides how much
memory to use (the validator decodes one node at a time).

    reader.py          CopcFile (records), is_copc
    nodes.py           CopcFile's hierarchy, chunk-table and node reading
    hierarchy_walk.py  the one walk over the hierarchy pages (validate, info)
"""
from __future__ import annotations

from ..common.errors import MalformedCopcError
from .hierarchy_walk import HierarchyCounts, HierarchyPage, PageProblem, walk_pages
from .reader import CopcFile, is_copc

__all__ = ["CopcFile", "HierarchyCounts", "HierarchyPage", "MalformedCopcError", "PageProblem", "is_copc",
           "walk_pages"]

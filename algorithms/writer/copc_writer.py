"""The COPC writer: one LAZ chunk per node, chunk table, hierarchy, header.

Nodes arrive in any order, as they become final, and are spooled as LAZ
chunks (node_spool.py); the cluster build adds the spools of its unit tasks
(``add_part``).  ``close`` lays every chunk out in node-key order (coarse
levels first, Morton order within a level), so the bytes never depend on the
order the builder finished nodes in nor on which spool holds them, then
writes the chunk table, the hierarchy EVLR, the extensions' EVLRs and the
real header, and renames the temp file to the output name: the output
appears only on success.
"""
from __future__ import annotations

import os
from typing import Dict, List, Sequence, Tuple

from ..common.errors import OutputError
from ..common.temp_files import remove_quietly, remove_stale_temps, temp_name_for
from ..format import COPC_HIERARCHY_RECORD, COPC_USER, EVLR_HEADER_SIZE, CopcInfo, Vlr, build_pages, key_level
from ..points.cube import Cube
from .node_spool import NodeSpool, SpoolPart, copy_range
from .output_header import HeaderTemplate, PointStats, header_bytes
from .writer_extension import WriterExtension


class CopcWriter:
    def __init__(self, output: str, header: HeaderTemplate, cube: Cube, work_folder: str,
                 page_levels: int = 0, extensions: Sequence[WriterExtension] = ()):
        self.output = os.path.abspath(output)
        self.temp = temp_name_for(self.output)
        remove_stale_temps(self.output)
        self.header = header
        self.cube = cube
        self.page_levels = page_levels
        self.extensions = tuple(extensions)
        self._parts: List[SpoolPart] = []
        self._entries: Dict[int, Tuple[int, int, int]] = {}
        self._file = self._spool = None
        try:
            self._file = open(self.temp, "w+b")
        except OSError as exc:
            raise OutputError(self.output, f"cannot write here ({exc.strerror})") from None
        try:
            self._spool = NodeSpool(header.layout, os.path.join(work_folder, "chunks.bin"), self.extensions)
        except OutputError:
            self.abort()
            raise
        self.fold = self._spool.fold
        self._laz_vlr = self._spool.laz_vlr

    # -- nodes ---------------------------------------------------------------
    def add_nodes(self, keys, counts, cols, index) -> None:
        """Write nodes whose points are cols[index[...]], node after node."""
        self._spool.add_nodes(keys, counts, cols, index)

    def add_node_stream(self, key: int, parts) -> None:
        """Write one node too big for memory (see NodeSpool.add_node_stream)."""
        self._spool.add_node_stream(key, parts)

    def add_part(self, part: SpoolPart) -> None:
        """Take the nodes of another spool (a cluster task's): laid out with
        ours at close, its figures and extensions' state merged into ours."""
        self._parts.append(part)
        self.fold.merge(part.fold)
        for mine, theirs in zip(self.extensions, part.extensions):
            mine.merge(theirs)

    @property
    def points(self) -> int:
        return self._spool.points + sum(p.points for p in self._parts)

    @property
    def node_count(self) -> int:
        return len(self._spool.entries) + sum(len(p.entries) for p in self._parts)

    @property
    def depth(self) -> int:
        keys = [k for entries in [self._spool.entries] + [p.entries for p in self._parts] for k in entries]
        return max((key_level(k) for k in keys), default=0)

    # -- finish --------------------------------------------------------------
    def close(self) -> int:
        """Write chunk table, hierarchy and header; rename into place.  Returns bytes."""
        import lazrs

        f = self._file
        self._spool.flush()
        points = self.points
        try:
            self._write_header(0)
            point_data_start = f.tell()
            f.write(bytes(8))   # offset to the chunk table, patched below
            placed, table = self._copy_chunks()
            # A node can lose all its points to its parent (sparse data); it
            # stays in the hierarchy with no points, so its children remain
            # reachable.
            for key in list(placed):
                parent = key >> 3
                while parent and parent not in placed:
                    placed[parent] = (0, 0, 0)
                    parent >>= 3
            self._entries = placed
            table_offset = f.tell()
            lazrs.write_chunk_table(f, table, self._laz_vlr)
            f.seek(0, os.SEEK_END)
            evlr_start = f.tell()
            pages, root_offset, root_size = build_pages(
                self._entries, evlr_start + EVLR_HEADER_SIZE, self.page_levels)
            f.write(Vlr.new(COPC_USER, COPC_HIERARCHY_RECORD, "EPT hierarchy", len(pages), extended=True).to_bytes())
            f.write(pages)
            evlr_count = 1 + self._write_extension_evlrs()
            size = f.tell()
            f.seek(point_data_start)
            f.write(int(table_offset).to_bytes(8, "little", signed=True))
            f.seek(0)
            self._write_header(points, evlr_start=evlr_start, evlr_count=evlr_count,
                               root=(root_offset, root_size))
            f.flush()
            os.fsync(f.fileno())
            f.close()
            os.replace(self.temp, self.output)
            self._spool.close()
        except OSError as exc:
            self.abort()
            raise OutputError(self.output, f"cannot write ({exc.strerror})") from None
        return size

    def _copy_chunks(self):
        """Every spool's chunks into the file in node-key order: (placed entries, chunk table)."""
        parts = [self._spool.part()] + self._parts
        where: Dict[int, int] = {}
        for i, part in enumerate(parts):
            for key in part.entries:
                if where.setdefault(key, i) != i:
                    raise AssertionError(f"node {key} written twice ({parts[where[key]].path}, {part.path})")
        files = [self._spool.file] + [None] * len(self._parts)
        placed, table = {}, []
        try:
            for key in sorted(where):
                i = where[key]
                if files[i] is None:
                    files[i] = open(parts[i].path, "rb")
                spool_offset, size, count = parts[i].entries[key]
                placed[key] = (self._file.tell(), size, count)
                copy_range(files[i], spool_offset, size, self._file)
                table.append((count, size))
        finally:
            for f in files[1:]:
                if f is not None:
                    f.close()
        return placed, table

    def _write_extension_evlrs(self) -> int:
        """Each extension's EVLR after the hierarchy; returns how many were written."""
        written = 0
        for ext in self.extensions:
            data_offset = self._file.tell() + EVLR_HEADER_SIZE
            evlr = ext.evlr(self._entries, data_offset)
            if evlr is None:
                continue
            self._file.write(Vlr.new(evlr.user_id, evlr.record_id, evlr.description, len(evlr.data),
                                     extended=True).to_bytes())
            self._file.write(evlr.data)
            written += 1
        return written

    def abort(self) -> None:
        for f in (self._file, self._spool):
            try:
                if f is not None:
                    f.close()
            except Exception:
                pass
        remove_quietly(self.temp)

    # -- header ----------------------------------------------------------------
    def _write_header(self, count: int, evlr_start: int = 0, evlr_count: int = 0, root=(0, 0)) -> None:
        fold = self.fold
        gps_min, gps_max = (fold.gps if count else (0.0, 0.0))
        cube = self.cube
        info = CopcInfo(center=cube.center, halfsize=cube.halfsize, spacing=cube.spacing,
                        root_hier_offset=root[0], root_hier_size=root[1],
                        gpstime_minimum=float(gps_min), gpstime_maximum=float(gps_max))
        stats = PointStats(count, fold.mins, fold.maxs, fold.by_return,
                           fold.extra_ranges.descriptors() if count else b"")
        self._file.write(header_bytes(self.header, stats, info, bytes(self._laz_vlr.record_data()),
                                      evlr_start=evlr_start, evlr_count=evlr_count))

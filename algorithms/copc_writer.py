"""The COPC writer: one LAZ chunk per node, chunk table, hierarchy, header.

Nodes arrive in any order, as they become final.  Their points are turned
into LAS records, compressed in batches (one variable-size LAZ chunk per
node, the chunks of a batch in parallel by lazrs) and spooled to a work
file.  ``close`` lays the chunks out in node-key order (coarse levels first,
Morton order within a level), so the bytes never depend on the order the
builder finished nodes in, then writes the chunk table, the hierarchy EVLR
and the real header, and renames the temp file to the output name: the
output appears only on success.
"""
from __future__ import annotations

import errno
import io
import os
import time
from typing import Dict, List, Sequence, Tuple

import numpy as np

from .columns import Columns
from .cube import Cube
from .errors import OutputError
from .extra_ranges import ExtraRanges
from .format import COPC_HIERARCHY_RECORD, COPC_USER, EVLR_HEADER_SIZE, CopcInfo, Vlr, build_pages, key_level
from .kernels.records import assemble_records, record_stats
from .output_header import HeaderTemplate, PointStats, header_bytes
from .temp_files import remove_stale_temps, temp_name_for
from .timing import TIMINGS
from .writer_extension import WriterExtension

BATCH_BYTES = 48 << 20   # raw record bytes compressed together in parallel
COPY_BLOCK = 8 << 20


def copy_range(src, offset: int, size: int, dst) -> None:
    """Copy ``size`` bytes of file ``src`` from ``offset`` to the current
    position of ``dst``, a block at a time; a short source is an error."""
    fd = src.fileno()
    while size > 0:
        block = os.pread(fd, min(size, COPY_BLOCK), offset)
        if not block:
            raise OSError(errno.EIO, f"{src.name} ends {size} bytes early")
        dst.write(block)
        offset += len(block)
        size -= len(block)


class CopcWriter:
    def __init__(self, output: str, header: HeaderTemplate, cube: Cube, work_folder: str,
                 page_levels: int = 0, extensions: Sequence[WriterExtension] = ()):
        import lazrs

        self.output = os.path.abspath(output)
        self.temp = temp_name_for(self.output)
        remove_stale_temps(self.output)
        self.header = header
        self.cube = cube
        self.page_levels = page_levels
        self.extensions = tuple(extensions)
        self.layout = header.layout
        self.record_size = self.layout.record_size
        self._laz_vlr = lazrs.LazVlr.new_for_compression(
            self.layout.point_format, self.layout.extra_size, True)
        self._entries: Dict[int, Tuple[int, int, int]] = {}
        self._mins = np.full(3, np.iinfo(np.int64).max, np.int64)
        self._maxs = np.full(3, np.iinfo(np.int64).min, np.int64)
        self._by_return = np.zeros(15, np.int64)
        self._gps = np.array([np.inf, -np.inf])
        self._extra_ranges = ExtraRanges(self.layout)
        self.points = 0
        self._spool = None
        try:
            self._file = open(self.temp, "w+b")
        except OSError as exc:
            raise OutputError(self.output, f"cannot write here ({exc.strerror})") from None
        try:
            self._spool = open(os.path.join(work_folder, "chunks.bin"), "w+b")
        except OSError as exc:
            self.abort()
            raise OutputError(work_folder, f"cannot write to the temp folder ({exc.strerror})") from None

    # -- nodes ---------------------------------------------------------------
    def add_nodes(self, keys: Sequence[int], counts: Sequence[int], cols: Columns, index: np.ndarray) -> None:
        """Write nodes whose points are cols[index[...]], node after node."""
        pos = 0
        batch_keys: List[int] = []
        batch_counts: List[int] = []
        batch_start = 0
        limit = max(1, BATCH_BYTES // self.record_size)
        for key, count in zip(keys, counts):
            if batch_keys and pos + count - batch_start > limit:
                self._write_batch(batch_keys, batch_counts, cols, index[batch_start:pos])
                batch_keys, batch_counts, batch_start = [], [], pos
            batch_keys.append(int(key))
            batch_counts.append(int(count))
            pos += count
        if batch_keys:
            self._write_batch(batch_keys, batch_counts, cols, index[batch_start:pos])

    def _records(self, cols: Columns, index: np.ndarray) -> np.ndarray:
        """LAS records of cols[index], folded into the header statistics."""
        t0 = time.perf_counter()
        index = np.ascontiguousarray(index, dtype=np.int64)
        records = np.empty((len(index), self.record_size), np.uint8)
        assemble_records(cols.xyz, cols.gps, cols.rest, index, records)
        record_stats(records, self._mins, self._maxs, self._by_return, self._gps)
        self._extra_ranges.fold(records)
        TIMINGS.add("write.assemble", time.perf_counter() - t0)
        return records

    def add_node_stream(self, key: int, parts) -> None:
        """Write one node too big for memory: ``parts`` yields (cols, index)
        blocks, in order; they become one LAZ chunk, compressed as they come."""
        import lazrs

        path = os.path.join(os.path.dirname(self._spool.name), f"node-{key}.laz")
        count = 0
        try:
            with open(path, "w+b") as f:
                compressor = lazrs.LasZipCompressor(f, self._laz_vlr)
                for cols, index in parts:
                    records = self._records(cols, index)
                    for ext in self.extensions:
                        ext.node_records(int(key), count, records)
                    t0 = time.perf_counter()
                    compressor.compress_many(records)
                    TIMINGS.add("write.compress", time.perf_counter() - t0)
                    count += len(records)
                compressor.done()
                if count == 0:   # every point went to the parent: an empty node
                    return
                f.seek(0)
                ((points, size),) = lazrs.read_chunk_table(f, self._laz_vlr)
                assert points == count
                f.flush()
                offset = self._spool.tell()
                copy_range(f, 8, size, self._spool)
        except OSError as exc:
            raise OutputError(path, f"cannot write to the temp folder ({exc.strerror})") from None
        finally:
            try:
                os.remove(path)
            except OSError:
                pass
        self._entries[int(key)] = (offset, size, count)
        self.points += count

    def _write_batch(self, keys, counts, cols: Columns, index: np.ndarray) -> None:
        import lazrs

        records = self._records(cols, index)
        t1 = time.perf_counter()
        chunks = []
        pos = 0
        for count in counts:
            chunks.append(records[pos:pos + count])
            pos += count
        buffer = io.BytesIO()
        compressor = lazrs.ParLasZipCompressor(buffer, self._laz_vlr)
        compressor.compress_chunks(chunks)
        compressor.done()
        buffer.seek(0)
        table = lazrs.read_chunk_table(buffer, self._laz_vlr)
        TIMINGS.add("write.compress", time.perf_counter() - t1)
        data = buffer.getbuffer()
        offset = self._spool.tell()
        try:
            self._spool.write(data[8:8 + sum(size for _, size in table)])
        except OSError as exc:
            raise OutputError(self._spool.name, f"cannot write to the temp folder ({exc.strerror})") from None
        finally:
            del data
        pos = 0
        for key, (count, size) in zip(keys, table):
            self._entries[key] = (offset, size, count)   # spool offset until close()
            offset += size
            for ext in self.extensions:
                ext.node_records(key, 0, records[pos:pos + count])
            pos += count
        self.points += len(records)

    @property
    def node_count(self) -> int:
        return len(self._entries)

    @property
    def depth(self) -> int:
        return max((key_level(k) for k in self._entries), default=0)

    # -- finish --------------------------------------------------------------
    def close(self) -> int:
        """Write chunk table, hierarchy and header; rename into place.  Returns bytes."""
        import lazrs

        f = self._file
        try:
            self._write_header(0)
            point_data_start = f.tell()
            f.write(bytes(8))   # offset to the chunk table, patched below
            self._spool.flush()
            placed = {}
            table = []
            for key in sorted(self._entries):
                spool_offset, size, count = self._entries[key]
                placed[key] = (f.tell(), size, count)
                copy_range(self._spool, spool_offset, size, f)
                table.append((count, size))
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
            self._write_header(self.points, evlr_start=evlr_start, evlr_count=evlr_count,
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
        try:
            os.remove(self.temp)
        except OSError:
            pass

    # -- header ----------------------------------------------------------------
    def _write_header(self, count: int, evlr_start: int = 0, evlr_count: int = 0, root=(0, 0)) -> None:
        gps_min, gps_max = (self._gps if count else (0.0, 0.0))
        cube = self.cube
        info = CopcInfo(center=cube.center, halfsize=cube.halfsize, spacing=cube.spacing,
                        root_hier_offset=root[0], root_hier_size=root[1],
                        gpstime_minimum=float(gps_min), gpstime_maximum=float(gps_max))
        stats = PointStats(count, self._mins, self._maxs, self._by_return,
                           self._extra_ranges.descriptors() if count else b"")
        self._file.write(header_bytes(self.header, stats, info, bytes(self._laz_vlr.record_data()),
                                      evlr_start=evlr_start, evlr_count=evlr_count))

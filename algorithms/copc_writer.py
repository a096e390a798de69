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

import datetime
import errno
import io
import os
import time
import uuid
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .columns import Columns
from .copc_file.spec import (COPC_HIERARCHY_RECORD, COPC_INFO_RECORD, COPC_USER, EVLR_HEADER_SIZE, LAZ_RECORD,
                             LAZ_USER)
from .copc_records import CopcInfo, evlr_header_bytes
from .cube import Cube
from .errors import OutputError
from .hierarchy import build_pages
from .kernels.records import assemble_records, record_stats
from .node_key import key_level
from .point_layout import PointLayout
from .timing import TIMINGS

BATCH_BYTES = 48 << 20   # raw record bytes compressed together in parallel


@dataclass
class HeaderTemplate:
    """Header fields that come from the plan, not from the points."""

    layout: PointLayout
    scales: Tuple[float, float, float]
    offsets: Tuple[float, float, float]
    wkt: Optional[str]
    gps_standard: bool = True
    creation: Tuple[int, int] = (0, 0)       # (day of year, year)
    file_source_id: int = 0
    software: str = "copc_builder"


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


TEMP_SUFFIX = ".copc_builder-tmp"


def temp_name_for(output: str) -> str:
    folder, name = os.path.split(os.path.abspath(output))
    return os.path.join(folder, f".{name}.{os.getpid()}{TEMP_SUFFIX}")


def remove_stale_temps(output: str) -> None:
    """Remove the half-written outputs of killed builds to the same name."""
    from .store.spill_file import pid_alive

    folder, name = os.path.split(os.path.abspath(output))
    prefix = f".{name}."
    try:
        entries = os.listdir(folder)
    except OSError:
        return
    for entry in entries:
        if entry.startswith(prefix) and entry.endswith(TEMP_SUFFIX):
            pid = entry[len(prefix):-len(TEMP_SUFFIX)]
            if pid.isdigit() and not pid_alive(int(pid)):
                try:
                    os.remove(os.path.join(folder, entry))
                except OSError:
                    pass


class CopcWriter:
    def __init__(self, output: str, header: HeaderTemplate, cube: Cube, work_folder: str,
                 page_levels: int = 0):
        import lazrs

        self.output = os.path.abspath(output)
        self.temp = temp_name_for(self.output)
        remove_stale_temps(self.output)
        self.header = header
        self.cube = cube
        self.page_levels = page_levels
        self.layout = header.layout
        self.record_size = self.layout.record_size
        self._laz_vlr = lazrs.LazVlr.new_for_compression(
            self.layout.point_format, self.layout.extra_size, True)
        self._entries: Dict[int, Tuple[int, int, int]] = {}
        self._mins = np.full(3, np.iinfo(np.int64).max, np.int64)
        self._maxs = np.full(3, np.iinfo(np.int64).min, np.int64)
        self._by_return = np.zeros(15, np.int64)
        self._gps = np.array([np.inf, -np.inf])
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
        for key, (count, size) in zip(keys, table):
            self._entries[key] = (offset, size, count)   # spool offset until close()
            offset += size
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
            f.write(evlr_header_bytes(COPC_USER, COPC_HIERARCHY_RECORD, len(pages), "EPT hierarchy"))
            f.write(pages)
            size = f.tell()
            f.seek(point_data_start)
            f.write(int(table_offset).to_bytes(8, "little", signed=True))
            f.seek(0)
            self._write_header(self.points, evlr_start=evlr_start,
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
    def _write_header(self, count: int, evlr_start: int = 0, root=(0, 0)) -> None:
        import laspy
        from laspy.vlrs.known import ExtraBytesStruct, ExtraBytesVlr, WktCoordinateSystemVlr

        h = self.header
        pf = laspy.PointFormat(self.layout.point_format)
        for dim in self.layout.extra:
            pf.add_extra_dimension(laspy.ExtraBytesParams(dim.name, dim.dtype))
        header = laspy.LasHeader(version="1.4", point_format=pf)
        header.vlrs.clear()
        cube = self.cube
        gps_min, gps_max = (self._gps if count else (0.0, 0.0))
        info = CopcInfo(center=cube.center, halfsize=cube.halfsize, spacing=cube.spacing,
                        root_hier_offset=root[0], root_hier_size=root[1],
                        gps_min=float(gps_min), gps_max=float(gps_max))
        header.vlrs.append(laspy.VLR(COPC_USER, COPC_INFO_RECORD, "COPC info VLR", info.to_bytes()))
        header.vlrs.append(laspy.VLR(LAZ_USER, LAZ_RECORD, "lazrs variable size chunks",
                                     bytes(self._laz_vlr.record_data())))
        if h.wkt:
            header.vlrs.append(WktCoordinateSystemVlr(h.wkt))
        if self.layout.extra:
            eb = ExtraBytesVlr()
            eb.extra_bytes_structs = [ExtraBytesStruct.from_buffer_copy(d.struct) for d in self.layout.extra]
            header.vlrs.append(eb)
        header.global_encoding.wkt = True
        header.global_encoding.gps_time_type = laspy.header.GpsTimeType.STANDARD if h.gps_standard \
            else laspy.header.GpsTimeType.WEEK_TIME
        header.scales = np.array(h.scales)
        header.offsets = np.array(h.offsets)
        if count:
            header.mins = self._mins * np.array(h.scales) + np.array(h.offsets)
            header.maxs = self._maxs * np.array(h.scales) + np.array(h.offsets)
        else:
            header.mins = np.zeros(3)
            header.maxs = np.zeros(3)
        header.point_count = count
        header.number_of_points_by_return = self._by_return.astype(np.uint64)
        header.start_of_first_evlr = evlr_start
        header.number_of_evlrs = 1 if evlr_start else 0
        header.system_identifier = "copc_builder"
        header.generating_software = h.software[:31]
        header.file_source_id = h.file_source_id
        header.uuid = uuid.UUID(int=0)
        day, year = h.creation
        if year:
            header.creation_date = datetime.date(year, 1, 1) + datetime.timedelta(days=max(day, 1) - 1)
        else:
            header.creation_date = datetime.date(1970, 1, 1)
        header.set_compressed(True)
        header.write_to(self._file)

"""Final nodes turned into LAZ chunks in one spool file, with what the
header and the writer extensions gather from their records.

Nodes arrive in any order, as they become final.  Their points are turned
into LAS records, compressed in batches (one variable-size LAZ chunk per
node, the chunks of a batch in parallel by lazrs) and appended to the
spool.  The in-process build has one spool; the cluster build one per unit
task.  ``part()`` hands over what ``CopcWriter`` needs to lay the chunks out:
the spool's path, its node entries, the header figures (``RecordFold``) and
the extensions' state, all of which merge whatever the order.
"""
from __future__ import annotations

import errno
import io
import os
import threading
import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..common.errors import OutputError
from ..common.temp_files import remove_quietly
from ..common.timing import TIMINGS
from ..kernels.records import assemble_records, record_stats
from ..points.columns import Columns
from ..points.point_layout import PointLayout
from .extra_ranges import ExtraRanges
from .writer_extension import NodeEntries, WriterExtension

BATCH_BYTES = 48 << 20   # raw record bytes compressed together in parallel, at the most
GATHER_BYTES = 8 << 20  # nodes wait, as records, until this many bytes can be compressed together
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


def laz_vlr_for(layout: PointLayout):
    import lazrs

    return lazrs.LazVlr.new_for_compression(layout.point_format, layout.extra_size, True)


class RecordFold:
    """What the header says of the records written: integer bounds, counts by
    return, GPS range, extra-bytes ranges.  Folds merge in any order."""

    def __init__(self, layout: PointLayout):
        self.mins = np.full(3, np.iinfo(np.int64).max, np.int64)
        self.maxs = np.full(3, np.iinfo(np.int64).min, np.int64)
        self.by_return = np.zeros(15, np.int64)
        self.gps = np.array([np.inf, -np.inf])
        self.extra_ranges = ExtraRanges.for_layout(layout)

    def fold(self, records: np.ndarray) -> None:
        record_stats(records, self.mins, self.maxs, self.by_return, self.gps)
        self.extra_ranges.fold(records)

    def merge(self, other: "RecordFold") -> None:
        np.minimum(self.mins, other.mins, out=self.mins)
        np.maximum(self.maxs, other.maxs, out=self.maxs)
        self.by_return += other.by_return
        self.gps[:] = (min(self.gps[0], other.gps[0]), max(self.gps[1], other.gps[1]))
        self.extra_ranges.merge(other.extra_ranges)


@dataclass
class SpoolPart:
    """A finished spool: where its chunks are and what its records gave."""

    path: str
    entries: NodeEntries          # key -> (offset in the spool, byte size, point count)
    fold: RecordFold
    extensions: Tuple[WriterExtension, ...]
    points: int


class NodeSpool:
    def __init__(self, layout: PointLayout, path: str, extensions: Sequence[WriterExtension] = ()):
        self.layout = layout
        self.record_size = layout.record_size
        self.extensions = tuple(extensions)
        self.laz_vlr = laz_vlr_for(layout)
        self.entries: Dict[int, Tuple[int, int, int]] = {}
        self.fold = RecordFold(layout)
        self.points = 0
        self._waiting: List[Tuple[List[int], List[int], np.ndarray]] = []   # (keys, counts, records)
        self._waiting_bytes = 0
        self.path = path
        try:
            self.file = open(path, "w+b")
        except OSError as exc:
            raise OutputError(os.path.dirname(path),
                              f"cannot write to the temp folder ({exc.strerror})") from None

    def part(self) -> SpoolPart:
        """Everything written so far, the spool flushed to its file."""
        self.flush()
        self.file.flush()
        return SpoolPart(self.path, dict(self.entries), self.fold, self.extensions, self.points)

    def close(self) -> None:
        try:
            self.file.close()
        except OSError:
            pass

    # -- nodes ---------------------------------------------------------------
    def add_nodes(self, keys: Sequence[int], counts: Sequence[int], cols: Columns, index: np.ndarray) -> None:
        """Write nodes whose points are cols[index[...]]: their records are
        made now, and compressed with the nodes given before and after them
        once GATHER_BYTES of records wait (``flush`` writes what waits).  The
        tiled build gives the writer many small groups: compressed group by
        group, its LAZ encoding took 0.2-0.5 s longer than the single build's
        on the same points (benchmarks/tiles_scale.py)."""
        pos = 0
        batch_keys: List[int] = []
        batch_counts: List[int] = []
        batch_start = 0
        limit = max(1, BATCH_BYTES // self.record_size)
        for key, count in zip(keys, counts):
            if batch_keys and pos + count - batch_start > limit:
                self._wait(batch_keys, batch_counts, cols, index[batch_start:pos])
                batch_keys, batch_counts, batch_start = [], [], pos
            batch_keys.append(int(key))
            batch_counts.append(int(count))
            pos += count
        if batch_keys:
            self._wait(batch_keys, batch_counts, cols, index[batch_start:pos])

    def _wait(self, keys: List[int], counts: List[int], cols: Columns, index: np.ndarray) -> None:
        if self._waiting_bytes + len(index) * self.record_size > BATCH_BYTES:
            self.flush()
        self._waiting.append((keys, counts, self._records(cols, index)))
        self._waiting_bytes += len(index) * self.record_size
        if self._waiting_bytes >= GATHER_BYTES:
            self.flush()

    def flush(self) -> None:
        """Compress and write the nodes that wait."""
        if self._waiting:
            waiting, self._waiting, self._waiting_bytes = self._waiting, [], 0
            self._write_batch(waiting)

    def _records(self, cols: Columns, index: np.ndarray) -> np.ndarray:
        """LAS records of cols[index], folded into the header figures."""
        t0 = time.perf_counter()
        if index.dtype not in (np.int32, np.int64):   # the kernel takes either as it comes
            index = index.astype(np.int64)
        index = np.ascontiguousarray(index)
        records = np.empty((len(index), self.record_size), np.uint8)
        assemble_records(cols.xyz, cols.gps, cols.rest, index, records)
        self.fold.fold(records)
        TIMINGS.add("write.assemble", time.perf_counter() - t0)
        return records

    def add_node_stream(self, key: int, parts) -> None:
        """Write one node too big for memory: ``parts`` yields (cols, index)
        blocks, in order; they become one LAZ chunk, compressed as they come."""
        import lazrs

        path = os.path.join(os.path.dirname(self.path), f"node-{key}.laz")
        count = 0
        try:
            with open(path, "w+b") as f:
                compressor = lazrs.LasZipCompressor(f, self.laz_vlr)
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
                ((points, size),) = lazrs.read_chunk_table(f, self.laz_vlr)
                assert points == count
                f.flush()
                offset = self.file.tell()
                copy_range(f, 8, size, self.file)
        except OSError as exc:
            raise OutputError(path, f"cannot write to the temp folder ({exc.strerror})") from None
        finally:
            remove_quietly(path)
        self.entries[int(key)] = (offset, size, count)
        self.points += count

    def _write_batch(self, groups: List[Tuple[List[int], List[int], np.ndarray]]) -> None:
        """Compress groups of nodes (keys, counts, their records) in one call, one chunk a node."""
        import lazrs

        # Extensions that fold whole nodes in one GIL-free kernel do it while
        # lazrs compresses (lazrs holds the GIL, the kernel needs none), not
        # after it on one core; the others after it, node by node.
        beside = [ext for ext in self.extensions if hasattr(ext, "nodes_records")]
        folding = _Beside(lambda: [ext.nodes_records(keys, counts, records) for keys, counts, records in groups
                                   for ext in beside]) if beside else None
        t1 = time.perf_counter()
        try:
            chunks = []
            for _, counts, records in groups:
                pos = 0
                for count in counts:
                    chunks.append(records[pos:pos + count])
                    pos += count
            buffer = io.BytesIO()
            compressor = lazrs.ParLasZipCompressor(buffer, self.laz_vlr)
            compressor.compress_chunks(chunks)
            compressor.done()
            buffer.seek(0)
            table = lazrs.read_chunk_table(buffer, self.laz_vlr)
        finally:
            if folding is not None:
                folding.finish()
        TIMINGS.add("write.compress", time.perf_counter() - t1)
        data = buffer.getbuffer()
        offset = self.file.tell()
        try:
            self.file.write(data[8:8 + sum(size for _, size in table)])
        except OSError as exc:
            raise OutputError(self.path, f"cannot write to the temp folder ({exc.strerror})") from None
        finally:
            del data
        sizes = iter(table)
        for keys, counts, records in groups:
            pos = 0
            for key in keys:
                count, size = next(sizes)
                self.entries[key] = (offset, size, count)
                offset += size
                for ext in self.extensions:
                    if ext not in beside:
                        ext.node_records(key, 0, records[pos:pos + count])
                pos += count
            self.points += len(records)


class _Beside:
    """``work()`` in a thread of its own, started now; ``finish()`` waits for
    it and raises what it raised.  Thread.start() hands the new thread the
    GIL, which it keeps until the work enters its GIL-free kernel, so the
    caller's next call (lazrs, which holds the GIL) runs beside the kernel."""

    def __init__(self, work):
        self._error: Optional[BaseException] = None
        self._work = work
        self._thread = threading.Thread(target=self._run, name="copc-builder-fold", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._work()
        except BaseException as exc:   # re-raised in the caller's thread
            self._error = exc

    def finish(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error

"""A LAS/LAZ file as a source of raw point records, streamed in chunks.

Opening reads the header only and turns every problem into an InputError
that names the file.  ``chunks()`` yields the file's raw records as a uint8
array (n, record_length); the converter in ``las_records.py`` maps them to
the node store's columns.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Iterator, List, Optional

import numpy as np

from ..common.errors import InputError
from ..common.timing import TIMINGS
from . import first_chunk
from .input_file import InputFile
from .las_count import count_points
from .las_header import read_header
from .native_errors import quiet_stderr, reraise_fatal, reraise_transfer, short_text

if TYPE_CHECKING:
    from .las_records import RecordConverter


class LasFile:
    """One LAS/LAZ input file (a ``PointSource``); a reader is open only
    while ``chunks`` runs."""

    def __init__(self, path: str, storage=None):
        self.file = InputFile(os.fspath(path), storage)
        self.path = self.file.name      # a URL without its credentials
        self.info = read_header(self.file)
        self.warnings: List[str] = []
        self._real_count = count_points(self.file, self.info, self.warnings)

    def __repr__(self) -> str:
        return f"LasFile({self.path!r})"

    @property
    def point_count(self) -> int:
        return self._real_count

    def converter(self, layout, scales, offsets, reprojection=None) -> "RecordConverter":
        from .las_records import RecordConverter

        return RecordConverter(self.info, layout, scales, offsets, reprojection)

    def close(self) -> None:
        """Nothing is held open between chunks() calls."""

    def chunks(self, chunk_points: int, start: int = 0, stop: Optional[int] = None) -> Iterator[np.ndarray]:
        """Yield raw records (n, record_length) uint8, every point of
        ``start`` .. ``stop`` (default: all) exactly once.  A chunked LAZ is
        decoded into one buffer, again for every chunk: each array is valid
        until the next one is asked for (the callers convert it at once)."""
        import laspy

        info = self.info
        expected = self._real_count if stop is None else min(stop, self._real_count)
        done = start
        backend = (laspy.LazBackend.Lazrs if info.laz_backend == "sequential"
                   else laspy.LazBackend.LazrsParallel)
        f = self.file.open()
        try:
            with f, laspy.open(f, closefd=False, laz_backend=backend) as reader:
                reader.header.point_count = self._real_count   # may exceed the header's claim
                if start:
                    reader.seek(start)
                elif self.file.remote is None and info.laz_backend == "parallel":
                    # A local chunked LAZ: its first chunk may be decoded already.
                    with TIMINGS("read.decode"):
                        ahead = first_chunk.claim(self.file.name, min(chunk_points, expected), info.record_length)
                    if ahead is not None:
                        yield ahead
                        done = len(ahead)
                        if done < expected:
                            reader.seek(done)
                fill = _buffer_filler(reader, info) if backend is laspy.LazBackend.LazrsParallel else None
                yield from self._decoded(reader, f, fill, chunk_points, done, expected)
        except InputError:
            raise
        except BaseException as exc:
            reraise_fatal(exc)
            reraise_transfer(f)
            raise InputError(self.path, f"cannot read the point data ({short_text(exc)})") from None

    def _decoded(self, reader, f, fill, chunk_points: int, done: int, expected: int) -> Iterator[np.ndarray]:
        """Points ``done`` .. ``expected`` of an open reader, chunk by chunk:
        by ``fill`` into one buffer where it is given, else by laspy."""
        info = self.info
        buffer = None
        while done < expected:
            want = min(chunk_points, expected - done)
            try:
                with TIMINGS("read.decode"), quiet_stderr():
                    if fill is not None:
                        if buffer is None:
                            buffer = np.empty((want, info.record_length), np.uint8)
                        records = buffer[:want]
                        fill(records)
                    else:
                        records = reader.read_points(want).array
            except BaseException as exc:  # lazrs errors and panics
                reraise_fatal(exc)
                reraise_transfer(f)
                raise InputError(
                    self.path,
                    f"cannot decode points {done:,} to {done + want - 1:,} of the "
                    f"{self._real_count:,} its header announces ({short_text(exc)}); the file is damaged "
                    f"or holds fewer points than its header says",
                ) from None
            got = len(records)
            if got != want:
                raise InputError(
                    self.path,
                    f"header says {info.point_count:,} points, file holds {done + got:,}",
                )
            yield records.view(np.uint8).reshape(got, info.record_length)
            done += got


def _buffer_filler(reader, info):
    """lazrs's parallel decompressor under laspy's reader, as a function
    that decodes the next len(out) records into the array ``out``; None
    where laspy has another one.  laspy's ``read_points`` decodes into a new
    zero-filled bytearray for every chunk: 6 ms of memset on one core for
    each million points of format 6, while the decoder's threads wait."""
    try:
        import lazrs

        decompressor = reader.point_source.decompressor
        if not isinstance(decompressor, lazrs.ParLasZipDecompressor):
            return None
        if lazrs.LazVlr(info.laz_vlr).item_size() != info.record_length:
            return None
    except Exception:   # laspy's own path reads (and reports any problem) as it always did
        return None

    def fill(out: np.ndarray) -> None:
        decompressor.decompress_many(memoryview(out).cast("B"))

    return fill

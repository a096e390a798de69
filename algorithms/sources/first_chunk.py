"""The first chunk of a LAZ input, decoded by a forked process while the
command line still imports numba and its kernels.

A cold ``copc-builder build`` spends its first 0.3 s importing on one core;
the other core can decode the input's first chunk meanwhile.  lazrs holds the
GIL while it decodes, so only another process can do that beside the imports.
``start`` forks before anything heavy is imported (no thread runs yet, so the
fork is safe), and the child decodes with one thread into shared memory with
nothing but ``lazrs`` and the header's own fields.  ``LasFile.chunks`` then
``claim``s the records instead of decoding them again.

The child's records are used only if everything matches what the reader
would have decoded itself (the same file, unchanged; the same number of
points; the same record length); otherwise, or if the child failed for any
reason, the reader decodes as always, with its own checks and messages, so a
damaged file says what it always said.  Linux only, and for a process of
one's own, before it starts threads: the command line's run() starts it
(``copc_builder.decode_first_chunk``); QGIS and the library never do.
"""
from __future__ import annotations

import mmap
import os
import select
import signal
import sys
import threading
from stat import S_ISREG
from typing import Dict, Optional, Tuple

# The format layer's own parsers: importing these modules loads neither numpy
# nor numba (the format package resolves its names on first use).
from ..format.laz_vlr import LazVlr
from ..format.public_header import LasHeader
from ..format.record_ids import LAS14_HEADER_SIZE, LAZ_FORMAT_BIT, LAZ_RECORD, LAZ_USER
from ..format.vlr_header import Vlr

MAX_BYTES = 64 << 20      # at most this much shared memory; larger first chunks are decoded as always
WAIT_SECONDS = 60.0       # a child that has not answered by then is stopped

_LOCK = threading.Lock()
_PENDING: Dict[str, "FirstChunk"] = {}


def start(path: str, chunk_points: int) -> None:
    """Decode the first ``chunk_points`` points of the LAZ file ``path`` in a
    forked process, if this is Linux and the file looks like LAZ; else nothing."""
    if not sys.platform.startswith("linux") or not str(path).lower().endswith(".laz"):
        return
    try:
        real = os.path.realpath(path)
        stat = os.stat(real)
        if not S_ISREG(stat.st_mode):   # never read a pipe's bytes before the reader does
            return
        header = _laz_header(real)
        if header is None:
            return
        points = min(chunk_points, header[2], MAX_BYTES // header[1])
        ahead = FirstChunk(real, stat, points, header)
    except Exception:   # whatever it is, the reader will decode (and report) it itself
        return
    with _LOCK:
        _PENDING[real] = ahead


def claim(path: str, points: int, record_length: int):
    """The first ``points`` records of ``path`` as a (points, record_length)
    uint8 array, if a child decoded exactly those; else None."""
    with _LOCK:
        ahead = _PENDING.pop(os.path.realpath(path), None)
    if ahead is None:
        return None
    return ahead.take(points, record_length)


def close_all() -> None:
    """Stop and reap every child whose records were never claimed."""
    with _LOCK:
        pending = list(_PENDING.values())
        _PENDING.clear()
    for ahead in pending:
        ahead.close()


def _laz_header(path: str) -> Optional[Tuple[int, int, int, bytes]]:
    """(offset to point data, record length, point count, LASzip VLR data)
    from the header's own fields, or None where this is not a chunked LAZ
    file (a short or damaged header raises ValueError, which start() takes
    as no)."""
    with open(path, "rb") as f:
        header = LasHeader.from_bytes(f.read(LAS14_HEADER_SIZE))
        if header.signature != b"LASF" or not header.point_format_byte & LAZ_FORMAT_BIT or header.point_count == 0:
            return None
        position = header.header_size
        for _ in range(min(header.number_of_vlrs, 1000)):
            f.seek(position)
            raw = f.read(Vlr.header_size(False))
            if len(raw) < Vlr.header_size(False):
                return None
            vlr = Vlr.from_bytes(raw, position, extended=False)
            if vlr.is_(LAZ_USER, LAZ_RECORD):
                data = f.read(vlr.data_size)
                # Chunked compressors only: the reader seeks past the first chunk.
                return (header.offset_to_point_data, header.point_record_length, header.point_count,
                        data) if LazVlr.from_bytes(data).chunked else None
            position = vlr.end
    return None


class FirstChunk:
    """A forked child decoding ``points`` records into shared memory."""

    def __init__(self, path: str, stat: os.stat_result, points: int, header: Tuple[int, int, int, bytes]):
        self.path = path
        self.identity = _identity(stat)
        self.points = points
        self.record_length = header[1]
        self.memory = mmap.mmap(-1, max(1, points * self.record_length))   # shared, anonymous
        read_end, write_end = os.pipe()
        try:
            self.pid = os.fork()
        except OSError:   # no process to be had (EAGAIN, ENOMEM): the reader decodes it all itself
            os.close(read_end)
            os.close(write_end)
            self.memory.close()
            raise
        if self.pid == 0:   # the child: decode, say "ok", leave without running anything of the parent's
            os.close(read_end)
            _child(path, header, points, self.memory, write_end)
        os.close(write_end)
        self.status = read_end

    def take(self, points: int, record_length: int):
        said = self._wait()
        try:
            same_file = _identity(os.stat(self.path)) == self.identity
        except OSError:
            same_file = False
        if not (said == b"ok" and same_file and points == self.points and record_length == self.record_length):
            self.memory.close()
            return None
        import numpy as np

        # A view of the shared memory, which stays mapped while the array lives.
        return np.frombuffer(self.memory, np.uint8, points * record_length).reshape(points, record_length)

    def close(self) -> None:
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._wait()
        self.memory.close()

    def _wait(self) -> bytes:
        """The child's word (b"ok"; b"" if it failed or gave no answer within
        WAIT_SECONDS, when it is stopped), once it has exited."""
        if not self.pid:
            return b""
        said = b""
        while select.select([self.status], [], [], WAIT_SECONDS)[0]:
            part = os.read(self.status, 16)
            if not part:   # the child closed its end: it has left
                break
            said += part
        else:
            os.kill(self.pid, signal.SIGKILL)
            said = b""
        os.close(self.status)
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:   # SIGCHLD ignored (inherited so): the kernel reaped it
            pass
        self.pid = 0
        return said


def _identity(stat: os.stat_result) -> Tuple[int, int, int, int]:
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)


def _child(path: str, header, points: int, memory: mmap.mmap, status: int) -> None:
    """Runs in the forked process; never returns."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)    # Ctrl-C: go, quietly; the parent cleans up
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)    # the parent reports every problem, from its own decoding
        import lazrs

        offset, record_length, _, laz_data = header
        with open(path, "rb") as f:
            f.seek(offset)
            decoder = lazrs.LasZipDecompressor(f, laz_data)
            decoder.decompress_many(memoryview(memory)[:points * record_length])
        os.write(status, b"ok")
        code = 0
    except BaseException:
        pass
    finally:
        os._exit(code)

"""One temp file for spilled pages, with its free space reused."""
from __future__ import annotations

import os
import shutil
import tempfile
from typing import List, Optional, Tuple

from ..common.errors import OutputError
from ..common.temp_files import pid_alive

PREFIX = "copc_builder-"


def clean_stale(temp_dir: str) -> None:
    """Remove work folders left by builds that were killed (their pid is gone)."""
    try:
        names = os.listdir(temp_dir)
    except OSError:
        return
    for name in names:
        if not name.startswith(PREFIX):
            continue
        parts = name[len(PREFIX):].split("-")
        if parts and parts[0].isdigit() and not pid_alive(int(parts[0])):
            shutil.rmtree(os.path.join(temp_dir, name), ignore_errors=True)


class WorkFolder:
    """A private folder in the temp folder, named after our pid; removed on close."""

    def __init__(self, temp_dir: Optional[str]):
        base = temp_dir or tempfile.gettempdir()
        clean_stale(base)
        try:
            self.path = tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=base)
        except OSError as exc:
            raise OutputError(base, f"cannot create a work folder in the temp folder ({exc.strerror})") from None

    def close(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


class SpillFile:
    def __init__(self, folder: str, name: str = "pages.bin"):
        self.path = os.path.join(folder, name)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        self._end = 0
        self._free: List[Tuple[int, int]] = []   # (offset, size), sorted by offset
        self.peak = 0

    def write(self, data: bytes) -> int:
        size = len(data)
        offset = None
        for i, (off, room) in enumerate(self._free):
            if room >= size:
                offset = off
                if room == size:
                    del self._free[i]
                else:
                    self._free[i] = (off + size, room - size)
                break
        if offset is None:
            offset = self._end
            self._end += size
        view = memoryview(data)
        done = 0
        try:
            while done < size:   # a short write is retried: a full disk then says ENOSPC
                done += os.pwrite(self._fd, view[done:], offset + done)
        except OSError as exc:
            raise OutputError(self.path, f"cannot write to the temp folder ({exc.strerror})") from None
        self.peak = max(self.peak, self._end)
        return offset

    def read(self, offset: int, size: int) -> bytes:
        data = os.pread(self._fd, size, offset)
        if len(data) != size:
            raise OutputError(self.path, "temp file is shorter than written (was it removed?)")
        return data

    def free(self, offset: int, size: int) -> None:
        self._free.append((offset, size))
        self._free.sort()
        merged: List[Tuple[int, int]] = []
        for off, room in self._free:
            if merged and merged[-1][0] + merged[-1][1] == off:
                merged[-1] = (merged[-1][0], merged[-1][1] + room)
            else:
                merged.append((off, room))
        if merged and merged[-1][0] + merged[-1][1] == self._end:
            self._end = merged[-1][0]
            merged.pop()
            os.ftruncate(self._fd, self._end)
        self._free = merged

    def close(self) -> None:
        for step in (lambda: os.close(self._fd), lambda: os.remove(self.path)):
            try:
                step()
            except OSError:
                pass

"""Progress printers for hosts without a progress bar of their own: the
command line (a terminal bar, plain lines, JSON lines) and the PDAL stage
(plain lines on stderr).  Each is an observer of ``algorithms.progress``.
"""
from __future__ import annotations

import json
import sys
import time
from typing import Optional


class BarProgress:
    """One self-rewriting line on stderr."""

    def __init__(self, stream=sys.stderr):
        self.stream = stream
        self.t0 = time.monotonic()
        self.last = ""

    def on_progress(self, event) -> None:
        width = 30
        filled = int(event.fraction * width)
        line = (f"\r[{'#' * filled}{'.' * (width - filled)}] {event.fraction * 100:5.1f}%  "
                f"{event.stage:<6} {time.monotonic() - self.t0:6.1f}s")
        if line != self.last:
            self.stream.write(line)
            self.stream.flush()
            self.last = line

    def on_message(self, level: str, text: str) -> None:
        self.stream.write(f"\r\033[K{level}: {text}\n")
        self.stream.flush()

    def close(self) -> None:
        if self.last:
            self.stream.write("\n")
            self.stream.flush()


class PlainProgress:
    """A line per stage change and per 10 %, each after ``prefix``."""

    def __init__(self, stream=sys.stderr, prefix: str = ""):
        self.stream = stream
        self.prefix = prefix
        self.stage = None
        self.decile = -1

    def on_progress(self, event) -> None:
        decile = int(event.fraction * 10)
        if event.stage != self.stage or decile != self.decile:
            self.stage, self.decile = event.stage, decile
            self.stream.write(f"{self.prefix}{event.fraction * 100:5.1f}% {event.stage} "
                              f"{event.done}/{event.total}\n")
            self.stream.flush()

    def on_message(self, level: str, text: str) -> None:
        self.stream.write(f"{self.prefix}{level}: {text}\n")
        self.stream.flush()

    def close(self) -> None:
        pass


class JsonProgress:
    """One JSON object per line on stdout: progress events and messages."""

    def __init__(self, stream=sys.stdout):
        self.stream = stream

    def on_progress(self, event) -> None:
        self._put({"stage": event.stage, "done": event.done, "total": event.total,
                   "fraction": round(event.fraction, 4)})

    def on_message(self, level: str, text: str) -> None:
        self._put({"message": text, "level": level})

    def _put(self, obj) -> None:
        self.stream.write(json.dumps(obj) + "\n")
        self.stream.flush()

    def close(self) -> None:
        pass


def make_progress(kind: Optional[str]):
    if kind is None:
        kind = "bar" if sys.stderr.isatty() else "plain"
    return {"bar": BarProgress, "plain": PlainProgress, "json": JsonProgress}[kind]()

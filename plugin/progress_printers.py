"""Progress printers for hosts without a progress bar of their own: the
command line (a terminal bar, plain lines, JSON lines) and the PDAL stage
(plain lines on stderr).  Each is an observer of ``algorithms.progress``.
"""
from __future__ import annotations

import io
import json
import os
import sys
import time
from typing import Optional


class BarProgress:
    """A tqdm bar on stderr: overall percent (it never goes back: the core's
    fraction is monotone), elapsed and time left, the stage, and the stage's
    rate in points per second.  Messages print above the bar."""

    FORMAT = "{desc:<6} {percentage:5.1f}%|{bar}| {elapsed}<{remaining}{postfix}"

    def __init__(self, stream=None):
        from tqdm import tqdm

        self.stream = stream = stream or sys.stderr
        # Follow the terminal's width; a terminal of no size (some
        # pseudo-terminals) or a file gets 100 columns.
        sized = terminal_columns(stream) > 0
        self.bar = tqdm(total=100.0, file=stream, bar_format=self.FORMAT, dynamic_ncols=sized,
                        ncols=None if sized else 100, mininterval=0.1, smoothing=0.1, leave=True,
                        desc="start")
        self.stage = None
        self.stage_t0 = time.monotonic()

    def on_progress(self, event) -> None:
        now = time.monotonic()
        if event.stage != self.stage:
            self.stage, self.stage_t0 = event.stage, now
            self.bar.set_description_str(event.stage, refresh=False)
        self.bar.set_postfix_str(self.rate(event, now - self.stage_t0), refresh=False)
        step = event.fraction * 100.0 - self.bar.n
        if step > 0 or event.fraction >= 1.0:
            self.bar.update(max(step, 0.0))

    @staticmethod
    def rate(event, seconds: float) -> str:
        """The stage's points per second, for stages counted in points."""
        if event.total <= 1 or seconds <= 0 or event.done <= 0:
            return ""
        per_second = event.done / seconds
        if per_second >= 1e6:
            return f"{per_second / 1e6:.2f} M points/s"
        return f"{per_second / 1e3:.1f} k points/s"

    def on_message(self, level: str, text: str) -> None:
        self.bar.write(f"{level}: {text}", file=self.stream)

    def close(self) -> None:
        self.bar.close()


class MessagePrinter:
    """Messages only (warnings, notes), each after ``prefix``; no progress lines."""

    def __init__(self, stream=None, prefix: str = ""):
        self.stream = stream or sys.stderr   # the stderr of when it is made, not of the import
        self.prefix = prefix

    def on_message(self, level: str, text: str) -> None:
        self.stream.write(f"{self.prefix}{level}: {text}\n")
        self.stream.flush()

    def close(self) -> None:
        pass


class PlainProgress(MessagePrinter):
    """Messages, and a line per stage change and per 10 %, each after ``prefix``."""

    def __init__(self, stream=None, prefix: str = ""):
        super().__init__(stream, prefix)
        self.stage = None
        self.decile = -1

    def on_progress(self, event) -> None:
        decile = int(event.fraction * 10)
        if event.stage != self.stage or decile != self.decile:
            self.stage, self.decile = event.stage, decile
            self.stream.write(f"{self.prefix}{event.fraction * 100:5.1f}% {event.stage} "
                              f"{event.done}/{event.total}\n")
            self.stream.flush()


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
    if kind == "bar" and not tqdm_available():
        kind = "plain"   # tqdm is a dependency; a copy without it still reports progress
    return {"bar": BarProgress, "plain": PlainProgress, "json": JsonProgress}[kind]()


def terminal_columns(stream) -> int:
    """The width of the terminal ``stream`` writes to; 0 when none or unknown."""
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError, io.UnsupportedOperation):
        return 0


def tqdm_available() -> bool:
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return False
    return True

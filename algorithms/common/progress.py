"""Progress events and cancellation, host-free.

The core reports stage events to an *observer* and polls a *cancel* callable
between units of work.  Each stage owns a fixed share of the overall range,
so the overall fraction never goes back; hosts map it onto their own bar
(QgsProcessingFeedback.setProgress, a terminal bar, PDAL log lines).

An observer is any object with these two methods (both optional):

    on_progress(event: ProgressEvent) -> None
    on_message(level: str, text: str) -> None      # level: "info" | "warning"
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Optional

from .errors import BuildCancelled

# Stage name -> share of the overall range.  Order is the order they run.
STAGES = (
    ("scan", 0.02),      # headers, plan
    ("read", 0.43),      # decode, convert, distribute into the node store
    ("build", 0.45),     # octree, LOD sampling, LAZ chunks to the writer
    ("finish", 0.10),    # hierarchy, header, rename
)


@dataclass(frozen=True)
class ProgressEvent:
    stage: str          # one of STAGES
    done: int           # units done in this stage (points, nodes, ...)
    total: int          # units in this stage (0 when unknown)
    fraction: float     # overall 0.0 .. 1.0, never decreasing


class Progress:
    """Turns (stage, done, total) into monotone overall events, polls cancel."""

    def __init__(self, observer=None, cancel: Optional[Callable[[], bool]] = None,
                 stages=STAGES, cancelled: str = "build cancelled"):
        self._observer = observer
        self._cancel = cancel
        self._cancelled = cancelled
        self._starts = {}
        acc = 0.0
        for name, share in stages:
            self._starts[name] = (acc, share)
            acc += share
        self._last = 0.0
        self._last_emit = 0.0
        self.warnings: list = []

    def check_cancel(self) -> None:
        if self._cancel is not None and self._cancel():
            raise BuildCancelled(self._cancelled)

    def update(self, stage: str, done: int, total: int, force: bool = False) -> None:
        self.check_cancel()
        start, share = self._starts[stage]
        part = min(1.0, done / total) if total > 0 else 0.0
        fraction = max(self._last, min(1.0, start + share * part))
        now = time.monotonic()
        # Throttle: at most ~20 events/s unless the stage ends or forced.
        if not force and done < total and now - self._last_emit < 0.05:
            self._last = fraction
            return
        self._last = fraction
        self._last_emit = now
        fn = getattr(self._observer, "on_progress", None)
        if fn is not None:
            fn(ProgressEvent(stage, int(done), int(total), fraction))

    def info(self, text: str) -> None:
        fn = getattr(self._observer, "on_message", None)
        if fn is not None:
            fn("info", text)

    def warning(self, text: str) -> None:
        self.warnings.append(text)
        fn = getattr(self._observer, "on_message", None)
        if fn is not None:
            fn("warning", text)

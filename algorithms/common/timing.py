"""Wall-clock time per step, for the benchmark's profile (cheap enough to keep on)."""
from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Dict, Iterator


class Timings:
    def __init__(self):
        self.seconds: Dict[str, float] = {}

    @contextmanager
    def __call__(self, label: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - t0

    def add(self, label: str, seconds: float) -> None:
        self.seconds[label] = self.seconds.get(label, 0.0) + seconds

    def rounded(self) -> Dict[str, float]:
        return {k: round(v, 3) for k, v in self.seconds.items()}


# One per process: the builder resets it at the start of a build.
TIMINGS = Timings()

"""Points as the node store and the kernels see them: three columns."""
from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np


class Columns(NamedTuple):
    xyz: np.ndarray    # int32 (n, 3)
    gps: np.ndarray    # float64 (n,)
    rest: np.ndarray   # uint8 (n, R)

    def __len__(self) -> int:
        return len(self.gps)

    def take(self, index: np.ndarray) -> "Columns":
        return Columns(self.xyz[index], self.gps[index], self.rest[index])

    def slice(self, start: int, stop: int) -> "Columns":
        return Columns(self.xyz[start:stop], self.gps[start:stop], self.rest[start:stop])

    @staticmethod
    def empty(rest_size: int, n: int = 0) -> "Columns":
        return Columns(
            np.empty((n, 3), np.int32), np.empty(n, np.float64), np.empty((n, rest_size), np.uint8)
        )

    @staticmethod
    def concat(parts: Sequence["Columns"], rest_size: int) -> "Columns":
        if not parts:
            return Columns.empty(rest_size)
        if len(parts) == 1:
            return parts[0]
        return Columns(
            np.concatenate([p.xyz for p in parts]),
            np.concatenate([p.gps for p in parts]),
            np.concatenate([p.rest for p in parts]),
        )

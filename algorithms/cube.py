"""The root cube of the octree, in the output's integer frame.

Coordinates are quantized int32 values X (real = X * scale + offset).  The
cube's lower corner sits half a unit below the lowest point and its side is
``2**m`` times the largest axis scale S (an integer number ``ratio`` of units
on every axis), so every node boundary down to level ``m`` falls on a half
unit: no quantized point ever lies on a boundary, and "inside its node's
cube" holds exactly, whatever rounding a reader's float arithmetic does.

Each point gets a 63-bit Morton code of its cell at level FINE_LEVEL (21);
its cell at level d is ``code >> 3 * (FINE_LEVEL - d)``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence, Tuple

import numpy as np

from .errors import OptionError
from .node_key import MAX_LEVEL

FINE_LEVEL = 21


def axis_ratios(scales: Sequence[float]) -> Tuple[float, Tuple[int, int, int]]:
    """(S, ratios): the common unit S and S / scale per axis, all integers."""
    s_max = max(scales)
    for k in range(1, 1001):
        unit = s_max * k
        ratios = [unit / s for s in scales]
        if all(abs(r - round(r)) <= 1e-6 * r for r in ratios):
            return unit, tuple(int(round(r)) for r in ratios)
    raise OptionError(
        f"the axis scales {tuple(scales)} have no common multiple; give one --scale for all axes"
    )


@dataclass(frozen=True)
class Cube:
    imin: Tuple[int, int, int]     # lowest quantized coordinate per axis
    ratio: Tuple[int, int, int]    # units per common unit S, per axis
    m: int                         # side = 2**m * S
    unit: float                    # S, in real units
    scales: Tuple[float, float, float]
    offsets: Tuple[float, float, float]

    @staticmethod
    def enclosing(imin: Sequence[int], imax: Sequence[int], scales, offsets) -> "Cube":
        unit, ratio = axis_ratios(list(scales))
        span = max(math.ceil((int(hi) - int(lo) + 1) / r) for lo, hi, r in zip(imin, imax, ratio))
        m = max(0, (span - 1).bit_length())
        return Cube(tuple(int(v) for v in imin), ratio, m, unit,
                    tuple(float(s) for s in scales), tuple(float(o) for o in offsets))

    @property
    def side(self) -> float:
        return (2.0 ** self.m) * self.unit

    @property
    def halfsize(self) -> float:
        return self.side / 2.0

    @property
    def lower(self) -> Tuple[float, float, float]:
        return tuple(o + (i - 0.5) * s for o, i, s in zip(self.offsets, self.imin, self.scales))

    @property
    def center(self) -> Tuple[float, float, float]:
        h = self.halfsize
        return tuple(lo + h for lo in self.lower)

    @property
    def spacing(self) -> float:
        """COPC info 'spacing': the root's sampling-cell size."""
        return self.side / 128.0

    @property
    def max_depth(self) -> int:
        """Deepest level whose boundaries still fall on half units."""
        return min(MAX_LEVEL, self.m)

    def contains(self, imin, imax) -> bool:
        """Do the integer bounds [imin, imax] fit inside the cube?"""
        for a in range(3):
            top = self.imin[a] + (2 ** self.m) * self.ratio[a] - 1
            if imin[a] < self.imin[a] or imax[a] > top:
                return False
        return True

    def code_params(self):
        """Arrays for kernels.morton.fine_codes."""
        return np.array(self.imin, np.int64), np.array(self.ratio, np.int64), self.m + 1

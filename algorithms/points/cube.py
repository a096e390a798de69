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
from typing import Optional, Sequence, Tuple

import numpy as np

from ..format.node_key import MAX_LEVEL
from ..kernels.morton import FINE, fine_codes, fine_codes_float

FINE_LEVEL = FINE   # the kernels' fine Morton level


def axis_ratios(scales: Sequence[float]) -> Tuple[float, Optional[Tuple[int, int, int]]]:
    """(S, ratios): a common unit S and S / scale per axis, all integers.

    Scales with no small common multiple (e.g. 1.164e-06 and 1.003e-06) give
    ratios None: cells are then computed in floating point (see fine_codes).
    """
    s_max = max(scales)
    for k in range(1, 1001):
        unit = s_max * k
        ratios = [unit / s for s in scales]
        if max(ratios) > 2 ** 31:   # no integer grid worth having
            break
        if all(abs(r - round(r)) <= 1e-9 * r for r in ratios):
            return unit, tuple(int(round(r)) for r in ratios)
    return s_max, None


@dataclass(frozen=True)
class Cube:
    imin: Tuple[int, int, int]     # lowest quantized coordinate per axis
    ratio: Optional[Tuple[int, int, int]]   # units per common unit S, per axis (None: float cells)
    m: int                         # side = 2**m * S
    unit: float                    # S, in real units
    scales: Tuple[float, float, float]
    offsets: Tuple[float, float, float]

    @staticmethod
    def enclosing(imin: Sequence[int], imax: Sequence[int], scales, offsets) -> "Cube":
        unit, ratio = axis_ratios(list(scales))
        if ratio is not None:
            span = max(math.ceil((int(hi) - int(lo) + 1) / r) for lo, hi, r in zip(imin, imax, ratio))
        else:
            span = max(math.ceil((int(hi) - int(lo) + 1) * s / unit) for lo, hi, s in zip(imin, imax, scales))
        m = max(0, (span - 1).bit_length())
        if ratio is not None:
            # A ratio that is an integer only nearly (0.001 vs 0.0010000000009)
            # moves the boundaries off the half units by its error times the
            # cube's width in common units: beyond a twentieth of a unit,
            # compute cells in floating point instead.
            drift = max(abs(unit / s - r) for s, r in zip(scales, ratio)) * 2.0 ** (m + 1)
            if drift > 0.05:
                ratio = None
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
            if self.ratio is not None:
                top = self.imin[a] + (2 ** self.m) * self.ratio[a] - 1
            else:
                top = self.imin[a] + math.floor(self.side / self.scales[a] - 0.5)
            if imin[a] < self.imin[a] or imax[a] > top:
                return False
        return True

    def fine_codes(self, xyz: np.ndarray) -> np.ndarray:
        """Morton code (int64) of every point's cell at FINE_LEVEL."""
        out = np.empty(len(xyz), np.int64)
        imin = np.array(self.imin, np.int64)
        if self.ratio is not None:
            fine_codes(xyz, imin, np.array(self.ratio, np.int64), self.m + 1, out)
        else:
            lower = np.array(self.center) - self.halfsize   # as a reader computes it
            fine_codes_float(xyz, np.array(self.scales), np.array(self.offsets), lower,
                             2.0 * self.halfsize, self.max_depth, out)
        return out

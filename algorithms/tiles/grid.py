"""The tile grid: square cells of side SIZE in the output frame's units, with
corners at multiples of SIZE, half-open (a cell holds x0 <= x < x0 + SIZE and
y0 <= y < y0 + SIZE), so a point on an edge belongs to exactly one tile.

A point's cell is decided on its quantized integer coordinate, exactly: the
scale, offset and size are read as the decimals they are written as (0.01,
2600000, 500), and the first integer of cell k on an axis is the smallest X
with X * scale + offset >= k * SIZE.  Floating point never decides an edge.

Cells are named by their lower-left corner, ``<stem>_<x>_<y>``: whole numbers
padded to 7 digits (fractions when SIZE has them), so the names of a
collection sort by x then y and read as coordinates.  A negative corner is
written with a leading minus sign (``-0000500``); names sort numerically
within one sign.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Dict, Tuple

import numpy as np

from ..common.errors import OptionError
from ..store.keys import RUN_KEY_BASE, TILE_KEY_BASE

CORNER_DIGITS = 7            # whole-number digits of a corner in a name
INDEX_BITS = 29              # bits per axis of a cell index in a store key
INDEX_BIAS = 1 << (INDEX_BITS - 1)
OVERVIEW_FLAG = 1 << (2 * INDEX_BITS)        # a tile's root points, for the overview
PART_FLAG = 1 << (2 * INDEX_BITS + 1)        # the points of one overview file
MAX_DECIMALS = 9


def decimal(value: float) -> Fraction:
    """The number as written: the shortest decimal that reads back as ``value``."""
    return Fraction(repr(float(value)))


def size_decimals(size: float) -> int:
    """Decimals of a corner's name: those the size is written with (at most 9)."""
    exponent = Decimal(repr(float(size))).normalize().as_tuple().exponent
    return min(MAX_DECIMALS, max(0, -int(exponent)))


def check_size(size, what: str = "tile size") -> float:
    try:
        value = float(size)
    except (TypeError, ValueError):
        raise OptionError(f"cannot read {size!r} as a {what} (a length in the output CRS's units, e.g. 500)") from None
    if not (math.isfinite(value) and value > 0):
        raise OptionError(f"{what} must be a positive length, got {size!r}")
    return value


@dataclass(frozen=True)
class AxisCut:
    """Cells along one axis: which cell an integer coordinate falls in."""

    size: Fraction       # SIZE / scale: cell width in integer units
    origin: Fraction     # -offset / scale: where real coordinate 0 lies in integer units

    def first_integer(self, k: int) -> int:
        """The lowest integer coordinate of cell k: ceil(k * size + origin)."""
        return math.ceil(k * self.size + self.origin)

    def cell_of(self, value: int) -> int:
        """The cell of one integer coordinate (exact)."""
        return math.floor((value - self.origin) / self.size)

    def cells(self, values: np.ndarray, lo: int, hi: int) -> np.ndarray:
        """The cell of every coordinate (all within [lo, hi]), exact."""
        k0, k1 = self.cell_of(lo), self.cell_of(hi)
        if k0 == k1:
            return np.full(len(values), k0, np.int64)
        if self.size.denominator == 1:
            # Whole cells: cell k starts at k * size + c for one c.
            c = self.first_integer(0)
            return (values.astype(np.int64) - c) // int(self.size)
        starts = np.array([self.first_integer(k) for k in range(k0 + 1, k1 + 1)], np.int64)
        return k0 + np.searchsorted(starts, values, side="right").astype(np.int64)


@dataclass(frozen=True)
class TileGrid:
    size: float
    scales: Tuple[float, float, float]
    offsets: Tuple[float, float, float]

    @property
    def axes(self) -> Tuple[AxisCut, AxisCut]:
        size = decimal(self.size)
        return tuple(AxisCut(size / decimal(s), -decimal(o) / decimal(s))
                     for s, o in zip(self.scales[:2], self.offsets[:2]))

    def cells(self, xyz: np.ndarray, lo, hi) -> Tuple[np.ndarray, np.ndarray]:
        """(cell x, cell y) of every point; lo/hi are the points' integer bounds."""
        ax, ay = self.axes
        return ax.cells(xyz[:, 0], int(lo[0]), int(hi[0])), ay.cells(xyz[:, 1], int(lo[1]), int(hi[1]))

    def grouped(self, xyz: np.ndarray, lo, hi) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The points grouped by cell: (cells' x, cells' y in cell order, segment bounds, the
        order of the points, arrival order kept within a cell); lo/hi are their integer bounds."""
        from ..kernels.tiling import cell_order

        ax, ay = self.axes
        kx0, kx1 = ax.cell_of(int(lo[0])), ax.cell_of(int(hi[0]))
        ky0, ky1 = ay.cell_of(int(lo[1])), ay.cell_of(int(hi[1]))
        nx, ny = kx1 - kx0 + 1, ky1 - ky0 + 1
        if ax.size.denominator == 1 and ay.size.denominator == 1 and nx * ny <= 1 << 22:
            # whole cells: one pass of a counting sort, no per-point temporaries
            order, counts = cell_order(xyz, ax.first_integer(0), int(ax.size), ay.first_integer(0), int(ay.size),
                                       kx0, ky0, nx, ny)
            present = np.flatnonzero(counts)
            bounds = np.concatenate(([0], np.cumsum(counts[present]))).astype(np.int64)
            return present // ny + kx0, present % ny + ky0, bounds, order
        return group_by_cell(*self.cells(xyz, lo, hi))

    def corner(self, cell: Tuple[int, int]) -> Tuple[Fraction, Fraction]:
        size = decimal(self.size)
        return cell[0] * size, cell[1] * size

    def name(self, stem: str, cell: Tuple[int, int]) -> str:
        """``<stem>_<x>_<y>``: the cell's lower-left corner."""
        digits = size_decimals(self.size)
        return "_".join([stem] + [corner_text(c, digits) for c in self.corner(cell)])

    def coarser(self, factor: int) -> "TileGrid":
        return TileGrid(float(decimal(self.size) * factor), self.scales, self.offsets)


def corner_text(value: Fraction, digits: int) -> str:
    """A corner coordinate, fixed width: 7 whole digits, ``digits`` decimals, '-' when negative."""
    sign = "-" if value < 0 else ""
    value = abs(value)
    whole = math.floor(value)
    text = f"{whole:0{CORNER_DIGITS}d}"
    if digits:
        frac = round((value - whole) * 10 ** digits)
        text += f".{frac:0{digits}d}"
    return sign + text


def cell_key(cell: Tuple[int, int], overview: bool = False, part: bool = False) -> int:
    """The store key holding a cell's points: a tile's, a tile's root points
    (``overview``), or an overview file's (``part``)."""
    x, y = (int(c) + INDEX_BIAS for c in cell)
    if not (0 <= x < 1 << INDEX_BITS and 0 <= y < 1 << INDEX_BITS):
        raise OptionError(f"tile index {cell} is out of range; choose a larger tile size")
    key = TILE_KEY_BASE + (OVERVIEW_FLAG if overview else 0) + (PART_FLAG if part else 0) + (x << INDEX_BITS) + y
    assert key < RUN_KEY_BASE
    return key


def key_cell(key: int) -> Tuple[int, int]:
    code = (key - TILE_KEY_BASE) % OVERVIEW_FLAG
    return (code >> INDEX_BITS) - INDEX_BIAS, (code & ((1 << INDEX_BITS) - 1)) - INDEX_BIAS


def group_by_cell(cx: np.ndarray, cy: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Points grouped by cell: (cells' x, cells' y in order, segment bounds, the order of the points)."""
    from ..kernels.distribute import bucket_order

    x0, y0 = int(cx.min()), int(cy.min())
    ny = int(cy.max()) - y0 + 1
    span = (int(cx.max()) - x0 + 1) * ny
    if span <= 1 << 22:   # a counting sort over the cells the points span (few, for a chunk)
        dense = (cx - x0) * ny + (cy - y0)
        order, counts = bucket_order(dense, 0, (1 << max(span - 1, 1).bit_length()) - 1)
        present = np.flatnonzero(counts)
        counts = counts[present]
    else:                 # points strewn over many cells
        keys = (cx - x0) * ny + (cy - y0)
        present, inverse = np.unique(keys, return_inverse=True)
        order = np.argsort(inverse, kind="stable")
        counts = np.bincount(inverse, minlength=len(present))
    bounds = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    return present // ny + x0, present % ny + y0, bounds, order


def overview_cell(cell: Tuple[int, int], factor: int) -> Tuple[int, int]:
    """The cell of the coarser overview grid (``factor`` tiles a side) a tile falls in."""
    return cell[0] // factor, cell[1] // factor


CellBounds = Dict[int, Tuple[np.ndarray, np.ndarray]]

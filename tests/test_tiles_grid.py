"""The tile grid: half-open cells decided exactly on the integer grid, names by corner."""
from fractions import Fraction

import numpy as np
import pytest

from copc_builder.algorithms.api import OptionError
from copc_builder.algorithms.tiles.grid import TileGrid, check_size, corner_text, group_by_cell


def cells_of(grid, xs, ys):
    xyz = np.stack([np.asarray(xs), np.asarray(ys), np.zeros(len(xs))], axis=1).astype(np.int32)
    lo, hi = xyz.min(axis=0), xyz.max(axis=0)
    return [tuple(map(int, c)) for c in zip(*grid.cells(xyz, lo, hi))]


def reference_cell(value: int, scale: str, offset: str, size: str) -> int:
    """floor((X * scale + offset) / size) in exact decimal arithmetic."""
    return int((value * Fraction(scale) + Fraction(offset)) // Fraction(size))


@pytest.mark.parametrize("scale, offset, size", [
    ("0.01", "2600000", "500"), ("0.001", "-123.457", "0.25"), ("0.01", "0", "1000"),
    ("0.003", "7.001", "1.5"), ("0.1", "-5000", "250")])
def test_cells_match_exact_decimal_arithmetic(scale, offset, size):
    grid = TileGrid(float(size), (float(scale),) * 3, (float(offset),) * 3)
    rng = np.random.default_rng(1)
    values = rng.integers(-2_000_000, 2_000_000, 5000)
    # and every point that lies exactly on an edge, with its neighbours
    edges = [int((k * Fraction(size) - Fraction(offset)) / Fraction(scale)) for k in range(-3, 4)]
    values = np.concatenate([values, [e + d for e in edges for d in (-1, 0, 1)]])
    got = cells_of(grid, values, values)
    want = [(reference_cell(v, scale, offset, size),) * 2 for v in values.tolist()]
    assert got == want


def test_a_point_on_an_edge_goes_to_the_cell_it_starts():
    grid = TileGrid(500.0, (0.01,) * 3, (0.0,) * 3)
    # 499.99 | 500.00 | 999.99 | 1000.00 | -0.01 | 0.00
    assert cells_of(grid, [49999, 50000, 99999, 100000, -1, 0], [0] * 6) == \
        [(0, 0), (1, 0), (1, 0), (2, 0), (-1, 0), (0, 0)]


def test_names_read_as_the_lower_left_corner_and_have_a_fixed_width():
    grid = TileGrid(500.0, (0.01,) * 3, (0.0,) * 3)
    assert grid.name("city", (5366, 2494)) == "city_2683000_1247000"
    assert grid.name("city", (0, 1)) == "city_0000000_0000500"
    assert grid.name("city", (-1, -3)) == "city_-0000500_-0001500"
    quarter = TileGrid(0.25, (1e-7,) * 3, (0.0,) * 3)
    assert quarter.name("geo", (34, -187)) == "geo_0000008.50_-0000046.75"
    assert corner_text(Fraction(12345678), 0) == "12345678"
    names = [grid.name("c", (x, y)) for x in range(3) for y in range(3)]
    assert names == sorted(names) and len({len(n) for n in names}) == 1


def test_points_are_grouped_by_cell_in_cell_order_keeping_arrival_order():
    cx = np.array([2, 0, 2, 1, 0, -4], np.int64)
    cy = np.array([0, 5, 0, 0, 5, 9], np.int64)
    xs, ys, bounds, order = group_by_cell(cx, cy)
    assert list(zip(xs.tolist(), ys.tolist())) == [(-4, 9), (0, 5), (1, 0), (2, 0)]
    assert bounds.tolist() == [0, 1, 3, 4, 6]
    assert order.tolist() == [5, 1, 4, 3, 0, 2]
    far = np.array([0, 10_000_000], np.int64)   # too many cells between them for a counting sort
    xs, ys, bounds, order = group_by_cell(far, far)
    assert xs.tolist() == [0, 10_000_000] and order.tolist() == [0, 1]


@pytest.mark.parametrize("bad", [0, -5, float("nan"), float("inf"), "abc"])
def test_a_bad_tile_size_is_refused(bad):
    with pytest.raises(OptionError, match="tile size"):
        check_size(bad)


@pytest.mark.parametrize("scale, offset, size", [("0.01", "2600000", "500"), ("0.003", "7.001", "1.5"),
                                                 ("0.1", "-5000", "250")])
def test_grouping_by_cell_matches_the_exact_cells_and_keeps_arrival_order(scale, offset, size):
    """TileGrid.grouped (the counting-sort kernel for whole cells, numpy otherwise) against a plain reference."""
    grid = TileGrid(float(size), (float(scale),) * 3, (float(offset),) * 3)
    rng = np.random.default_rng(7)
    xyz = rng.integers(-300_000, 300_000, (20_000, 3)).astype(np.int32)
    lo, hi = xyz.min(axis=0), xyz.max(axis=0)
    xs, ys, bounds, order = grid.grouped(xyz, lo, hi)
    cells = [(reference_cell(int(x), scale, offset, size), reference_cell(int(y), scale, offset, size))
             for x, y in xyz[:, :2]]
    want = sorted(range(len(cells)), key=lambda i: (cells[i], i))
    assert order.tolist() == want
    got = [cells[i] for i in order.tolist()]
    for k, cell in enumerate(zip(xs.tolist(), ys.tolist())):
        assert set(got[bounds[k]:bounds[k + 1]]) == {cell}

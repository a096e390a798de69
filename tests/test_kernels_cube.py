"""Cube: the root cube and the claim in its docstring, checked the way a COPC
reader checks it.

A reader knows only the info VLR's center and halfsize and the header's
scale/offset.  Node (d, x, y, z) covers [low, low + side] per axis with
side = 2 * halfsize / 2**d and low = center - halfsize + index * side, all in
float64; a point (integer * scale + offset, float64) must lie inside its
node's cube, inclusive, with no tolerance.  The point's node at level d is
its fine Morton code shifted right by 3 * (21 - d).
"""
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copc_builder.algorithms.points.cube import FINE_LEVEL, Cube, axis_ratios

INT32_MIN = -(2 ** 31)
INT32_MAX = 2 ** 31 - 1
SETTINGS = settings(max_examples=50, deadline=None)

# Scales with a common unit (integer cells).
RATIO_SCALES = [
    (0.01, 0.01, 0.01), (0.01, 0.01, 0.001), (0.001, 0.001, 0.001), (0.03, 0.02, 0.01),
    (1e-7, 1e-7, 1e-2), (0.25, 0.5, 0.125), (1.0, 1.0, 1.0), (1e-6, 1e-7, 1e-3),
    (0.3, 0.7, 0.11), (1e-5, 1e-5, 1e-5),
]
# Scales with no small common multiple (floating-point cells).
ODD_SCALES = (1.16451354e-06, 1.164510015e-06, 1.003143236e-06)
FLOAT_SCALES = [ODD_SCALES, (1.003143236e-06, 1.16451354e-06, 0.001), (0.01, 0.0099999, 0.001)]
OFFSETS = [0.0, -180.0, 90.0, 1000.0, 7350.194653, 500000.0, 1692500.352, -376337.0959790291]


def deinterleave(cells: np.ndarray, level: int) -> np.ndarray:
    """(n, 3) node indices (x, y, z) from Morton codes of ``level`` bits per axis."""
    out = np.zeros((len(cells), 3), np.int64)
    for b in range(level):
        for a in range(3):
            out[:, a] |= ((cells >> (3 * b + a)) & 1) << b
    return out


def reader_outside(cube: Cube, xyz: np.ndarray) -> np.ndarray:
    """Points that a COPC reader finds outside their node's cube at some level <= max_depth."""
    codes = cube.fine_codes(xyz)
    real = xyz.astype(np.float64) * np.array(cube.scales) + np.array(cube.offsets)
    center = np.array(cube.center)
    half = cube.halfsize
    bad = np.zeros(len(xyz), bool)
    for level in range(cube.max_depth + 1):
        index = deinterleave(codes >> (3 * (FINE_LEVEL - level)), level)
        side = 2 * half / 2 ** level
        low = center - half + index * side
        high = low + side
        bad |= ~((low <= real) & (real <= high)).all(axis=1)
    return bad


def reader_boundary_points(cube: Cube, lo, hi, rng, per_level=24) -> np.ndarray:
    """Integer points nearest to node boundaries as a reader computes them
    (center - halfsize + k * side), on each axis, at several levels."""
    center, half = np.array(cube.center), cube.halfsize
    levels = sorted({1, cube.max_depth, *rng.integers(1, cube.max_depth + 1, 3).tolist()}) \
        if cube.max_depth else []
    pts = []
    for a in range(3):
        for level in levels:
            k = rng.integers(1, 2 ** level, per_level, endpoint=False)
            bound = center[a] - half + k * (2 * half / 2 ** level)
            u = (bound - cube.offsets[a]) / cube.scales[a]
            for d in (-1, 0, 1, 2):
                x = np.floor(u).astype(np.int64) + d
                x = x[(x >= lo[a]) & (x <= hi[a])]
                p = np.tile(np.asarray(lo, np.int64), (len(x), 1))
                p[:, a] = x
                pts.append(p)
    return np.concatenate(pts) if pts else np.empty((0, 3), np.int64)


def cloud(lo, hi, rng, n=300):
    """Random points in [lo, hi] plus the corners."""
    pts = np.stack([rng.integers(lo[a], hi[a], n, endpoint=True) for a in range(3)], 1)
    return np.concatenate([pts, [lo, hi]]).astype(np.int64)


@st.composite
def frames(draw, scale_choices):
    scales = draw(st.sampled_from(scale_choices))
    offsets = tuple(draw(st.sampled_from(OFFSETS)) for _ in range(3))
    lo, hi = [], []
    for _ in range(3):
        span = draw(st.sampled_from([0, 1, 2, 3, 7, 100, 1023, 1024, 10 ** 5, 2 ** 20 + 1, 10 ** 8,
                                     2 ** 31, 2 ** 32 - 1]))
        a = draw(st.integers(INT32_MIN, INT32_MAX - span))
        lo.append(a)
        hi.append(a + span)
    seed = draw(st.integers(0, 2 ** 32 - 1))
    return scales, offsets, np.array(lo, np.int64), np.array(hi, np.int64), seed


@SETTINGS
@given(frames(RATIO_SCALES))
def test_ratio_cube_every_point_inside_its_node_at_every_level(frame):
    """The docstring's claim: boundaries fall on half units, so a reader finds
    every point inside its node at every level <= max_depth, even the points
    right next to a boundary."""
    scales, offsets, lo, hi, seed = frame
    cube = Cube.enclosing(lo, hi, scales, offsets)
    assert cube.ratio is not None
    rng = np.random.default_rng(seed)
    xyz = np.concatenate([cloud(lo, hi, rng), reader_boundary_points(cube, lo, hi, rng)]).astype(np.int32)
    bad = reader_outside(cube, xyz)
    assert not bad.any(), f"{bad.sum()} points outside their node, e.g. {xyz[bad][:3].tolist()}"


@pytest.mark.parametrize("scales", FLOAT_SCALES)
@pytest.mark.parametrize("offsets", [(0.0, 0.0, 0.0), (-180.0, -90.0, 0.0), (1692500.352, 1817499.596, 7350.194653)])
def test_float_cube_random_points_inside_their_node(scales, offsets):
    rng = np.random.default_rng([FLOAT_SCALES.index(scales), abs(int(offsets[0]))])
    for span in (1000, 10 ** 6, 2 ** 31, 2 ** 32 - 1):
        lo = rng.integers(INT32_MIN, INT32_MAX - span, 3, endpoint=True)
        hi = lo + span
        cube = Cube.enclosing(lo, hi, scales, offsets)
        assert cube.ratio is None
        xyz = cloud(lo, hi, rng, 3000).astype(np.int32)
        bad = reader_outside(cube, xyz)
        assert not bad.any(), f"{bad.sum()} points outside their node, e.g. {xyz[bad][:3].tolist()}"


# Scales and offsets of shared/data/laspy_1_4_w_evlr.las, over a box where a
# reader finds points outside their node (found by searching reader boundaries).
def test_float_cube_points_next_to_reader_boundaries():
    lo = np.array([455075803, -487503825, -117357736])
    hi = np.array([456599671, -472553342, -99565654])
    cube = Cube.enclosing(lo, hi, ODD_SCALES, (1692500.352, 1817499.596, 0.0))
    assert cube.ratio is None
    xyz = np.array([lo, [455075803, -487008288, -117357736], [455075803, -486677935, -117357736]], np.int32)
    bad = reader_outside(cube, xyz)
    assert not bad.any(), f"{bad.sum()} points outside their node: {xyz[bad].tolist()}"


def test_nearly_equal_scales_keep_boundaries_on_half_units():
    scales = (0.001, 0.001, 0.0010000000009)     # x, y: ratio 1.0000000009 taken as 1
    lo = np.array([0, 0, 0])
    hi = np.array([INT32_MAX, 1000, 1000])
    cube = Cube.enclosing(lo, hi, scales, (0.0, 0.0, 0.0))
    xyz = np.array([[555556864, 0, 0], [2 ** 31 - 2 ** 11, 0, 0], [10 ** 9 - 1, 0, 0]], np.int32)
    rng = np.random.default_rng(0)
    xyz = np.concatenate([xyz, cloud(lo, hi, rng, 2000)]).astype(np.int32)
    bad = reader_outside(cube, xyz)
    assert not bad.any(), f"{bad.sum()} points outside their node: {xyz[bad][:3].tolist()}"


# -- enclosing / contains / properties -------------------------------------------

def exact_top(cube: Cube, a: int) -> int:
    """Largest integer X with (X - imin + 0.5) * scale <= side, in exact arithmetic."""
    side = Fraction(2) ** cube.m * Fraction(cube.unit)
    s = Fraction(cube.scales[a])
    return cube.imin[a] + int((side / s - Fraction(1, 2)) // 1)


@SETTINGS
@given(frames(RATIO_SCALES + FLOAT_SCALES))
def test_enclosing_is_the_smallest_cube_holding_the_bounds(frame):
    scales, offsets, lo, hi, _ = frame
    cube = Cube.enclosing(lo, hi, scales, offsets)
    assert cube.imin == tuple(int(v) for v in lo)
    assert cube.contains(lo, hi)
    assert cube.max_depth == min(20, cube.m)
    if cube.ratio is not None:
        for a in range(3):   # the common unit is a whole number of units of every axis
            assert abs(cube.unit / scales[a] - cube.ratio[a]) <= 1e-6
    for a in range(3):
        # Exact geometry: the highest point fits, the cube a level smaller would not hold the bounds.
        assert exact_top(cube, a) >= hi[a]
    if cube.m > 0:
        smaller = Cube(cube.imin, cube.ratio, cube.m - 1, cube.unit, cube.scales, cube.offsets)
        assert any(exact_top(smaller, a) < hi[a] for a in range(3))
        assert not smaller.contains(lo, hi)


@SETTINGS
@given(frames(RATIO_SCALES + FLOAT_SCALES), st.integers(0, 2))
def test_contains_matches_exact_geometry(frame, axis):
    scales, offsets, lo, hi, _ = frame
    cube = Cube.enclosing(lo, hi, scales, offsets)
    top = [exact_top(cube, a) for a in range(3)]
    inner_hi = np.array(top)
    assert cube.contains(lo, inner_hi)
    over = inner_hi.copy()
    over[axis] += 1
    assert not cube.contains(lo, over)
    under = np.array(lo).copy()
    under[axis] -= 1
    assert not cube.contains(under, hi)


def test_cube_geometry_in_real_units():
    cube = Cube.enclosing([10, 20, 30], [1009, 520, 31], (0.01, 0.01, 0.001), (100.0, 200.0, 5.0))
    # x spans 1000 units -> 2**10 units of 0.01; z's unit is 10 of its own.
    assert (cube.ratio, cube.m, cube.unit) == ((1, 1, 10), 10, 0.01)
    assert cube.side == pytest.approx(10.24)
    assert cube.halfsize == pytest.approx(5.12)
    assert cube.lower == pytest.approx((100.095, 200.195, 5.0295))
    assert cube.center == pytest.approx((100.095 + 5.12, 200.195 + 5.12, 5.0295 + 5.12))
    assert cube.spacing == pytest.approx(10.24 / 128)


def test_single_point_cube():
    cube = Cube.enclosing([7, -7, 0], [7, -7, 0], (0.01, 0.01, 0.01), (0.0, 0.0, 0.0))
    assert cube.m == 0 and cube.max_depth == 0
    assert cube.contains([7, -7, 0], [7, -7, 0])
    assert not cube.contains([7, -7, 0], [8, -7, 0])
    assert not reader_outside(cube, np.array([[7, -7, 0]], np.int32)).any()


def test_full_int32_range_cube():
    lo, hi = [INT32_MIN] * 3, [INT32_MAX] * 3
    cube = Cube.enclosing(lo, hi, (0.001, 0.001, 0.001), (0.0, 0.0, 0.0))
    assert cube.m == 32 and cube.max_depth == 20
    assert cube.contains(lo, hi)
    xyz = np.array([lo, hi, [0, -1, 1], [INT32_MAX, INT32_MIN, 0]], np.int32)
    assert not reader_outside(cube, xyz).any()


@pytest.mark.parametrize("scales,unit,ratios", [
    ((0.01, 0.01, 0.001), 0.01, (1, 1, 10)),
    ((0.03, 0.02, 0.01), 0.06, (2, 3, 6)),
    ((1e-6, 1e-7, 1e-3), 1e-3, (1000, 10000, 1)),
    (ODD_SCALES, ODD_SCALES[0], None),
])
def test_axis_ratios(scales, unit, ratios):
    got_unit, got_ratios = axis_ratios(scales)
    assert got_unit == pytest.approx(unit, rel=1e-12)
    assert got_ratios == ratios

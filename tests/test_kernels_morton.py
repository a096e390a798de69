"""kernels.morton (spread3, fine_codes, fine_codes_float) against plain
Python/numpy references: bit-by-bit interleaving and exact integer cells."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copc_builder.algorithms.kernels.morton import FINE, fine_codes, fine_codes_float, spread3

INT32_MIN = -(2 ** 31)
INT32_MAX = 2 ** 31 - 1
SETTINGS = settings(max_examples=50, deadline=None)


def ref_spread3(v: int) -> int:
    """Bit b of v (b < 21) goes to bit 3b."""
    return sum(((v >> b) & 1) << (3 * b) for b in range(FINE))


def ref_interleave(cells) -> int:
    """Morton code of (cx, cy, cz): x on bits 3b, y on 3b+1, z on 3b+2."""
    return sum(ref_spread3(int(c)) << a for a, c in enumerate(cells))


@SETTINGS
@given(st.integers(0, 2 ** 63 - 1))
def test_spread3_matches_bit_loop(v):
    assert int(spread3(np.int64(v))) == ref_spread3(v & 0x1FFFFF)


@pytest.mark.parametrize("v", [0, 1, 0x1FFFFF, 0x100000, 0x155555, 0x0AAAAA, 0x200000, 2 ** 63 - 1])
def test_spread3_edge_values(v):
    got = int(spread3(np.int64(v)))
    assert got == ref_spread3(v & 0x1FFFFF)
    assert got < 2 ** 63   # never reaches the sign bit


@st.composite
def integer_frames(draw):
    """(imin, ratio, m1, points): points inside a cube 2**m1 half units * ratio wide."""
    m1 = draw(st.integers(1, 33))
    ratio = [draw(st.sampled_from([1, 2, 3, 7, 10, 100, 1000])) for _ in range(3)]
    imin, pts = [], []
    n = draw(st.integers(0, 40))
    for a in range(3):
        width = (2 ** (m1 - 1)) * ratio[a]          # units along this axis
        lo = draw(st.integers(INT32_MIN, INT32_MAX))
        hi = min(lo + width - 1, INT32_MAX)
        imin.append(lo)
        col = draw(st.lists(st.integers(lo, hi), min_size=n, max_size=n))
        pts.append(col)
    xyz = np.array(pts, np.int64).T.reshape(n, 3).astype(np.int32)
    return np.array(imin, np.int64), np.array(ratio, np.int64), m1, xyz


@SETTINGS
@given(integer_frames())
def test_fine_codes_match_exact_integer_cells(frame):
    imin, ratio, m1, xyz = frame
    out = np.full(len(xyz), -1, np.int64)
    fine_codes(xyz, imin, ratio, m1, out)
    for i, p in enumerate(xyz):
        cells = []
        for a in range(3):
            h = 2 * (int(p[a]) - int(imin[a])) + 1          # half units above the lower corner
            cells.append(h * 2 ** FINE // (2 ** m1 * int(ratio[a])))
        assert all(0 <= c < 2 ** FINE for c in cells)
        assert int(out[i]) == ref_interleave(cells), (p, cells)


def test_fine_codes_extreme_int32():
    """Whole int32 range in one cube (m1 = 33): corners map to the first and last cells."""
    xyz = np.array([[INT32_MIN] * 3, [INT32_MAX] * 3, [0, -1, INT32_MIN], [INT32_MAX, INT32_MIN, 0]], np.int32)
    out = np.empty(4, np.int64)
    fine_codes(xyz, np.full(3, INT32_MIN, np.int64), np.ones(3, np.int64), 33, out)
    top = 2 ** FINE - 1
    assert int(out[0]) == 0
    assert int(out[1]) == ref_interleave([top] * 3) == 2 ** 63 - 1
    assert int(out[2]) == ref_interleave([2 ** 20, 2 ** 20 - 1, 0])
    assert int(out[3]) == ref_interleave([top, 0, 2 ** 20])


def test_fine_codes_empty():
    out = np.empty(0, np.int64)
    fine_codes(np.empty((0, 3), np.int32), np.zeros(3, np.int64), np.ones(3, np.int64), 5, out)
    fine_codes_float(np.empty((0, 3), np.int32), np.zeros(3, np.int64), np.ones(3), out)
    assert out.shape == (0,)


def ref_float_cells(xyz, imin, factor):
    t = (xyz.astype(np.float64) - imin.astype(np.float64) + 0.5) * factor
    return np.clip(np.floor(t), 0, 2 ** FINE - 1).astype(np.int64)


@pytest.mark.parametrize("seed", range(4))
def test_fine_codes_float_matches_numpy(seed):
    rng = np.random.default_rng(seed)
    n = 500
    imin = rng.integers(INT32_MIN, 0, 3)
    xyz = np.stack([rng.integers(imin[a], INT32_MAX, n, endpoint=True) for a in range(3)], 1).astype(np.int32)
    xyz[0] = imin                       # the lowest corner
    xyz[1] = INT32_MAX
    factor = rng.uniform(1e-5, 1e-3, 3)
    factor[0] = 2.0 ** FINE / (INT32_MAX - imin[0] + 1.0)   # exactly the span on x
    out = np.empty(n, np.int64)
    fine_codes_float(xyz, imin.astype(np.int64), factor, out)
    cells = ref_float_cells(xyz, imin, factor)
    expect = [ref_interleave(c) for c in cells]
    assert out.tolist() == expect


def test_fine_codes_float_clamps_out_of_range_points():
    """Points below the lower corner or past the top cell clamp to the edge cells."""
    xyz = np.array([[-10, 0, 0], [0, 10 ** 9, 0], [5, 5, 5]], np.int32)
    out = np.empty(3, np.int64)
    fine_codes_float(xyz, np.zeros(3, np.int64), np.array([1.0, 1.0, 1.0]), out)
    top = 2 ** FINE - 1
    assert out.tolist() == [ref_interleave([0, 0, 0]), ref_interleave([0, top, 0]),
                            ref_interleave([5, 5, 5])]

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
    # all powers of two (divided by shifts, as for equal scales) or any mix
    pool = draw(st.sampled_from([[1, 2, 4, 1024], [1, 2, 3, 7, 10, 100, 1000]]))
    ratio = [draw(st.sampled_from(pool)) for _ in range(3)]
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
    """No points: nothing written, not even around the empty output (a slice
    of a canary-filled buffer; numba does not check bounds)."""
    canary = np.int64(-0x5A5A5A5A5A5A5A5B)
    buf = np.full(5, canary, np.int64)
    xyz = np.full((3, 3), 7, np.int32)[1:1]
    fine_codes(xyz, np.zeros(3, np.int64), np.ones(3, np.int64), 5, buf[2:2])
    assert buf.tolist() == [canary] * 5
    fine_codes_float(xyz, np.ones(3), np.zeros(3), np.zeros(3), 1.0, 5, buf[2:2])
    assert buf.tolist() == [canary] * 5


def reader_box(x, lower, side, level, index):
    """A node's extent along one axis as a COPC reader computes it."""
    size = side / 2.0 ** level
    low = lower + index * size
    return low, low + size


@pytest.mark.parametrize("seed", range(4))
def test_fine_codes_float_cells_agree_with_readers(seed):
    """Cells are floor((x - lower) / fine size) away from boundaries, and
    inside every level's box as a reader computes it, everywhere."""
    rng = np.random.default_rng(seed)
    n = 400
    scales = rng.uniform(1e-4, 1e-2, 3)
    offsets = rng.uniform(-1e6, 1e6, 3)
    xyz = rng.integers(-10 ** 6, 10 ** 6, (n, 3)).astype(np.int32)
    real = xyz * scales + offsets
    lower = real.min(axis=0) - scales / 2
    side = float((real.max(axis=0) - lower).max()) * 1.1
    depth = 12
    out = np.empty(n, np.int64)
    fine_codes_float(xyz, scales, offsets, lower, side, depth, out)
    fine = side / 2.0 ** FINE
    for i in range(n):
        for a in range(3):
            cell = sum(((int(out[i]) >> (3 * b + a)) & 1) << b for b in range(FINE))
            t = (real[i, a] - lower[a]) / fine
            if abs(t - round(t)) > 1e-6:
                assert cell == int(np.floor(t))
            for level in range(1, depth + 1):
                low, high = reader_box(real[i, a], lower[a], side, level, cell >> (FINE - level))
                assert low <= real[i, a] <= high


def test_fine_codes_float_clamps_out_of_range_points():
    """Points below the lower corner or past the top cell clamp to the edge cells."""
    xyz = np.array([[-10, 0, 0], [0, 10 ** 9, 0], [5, 5, 5]], np.int32)
    out = np.empty(3, np.int64)
    fine_codes_float(xyz, np.ones(3), np.zeros(3), np.zeros(3), float(2 ** FINE), 0, out)
    top = 2 ** FINE - 1
    assert out.tolist() == [ref_interleave([0, 0, 0]), ref_interleave([0, top, 0]),
                            ref_interleave([5, 5, 5])]

"""kernels.lattice against numpy: cells, their numbering, trilinear interpolation."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from copc_builder.algorithms.kernels.distribute import int_bounds
from copc_builder.algorithms.kernels.lattice import (CORNERS, cell_differences, dequantize, int_lattice_bounds,
                                                     interpolate_in_cells, interpolate_ints, lattice_cells,
                                                     number_int_cells, quantize_xyz, rank_cells)
from copc_builder.algorithms.points.quantize import quantize

SETTINGS = settings(max_examples=40, deadline=None)
I64 = np.iinfo(np.int64)


def cells_of(real, steps):
    cells = np.empty((len(real), 3), np.int64)
    lo, hi = np.full(3, I64.max, np.int64), np.full(3, I64.min, np.int64)
    lattice_cells(real, steps, cells)
    int_bounds(cells, lo, hi)
    return cells, lo, hi


@SETTINGS
@given(st.integers(0, 2 ** 32 - 1), st.integers(1, 300), st.sampled_from([0.25, 1.0, 2.0, 64.0]))
def test_cells_are_floors_and_ranks_number_them(seed, n, step):
    rng = np.random.default_rng(seed)
    real = rng.uniform(-1e4, 1e4, (n, 3)) + rng.choice([0.0, 2.6e6], 3)
    steps = np.array([step, step, step * 4])
    cells, lo, hi = cells_of(real, steps)
    assert np.array_equal(cells, np.floor(real / steps).astype(np.int64))
    assert np.array_equal(lo, cells.min(axis=0)) and np.array_equal(hi, cells.max(axis=0))
    dims = hi - lo + 1
    if np.prod(dims.astype(float)) > 5e6:
        return
    rank = np.full(int(np.prod(dims)), -1, np.int64)
    origins = np.empty((n, 3), np.int64)
    cell_of = np.empty(n, np.int64)
    m = rank_cells(cells, lo, dims, rank, origins, cell_of)
    assert m == len(np.unique(cells, axis=0))
    assert np.array_equal(origins[:m][cell_of], cells)           # each point's number leads to its cell
    first_seen = [int(cell_of[i]) for i in sorted(np.unique(cells, axis=0, return_index=True)[1])]
    assert first_seen == list(range(m))                           # numbered in order of first appearance


def trilinear(point, origin, step, corner_values):
    t = point / step - origin
    out = np.zeros(3)
    for j, (dx, dy, dz) in enumerate(CORNERS):
        w = (t[0] if dx else 1 - t[0]) * (t[1] if dy else 1 - t[1]) * (t[2] if dz else 1 - t[2])
        out += w * corner_values[j]
    return out


@SETTINGS
@given(st.integers(0, 2 ** 32 - 1), st.integers(1, 200))
def test_interpolation_is_trilinear_and_skips_bad_cells(seed, n):
    rng = np.random.default_rng(seed)
    steps = np.array([2.0, 2.0, 8.0])
    real = rng.uniform(0, 20, (n, 3)) + np.array([2.6e6, 1.2e6, 400.0])
    cells = np.floor(real / steps).astype(np.int64)
    origins, cell_of = np.unique(cells, axis=0, return_inverse=True)
    cell_of = cell_of.reshape(-1)
    m = len(origins)
    nodes, inverse = np.unique((origins[:, None, :] + CORNERS[None]).reshape(-1, 3), axis=0, return_inverse=True)
    corners = np.ascontiguousarray(inverse.reshape(m, 8))
    values = rng.uniform(-1, 1, (len(nodes), 3)) + np.array([8.5, 47.3, 500.0])
    bad = rng.random(m) < 0.2
    out = np.full((n, 3), -7.0)
    exact = np.zeros(n, np.bool_)
    interpolate_in_cells(real, steps, cell_of.astype(np.int64), origins, corners, values, bad, False, out, exact)
    assert np.array_equal(exact, bad[cell_of])
    assert np.all(out[exact] == -7.0)                   # points of bad cells are left to PROJ
    for i in np.flatnonzero(~exact):
        c = cell_of[i]
        want = trilinear(real[i], origins[c], steps, values[corners[c]])
        assert np.allclose(out[i], want, rtol=0, atol=1e-9)


def test_interpolation_reproduces_an_affine_map_and_the_corners():
    """Trilinear interpolation is exact for affine maps, and at the corners."""
    steps = np.array([4.0, 4.0, 16.0])
    matrix = np.array([[0.9, 0.1, 0.001], [-0.1, 0.9, 0.002], [0.0, 0.0, 1.0]])
    shift = np.array([2e6, 1e6, 50.0])
    origins = np.array([[10, 20, 1], [11, 20, 1]], np.int64)
    nodes, inverse = np.unique((origins[:, None, :] + CORNERS[None]).reshape(-1, 3), axis=0, return_inverse=True)
    corners = np.ascontiguousarray(inverse.reshape(2, 8))
    values = (nodes * steps) @ matrix.T + shift
    rng = np.random.default_rng(1)
    real = np.concatenate([(origins[0] + rng.random((50, 3))) * steps, nodes * steps])
    real = real[np.all(np.floor(real / steps).astype(np.int64)[:, 1:] == origins[0, 1:], axis=1)]
    cell_of = (np.floor(real[:, 0] / steps[0]).astype(np.int64) - 10).clip(0, 1)
    out = np.empty_like(real)
    interpolate_in_cells(real, steps, cell_of, origins, corners, values, np.zeros(2, np.bool_), False, out,
                         np.zeros(len(real), np.bool_))
    assert np.allclose(out, real @ matrix.T + shift, rtol=0, atol=1e-8)
    interpolate_in_cells(real, steps, cell_of, origins, corners, values, np.zeros(2, np.bool_), True, out,
                         np.zeros(len(real), np.bool_))
    assert np.allclose(out[:, :2], (real @ matrix.T + shift)[:, :2], rtol=0, atol=1e-8)
    assert np.array_equal(out[:, 2], real[:, 2])            # keep_z: the point's own height


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2 ** 32 - 1), st.integers(0, 3000))
def test_quantize_xyz_is_numpys_quantize_and_counts_what_does_not_fit(seed, n):
    """Integer coordinates through dequantize and back at another frame (the
    converter's _reframe), halfway values and NaN among them: quantize_xyz
    gives numpy's rint((real - offset) / scale) wherever it fits an int32 and
    counts the values that do not."""
    rng = np.random.default_rng(seed)
    xyz = rng.integers(-2 ** 31, 2 ** 31 - 1, (n, 3), endpoint=True).astype(np.int32)
    real = np.empty((n, 3), np.float64)
    dequantize(xyz, np.array([0.01, 0.001, 0.25]), np.array([500.0, -20.0, 3.0]), real)
    if n:
        real[rng.integers(0, n, 3), rng.integers(0, 3, 3)] = [0.005, -0.015, np.nan]   # halfway at scale 0.01, NaN
    scales, offsets = np.array([0.01, 0.01, 0.5]), np.array([400.0, 0.0, -7.0])
    out = np.full((n, 3), 77, np.int32)
    bad = quantize_xyz(real, scales, offsets, out)
    expected_bad = 0
    for k in range(3):
        q = np.rint((real[:, k] - offsets[k]) / scales[k])
        fits = (q >= -2 ** 31) & (q <= 2 ** 31 - 1)
        expected_bad += int(np.count_nonzero(~fits))
        assert np.array_equal(out[fits, k], q[fits].astype(np.int32))
        if fits.all() and n:
            assert np.array_equal(out[:, k], quantize("in.las", "XYZ"[k], real[:, k], scales[k], offsets[k]))
    assert bad == expected_bad


@SETTINGS
@given(st.integers(0, 2 ** 32 - 1), st.integers(1, 300), st.booleans())
def test_integer_kernels_give_the_float_chains_values(seed, n, keep_z):
    """int_lattice_bounds, number_int_cells, cell_differences and
    interpolate_ints: bit for bit what dequantize, lattice_cells,
    interpolate_in_cells and quantize_xyz give one after the other."""
    rng = np.random.default_rng(seed)
    scales, offsets = np.array([0.01, 0.01, 0.001]), np.array([2.6e6, 1.2e6, 400.0])
    xyz = rng.integers(-5000, 5000, (n, 3)).astype(np.int32)
    steps = np.array([2.0, 4.0, 8.0])
    real = np.empty((n, 3))
    dequantize(xyz, scales, offsets, real)
    cells, lo, hi = cells_of(real, steps)
    got_lo, got_hi = np.empty(3, np.int64), np.empty(3, np.int64)
    int_lattice_bounds(xyz, scales, offsets, steps, got_lo, got_hi)
    assert np.array_equal(got_lo, lo) and np.array_equal(got_hi, hi)
    dims = hi - lo + 1
    rank = np.zeros(int(np.prod(dims)), np.int64)
    origins = np.empty((n, 3), np.int64)
    m = number_int_cells(xyz, scales, offsets, steps, lo, dims, rank, origins)
    origins = origins[:m]
    codes = ((origins[:, 2] - lo[2]) * dims[1] + origins[:, 1] - lo[1]) * dims[0] + origins[:, 0] - lo[0]
    assert m == len(np.unique(cells, axis=0)) and np.all(np.diff(codes) > 0)   # each cell once, in box order
    assert np.array_equal(rank[codes], np.arange(1, m + 1))
    nodes, inverse = np.unique((origins[:, None, :] + CORNERS[None]).reshape(-1, 3), axis=0, return_inverse=True)
    corners = np.ascontiguousarray(inverse.reshape(m, 8))
    values = rng.uniform(-1, 1, (len(nodes), 3)) + np.array([8.5, 47.3, 500.0])
    bad = rng.random(m) < 0.2
    out_scales, out_offsets = np.array([1e-7, 1e-7, 0.001]), np.array([8.5, 47.3, 500.0])
    cell_of = np.array([np.flatnonzero((origins == c).all(axis=1))[0] for c in cells], np.int64)
    want_real, want_exact = np.zeros((n, 3)), np.zeros(n, np.bool_)
    interpolate_in_cells(real, steps, cell_of, origins, corners, values, bad, keep_z, want_real, want_exact)
    want = np.empty((n, 3), np.int32)
    quantize_xyz(want_real, out_scales, out_offsets, want)
    got, exact = np.full((n, 3), 7, np.int32), np.zeros(n, np.bool_)
    overflow = interpolate_ints(xyz, scales, offsets, steps, lo, dims, rank, cell_differences(corners, values),
                                bad, keep_z, out_scales, out_offsets, got, exact)
    assert overflow == 0
    assert np.array_equal(exact, want_exact)
    assert np.array_equal(got[~exact], want[~exact]) and np.all(got[exact] == 0)
    # a frame the values do not fit: counted, as quantize_xyz counts them
    tiny = np.array([1e-12, 1e-12, 1e-12])
    assert interpolate_ints(xyz, scales, offsets, steps, lo, dims, rank, cell_differences(corners, values),
                            bad, keep_z, tiny, out_offsets * 0, got, exact) == \
        quantize_xyz(want_real[~want_exact], tiny, out_offsets * 0, np.empty((int((~want_exact).sum()), 3), np.int32))

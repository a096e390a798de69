"""kernels/tiling.py against plain numpy references."""
import numpy as np

from copc_builder.algorithms.kernels.distribute import gather_points
from copc_builder.algorithms.kernels.tiling import cell_order


def test_cell_order_is_a_stable_sort_by_cell():
    rng = np.random.default_rng(3)
    xyz = rng.integers(-5000, 5000, (10_000, 3)).astype(np.int32)
    cx, rx, cy, ry = 17, 700, -3, 450
    kx = (xyz[:, 0].astype(np.int64) - cx) // rx
    ky = (xyz[:, 1].astype(np.int64) - cy) // ry
    kx0, ky0 = int(kx.min()), int(ky.min())
    nx, ny = int(kx.max()) - kx0 + 1, int(ky.max()) - ky0 + 1
    order, counts = cell_order(xyz, cx, rx, cy, ry, kx0, ky0, nx, ny)
    dense = (kx - kx0) * ny + (ky - ky0)
    assert np.array_equal(order, np.argsort(dense, kind="stable"))
    assert np.array_equal(counts, np.bincount(dense, minlength=nx * ny))


def test_gather_points_equals_numpy_take():
    """The rows the tiled build and the distribution gather (kernels.distribute)."""
    rng = np.random.default_rng(4)
    n = 5000
    xyz = rng.integers(-1e6, 1e6, (n, 3)).astype(np.int32)
    gps = rng.random(n)
    rest = rng.integers(0, 256, (n, 17)).astype(np.uint8)
    index = rng.permutation(n)[:3000]
    out = (np.empty((3000, 3), np.int32), np.empty(3000), np.empty((3000, 17), np.uint8))
    gather_points(xyz, gps, rest, index, *out)
    assert np.array_equal(out[0], xyz[index]) and np.array_equal(out[1], gps[index])
    assert np.array_equal(out[2], rest[index])

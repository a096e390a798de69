"""kernels.distribute against numpy: bucket_order (stable counting sort) and int_bounds."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from copc_builder.algorithms.kernels.distribute import bucket_order, int_bounds

SETTINGS = settings(max_examples=50, deadline=None)
INT32_MIN = -(2 ** 31)
INT32_MAX = 2 ** 31 - 1
INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min


@SETTINGS
@given(st.integers(0, 2 ** 32 - 1), st.integers(0, 400), st.integers(1, 4), st.integers(0, 17),
       st.booleans())
def test_bucket_order_is_stable_argsort(seed, n, levels, depth_above, few_buckets):
    """shift/mask as split_into_buckets uses them: cells ``levels`` below a
    parent ``depth_above`` levels down."""
    rng = np.random.default_rng(seed)
    depth = min(depth_above + levels, 21)
    shift = 3 * (21 - depth)
    mask = (1 << (3 * levels)) - 1
    codes = rng.integers(0, 2 ** 63 - 1, n, dtype=np.int64, endpoint=True)
    if few_buckets and n:   # many points per bucket: ties in the sort
        codes = rng.choice(codes[: max(n // 20, 1)], n)
    order, counts = bucket_order(codes, shift, mask)
    bucket = (codes >> shift) & mask
    assert order.tolist() == np.argsort(bucket, kind="stable").tolist()
    assert counts.tolist() == np.bincount(bucket, minlength=mask + 1).tolist()


def test_bucket_order_empty_and_single():
    order, counts = bucket_order(np.zeros(0, np.int64), 0, 7)
    assert order.shape == (0,) and counts.tolist() == [0] * 8
    order, counts = bucket_order(np.array([6 << 9], np.int64), 9, 7)
    assert order.tolist() == [0] and counts.tolist() == [0, 0, 0, 0, 0, 0, 1, 0]


@SETTINGS
@given(st.integers(0, 2 ** 32 - 1), st.integers(0, 200), st.booleans())
def test_int_bounds_folds_like_numpy(seed, n, extremes):
    rng = np.random.default_rng(seed)
    xyz = rng.integers(-1000, 1000, (n, 3)).astype(np.int32)
    if extremes and n:
        xyz[rng.integers(0, n, 3), rng.integers(0, 3, 3)] = rng.choice([INT32_MIN, INT32_MAX], 3)
    lo0 = rng.integers(-500, 500, 3)
    hi0 = lo0 + rng.integers(0, 100, 3)
    lo, hi = lo0.copy(), hi0.copy()
    int_bounds(xyz, lo, hi)
    if n:
        assert lo.tolist() == np.minimum(lo0, xyz.min(axis=0)).tolist()
        assert hi.tolist() == np.maximum(hi0, xyz.max(axis=0)).tolist()
    else:
        assert lo.tolist() == lo0.tolist() and hi.tolist() == hi0.tolist()


def test_int_bounds_from_empty_start():
    """As the builder calls it: lo/hi start at the int64 extremes."""
    xyz = np.array([[INT32_MAX, INT32_MIN, 0], [INT32_MIN, INT32_MAX, 0]], np.int32)
    lo = np.full(3, INT64_MAX, np.int64)
    hi = np.full(3, INT64_MIN, np.int64)
    int_bounds(xyz, lo, hi)
    assert lo.tolist() == [INT32_MIN, INT32_MIN, 0]
    assert hi.tolist() == [INT32_MAX, INT32_MAX, 0]
    lo = np.full(3, INT64_MAX, np.int64)
    hi = np.full(3, INT64_MIN, np.int64)
    int_bounds(np.zeros((0, 3), np.int32), lo, hi)
    assert lo.tolist() == [INT64_MAX] * 3 and hi.tolist() == [INT64_MIN] * 3


@SETTINGS
@given(st.integers(0, 2 ** 32 - 1), st.integers(0, 3000), st.sampled_from([0, 1, 10, 18]),
       st.sampled_from(["store", "int32 order", "strided"]))
def test_take_points_is_numpy_take(seed, n, rest_size, kind):
    """The buckets' gather (distribution.take_points): numpy's take, bit for
    bit (NaN GPS too), by the kernel on the store's columns and by numpy on
    anything else."""
    from copc_builder.algorithms.build.distribution import take_points
    from copc_builder.algorithms.points.columns import Columns

    rng = np.random.default_rng(seed)
    m = 2 * n + 1 if kind == "strided" else n
    cols = Columns(rng.integers(INT32_MIN, INT32_MAX, (m, 3), endpoint=True).astype(np.int32),
                   rng.uniform(-1e9, 1e9, m), rng.integers(0, 256, (m, rest_size)).astype(np.uint8))
    cols.gps[::7] = np.nan
    if kind == "strided":   # every other row: views that are not C-ordered
        cols = Columns(cols.xyz[::2], cols.gps[::2], cols.rest[::2])
    order = rng.integers(0, max(n, 1), n).astype(np.int32 if kind == "int32 order" else np.int64)
    got, want = take_points(cols, order), cols.take(order)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape and g.tobytes() == w.tobytes()

"""kernels.shuffle against numpy: byte planes, wrapping deltas, zigzag."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from copc_builder.algorithms.kernels.shuffle import delta_shuffle, shuffle, undelta_unshuffle, unshuffle

SETTINGS = settings(max_examples=50, deadline=None)
UNSIGNED = [np.uint8, np.uint16, np.uint32, np.uint64]


def ref_planes(values: np.ndarray) -> np.ndarray:
    """(n, m) unsigned -> (m * itemsize, n): byte b of column c on plane c * itemsize + b."""
    n, m = values.shape
    w = values.itemsize
    le = values.astype(values.dtype.newbyteorder("<"))
    return np.ascontiguousarray(le.view(np.uint8).reshape(n, m, w).transpose(1, 2, 0).reshape(m * w, n))


def ref_delta(values: np.ndarray, zigzag: bool) -> np.ndarray:
    """Differences to the previous row (first row: to 0), wrapping; zigzag maps
    d to 2d for d >= 0 and to -2d - 1 for d < 0 (d read as signed)."""
    bits = 8 * values.itemsize
    mod = 1 << bits
    out = np.zeros(values.shape, values.dtype)
    for c in range(values.shape[1]):
        prev = 0
        for i in range(values.shape[0]):
            x = int(values[i, c])
            d = (x - prev) % mod
            prev = x
            if zigzag:
                signed = d - mod if d >= mod // 2 else d
                d = (2 * signed) % mod if signed >= 0 else (-2 * signed - 1) % mod
            out[i, c] = d
    return out


@SETTINGS
@given(st.sampled_from(UNSIGNED), st.integers(0, 60), st.integers(1, 4), st.booleans(),
       st.integers(0, 2 ** 32 - 1))
def test_delta_shuffle_matches_reference_and_inverts(dtype, n, m, zigzag, seed):
    rng = np.random.default_rng(seed)
    info = np.iinfo(dtype)
    values = rng.integers(0, int(info.max), (n, m), dtype=dtype, endpoint=True)
    if n > 2:
        values[1] = info.max
        values[2] = 0
    planes = np.full((m * values.itemsize, n), 0xEE, np.uint8)
    delta_shuffle(values, planes, zigzag)
    assert np.array_equal(planes, ref_planes(ref_delta(values, zigzag)))
    back = np.zeros_like(values)
    undelta_unshuffle(planes, back, zigzag)
    assert np.array_equal(back, values)


def test_zigzag_small_steps_have_small_codes():
    values = np.array([[5], [4], [6], [6], [3]], np.uint32)     # steps 5, -1, +2, 0, -3
    planes = np.zeros((4, 5), np.uint8)
    delta_shuffle(values, planes, True)
    assert planes[0].tolist() == [10, 1, 4, 0, 5]
    assert not planes[1:].any()


@SETTINGS
@given(st.integers(0, 60), st.integers(0, 20), st.integers(0, 2 ** 32 - 1))
def test_shuffle_is_a_transpose(n, w, seed):
    rows = np.random.default_rng(seed).integers(0, 256, (n, w)).astype(np.uint8)
    planes = np.zeros((w, n), np.uint8)
    shuffle(rows, planes)
    assert np.array_equal(planes, rows.T)
    back = np.zeros_like(rows)
    unshuffle(planes, back)
    assert np.array_equal(back, rows)

"""store.codec: compressed page columns round-trip bit for bit, for every
dtype, shape and value pattern, with and without the delta transform."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copc_builder.algorithms.store import codec

SETTINGS = settings(max_examples=50, deadline=None)
DTYPES = [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64,
          np.float16, np.float32, np.float64, np.bool_]


def sample(rng, dtype, shape, pattern):
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    if pattern == "bytes":          # any bit pattern (NaNs with payloads, extremes)
        arr = np.frombuffer(rng.integers(0, 256, nbytes, dtype=np.uint8).tobytes(), dtype).reshape(shape)
        return arr.copy() if dtype != np.bool_ else (arr.view(np.uint8) & 1).astype(np.bool_)
    if pattern == "ordered":        # what the store holds: nearby points, small steps
        steps = rng.integers(-3, 4, shape)
        arr = np.cumsum(steps, axis=0)
        if dtype.kind == "u":
            arr = arr % (np.iinfo(dtype).max + 1 if dtype.itemsize < 8 else 2 ** 63)
        return arr.astype(dtype)
    if dtype.kind in "iu":          # extremes
        info = np.iinfo(dtype)
        return rng.choice(np.array([info.min, info.max, 0, 1], dtype), shape)
    if dtype.kind == "f":
        return rng.choice(np.array([np.nan, -np.inf, np.inf, -0.0, 0.0, np.finfo(dtype).max,
                                    np.finfo(dtype).tiny], dtype), shape)
    return rng.integers(0, 2, shape).astype(dtype)


@SETTINGS
@given(st.sampled_from(DTYPES), st.sampled_from([(), (1,), (3,), (10,)]), st.integers(0, 300),
       st.sampled_from(["bytes", "ordered", "extremes"]), st.booleans(), st.integers(0, 2 ** 32 - 1))
def test_codec_round_trips(dtype, tail, n, pattern, delta, seed):
    rng = np.random.default_rng(seed)
    arr = sample(rng, dtype, (n,) + tail, pattern)
    blob = codec.compress(arr, delta)
    assert isinstance(blob, bytes)
    out = np.full_like(arr, 1)
    codec.decompress_into(blob, out, delta)
    assert out.tobytes() == arr.tobytes()


@pytest.mark.parametrize("delta", [True, False])
@pytest.mark.parametrize("dtype,tail", [(np.int32, (3,)), (np.float64, ()), (np.uint8, (10,)),
                                        (np.uint8, (0,))])
def test_codec_empty_columns(dtype, tail, delta):
    arr = np.empty((0,) + tail, dtype)
    out = np.empty_like(arr)
    codec.decompress_into(codec.compress(arr, delta), out, delta)
    assert out.shape == arr.shape


def test_codec_store_columns_and_views():
    """The store's three columns, given as slices of bigger pages."""
    rng = np.random.default_rng(0)
    page_xyz = rng.integers(-2 ** 31, 2 ** 31 - 1, (64, 3), endpoint=True).astype(np.int32)
    page_gps = np.cumsum(rng.uniform(0, 1e-3, 64)) + 3e8
    page_rest = rng.integers(0, 256, (64, 18)).astype(np.uint8)
    for col, delta in ((page_xyz[:40], True), (page_gps[:40], True), (page_rest[:40], False),
                       (page_xyz[::2], True)):        # a strided view too
        out = np.empty_like(col)
        codec.decompress_into(codec.compress(col, delta), out, delta)
        assert np.array_equal(out.view(np.uint8), np.ascontiguousarray(col).view(np.uint8))


def test_codec_compresses_ordered_columns():
    """Neighbouring points: the delta planes must actually compress."""
    rng = np.random.default_rng(1)
    xyz = (np.cumsum(rng.integers(-50, 51, (4096, 3)), axis=0) + 10 ** 6).astype(np.int32)
    assert len(codec.compress(xyz, True)) < xyz.nbytes / 2

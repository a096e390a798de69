"""kernels.records against numpy references: field copies, the LAS 1.0-1.3
bit fields decoded independently from the LAS spec, LAS 1.4 record
assembly, header statistics."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copc_builder.algorithms.kernels.records import assemble_records, record_stats, split_records

SETTINGS = settings(max_examples=50, deadline=None)
INT32_MIN = -(2 ** 31)
INT32_MAX = 2 ** 31 - 1


# -- the legacy bit fields of split_records -------------------------------------------

def legacy_fields(src, rest):
    """split_records with only the point formats 0-5 conversion."""
    n = len(src)
    split_records(src, np.empty((n, 3), np.int32), np.empty(n, np.uint64), rest, -1,
                  np.empty((0, 3), np.int64), True)


def ref_legacy(byte14: int, byte15: int, byte16: int):
    """LAS 1.0-1.3 point bytes 14-16 -> LAS 1.4 format-6 bytes, per the specs.

    1.0-1.3: byte 14 = return number (bits 0-2), number of returns (3-5), scan
    direction flag (6), edge of flight line (7); byte 15 = classification
    (0-4), synthetic (5), key-point (6), withheld (7); byte 16 = scan angle
    rank, a signed char in degrees.
    1.4 format 6: return number (bits 0-3) | number of returns (4-7);
    classification flags synthetic (0), key-point (1), withheld (2), overlap
    (3), scanner channel (4-5), scan direction (6), edge (7); classification
    byte; scan angle int16 in 0.006 degree units.
    """
    return_number = byte14 & 0b111
    number_of_returns = (byte14 >> 3) & 0b111
    scan_direction = (byte14 >> 6) & 1
    edge = (byte14 >> 7) & 1
    classification = byte15 & 0b11111
    synthetic = (byte15 >> 5) & 1
    key_point = (byte15 >> 6) & 1
    withheld = (byte15 >> 7) & 1
    degrees = byte16 - 256 if byte16 >= 128 else byte16
    angle = round(degrees / 0.006)
    returns = return_number | (number_of_returns << 4)
    flags = synthetic | (key_point << 1) | (withheld << 2) | (scan_direction << 6) | (edge << 7)
    lo, hi = int(angle).to_bytes(2, "little", signed=True)
    return returns, flags, classification, lo, hi


def test_legacy_fields_every_byte_value():
    values = np.arange(256)
    rng = np.random.default_rng(0)
    # every value of each byte, with the other two bytes shuffled
    src = rng.integers(0, 256, (768, 20)).astype(np.uint8)
    src[:256, 14] = values
    src[256:512, 15] = values
    src[512:, 16] = values
    rest = rng.integers(0, 256, (768, 12)).astype(np.uint8)
    before = rest.copy()
    legacy_fields(src, rest)
    for i in range(len(src)):
        r, f, c, lo, hi = ref_legacy(int(src[i, 14]), int(src[i, 15]), int(src[i, 16]))
        assert rest[i, [2, 3, 4, 6, 7]].tolist() == [r, f, c, lo, hi], (i, src[i, 14:17])
    untouched = [0, 1, 5, 8, 9, 10, 11]
    assert np.array_equal(rest[:, untouched], before[:, untouched])


def test_legacy_fields_scan_angle_extremes():
    src = np.zeros((5, 20), np.uint8)
    src[:, 16] = np.array([-128, -90, 0, 90, 127], np.int8).view(np.uint8)
    rest = np.zeros((5, 10), np.uint8)
    legacy_fields(src, rest)
    angles = rest[:, 6:8].copy().view("<i2").ravel()
    assert angles.tolist() == [-21333, -15000, 0, 15000, 21167]


def test_legacy_fields_empty():
    """No points: nothing written around the empty outputs (slices of
    canary-filled buffers; numba does not check bounds)."""
    rest = np.full((3, 10), 0xA5, np.uint8)
    xyz = np.full((3, 3), 0x5A5A5A5A, np.int32)
    gps = np.full(3, 0xDEADBEEF, np.uint64)
    before = rest.copy(), xyz.copy(), gps.copy()
    split_records(np.full((3, 20), 0x3C, np.uint8)[1:1], xyz[1:1], gps[1:1], rest[1:1], -1,
                  np.empty((0, 3), np.int64), True)
    for buf, was in zip((rest, xyz, gps), before):
        assert np.array_equal(buf, was)


# -- the byte plans of split_records -------------------------------------------------

def ref_split(src, gps_at, plan, rest_size):
    """split_records without the legacy bit fields, in numpy."""
    n = len(src)
    xyz = src[:, :12].copy().view("<i4").reshape(n, 3)
    gps = src[:, gps_at:gps_at + 8].copy().view("<u8").reshape(n) if gps_at >= 0 else None
    rest = np.zeros((n, rest_size), np.uint8)
    for s, d, size in plan:
        rest[:, d:d + size] = src[:, s:s + size]
    return xyz, gps, rest


@SETTINGS
@given(st.integers(0, 40), st.sampled_from([0, 6, 8, 1, 3, 9, 17]), st.booleans(), st.booleans(),
       st.integers(0, 2 ** 32 - 1))
def test_split_records_copies_every_plan(n, tail, core_first, with_gps, seed):
    """The plans the converter makes: formats 6-10 start with the 10 core bytes
    (12 -> 0, its constant-size copy), then RGB/NIR/extra bytes of any size;
    a plan without that first entry takes the general copy only."""
    rng = np.random.default_rng(seed)
    record = 30 + tail
    src = rng.integers(0, 256, (n, record)).astype(np.uint8)
    plan = [(12, 0, 10)] if core_first else [(12, 0, 2), (17, 5, 1), (18, 8, 2)]
    pos = 10
    while pos < 10 + tail:   # the tail in pieces of 1-9 bytes, as RGB, NIR and extra bytes come
        size = int(rng.integers(1, 10))
        size = min(size, 10 + tail - pos)
        plan.append((30 + pos - 10, pos, size))
        pos += size
    gps_at = 22 if with_gps else -1
    plan = np.array(plan, np.int64).reshape(-1, 3)
    xyz = np.full((n, 3), 0x5A5A5A5A, np.int32)
    gps = np.full(n, 0xDEADBEEF, np.uint64)
    rest = np.zeros((n, 10 + tail), np.uint8)
    split_records(src, xyz, gps, rest, gps_at, plan, False)
    want_xyz, want_gps, want_rest = ref_split(src, gps_at, plan, 10 + tail)
    assert np.array_equal(xyz, want_xyz)
    assert np.array_equal(gps, want_gps if want_gps is not None else np.full(n, 0xDEADBEEF, np.uint64))
    assert np.array_equal(rest, want_rest)


# -- assemble_records ----------------------------------------------------------------

def ref_records(xyz, gps, rest, index):
    tail = rest.shape[1] - 10
    dtype = np.dtype([("xyz", "<i4", 3), ("core", "u1", 10), ("gps", "<f8"), ("tail", "u1", (tail,))])
    rec = np.zeros(len(index), dtype)
    rec["xyz"] = xyz[index]
    rec["core"] = rest[index, :10]
    rec["gps"] = gps[index]
    rec["tail"] = rest[index, 10:]
    return rec.view(np.uint8).reshape(len(index), dtype.itemsize)


@SETTINGS
@given(st.integers(0, 60), st.sampled_from([10, 16, 18, 19, 18 + 12]), st.integers(0, 80),
       st.integers(0, 2 ** 32 - 1))
def test_assemble_records_matches_numpy(n, rest_size, n_index, seed):
    rng = np.random.default_rng(seed)
    xyz = rng.integers(INT32_MIN, INT32_MAX, (n, 3), endpoint=True).astype(np.int32)
    gps = rng.choice(np.array([0.0, -0.0, np.nan, np.inf, 1.5e9, -3.25]), n) if n else np.zeros(0)
    rest = rng.integers(0, 256, (n, rest_size)).astype(np.uint8)
    index = rng.integers(0, n, n_index).astype(np.int64) if n else np.zeros(0, np.int64)
    out = np.full((len(index), 30 + rest_size - 10), 0xAB, np.uint8)
    assemble_records(xyz, gps, rest, index, out)
    assert np.array_equal(out, ref_records(xyz, gps, rest, index))


@pytest.mark.parametrize("rest_size", [10, 19])
def test_assemble_records_over_several_blocks(rest_size):
    """An index longer than a few ASSEMBLE_BLOCKs, with a partial last block,
    random and in order: the same records as numpy's."""
    from copc_builder.algorithms.kernels.records import ASSEMBLE_BLOCK

    rng = np.random.default_rng(7)
    n = 5000
    xyz = rng.integers(INT32_MIN, INT32_MAX, (n, 3), endpoint=True).astype(np.int32)
    gps = rng.random(n) * 1e9
    rest = rng.integers(0, 256, (n, rest_size)).astype(np.uint8)
    for index in (rng.integers(0, n, 3 * ASSEMBLE_BLOCK + 17), np.arange(n)):
        out = np.full((len(index), 30 + rest_size - 10), 0xAB, np.uint8)
        assemble_records(xyz, gps, rest, index.astype(np.int64), out)
        assert np.array_equal(out, ref_records(xyz, gps, rest, index))


def test_assemble_records_layout_by_hand():
    """One format-7 record, fields at their LAS 1.4 offsets."""
    xyz = np.array([[1, -2, INT32_MAX]], np.int32)
    gps = np.array([123456.5])
    rest = np.arange(16, dtype=np.uint8)[None, :]
    out = np.zeros((1, 36), np.uint8)
    assemble_records(xyz, gps, rest, np.array([0], np.int64), out)
    rec = out[0].tobytes()
    assert np.frombuffer(rec[0:12], "<i4").tolist() == [1, -2, INT32_MAX]
    assert list(rec[12:22]) == list(range(10))
    assert np.frombuffer(rec[22:30], "<f8")[0] == 123456.5
    assert list(rec[30:36]) == list(range(10, 16))


# -- record_stats --------------------------------------------------------------------

@SETTINGS
@given(st.integers(0, 60), st.integers(0, 300), st.integers(0, 2 ** 32 - 1), st.booleans())
def test_record_stats_matches_numpy(n, n_index, seed, with_nan):
    """Statistics read back from assembled records (more rows than the
    kernel's 64 parts, so several parts hold points)."""
    rng = np.random.default_rng(seed)
    xyz = rng.choice(np.array([INT32_MIN, -5, 0, 7, INT32_MAX]), (n, 3)).astype(np.int32)
    xyz[n // 2:] = rng.integers(-1000, 1000, (n - n // 2, 3))
    gps = rng.uniform(-1e9, 1e9, n)
    if with_nan and n:
        gps[rng.integers(0, n, max(n // 3, 1))] = np.nan
    rest = rng.integers(0, 256, (n, 10)).astype(np.uint8)
    index = rng.integers(0, n, n_index).astype(np.int64) if n else np.zeros(0, np.int64)
    # running values from an earlier call
    mins0 = rng.integers(-100, 100, 3)
    maxs0 = mins0 + rng.integers(0, 50, 3)
    by_return0 = rng.integers(0, 10, 15)
    gps0 = np.array([-2.0, 5.0])
    mins, maxs, by_return, gps_range = mins0.copy(), maxs0.copy(), by_return0.copy(), gps0.copy()
    records = np.empty((len(index), 30), np.uint8)
    assemble_records(xyz, gps, rest, index, records)
    record_stats(records, mins, maxs, by_return, gps_range)

    sel = xyz[index].astype(np.int64)
    assert mins.tolist() == np.minimum(mins0, sel.min(axis=0) if len(sel) else mins0).tolist()
    assert maxs.tolist() == np.maximum(maxs0, sel.max(axis=0) if len(sel) else maxs0).tolist()
    returns = rest[index, 2] & 15
    # return number 0 (not valid) counts as 1, so the counts add up to the points (issue 12)
    expect_returns = by_return0 + np.bincount(np.maximum(returns, 1), minlength=16)[1:]
    assert by_return.tolist() == expect_returns.tolist()
    g = gps[index]
    g = g[~np.isnan(g)]
    assert gps_range.tolist() == [min(gps0[0], g.min(initial=np.inf)), max(gps0[1], g.max(initial=-np.inf))]


# -- split_records -------------------------------------------------------------------

@SETTINGS
@given(st.integers(0, 40),
       st.sampled_from([(20, -1, True), (28, 20, True), (34, 20, True), (30, 22, False), (36, 22, False)]),
       st.integers(0, 2 ** 32 - 1))
def test_split_records_matches_numpy(n, layout, seed):
    """Records -> xyz (bytes 0-11), GPS bits (8 bytes at gps_at), rest bytes by
    plan, and the legacy bit fields for point formats 0-5."""
    record_size, gps_at, legacy = layout     # formats 0, 1, 3, 6, 7
    rng = np.random.default_rng(seed)
    src = rng.integers(0, 256, (n, record_size)).astype(np.uint8)
    if n:
        src[0, :12] = np.array([-2 ** 31, 2 ** 31 - 1, -1], "<i4").view(np.uint8)
    rest_size = 16
    plan = np.array([(12, 0, 2), (17, 5, 1), (18, 8, 2), (record_size - 6, 10, 6)] if legacy
                    else [(12, 0, 10), (record_size - 6, 10, 6)], np.int64)
    xyz = np.full((n, 3), 7, np.int32)
    gps = np.full(n, 0.25)
    rest = rng.integers(0, 256, (n, rest_size)).astype(np.uint8)
    expect_rest = rest.copy()
    split_records(src, xyz, gps.view(np.uint64), rest, gps_at, plan, legacy)

    assert np.array_equal(xyz, src[:, :12].copy().view("<i4").reshape(n, 3))
    if gps_at >= 0:
        assert gps.tobytes() == src[:, gps_at:gps_at + 8].tobytes()
    else:
        assert np.all(gps == 0.25)
    for s, d, size in plan:
        expect_rest[:, d:d + size] = src[:, s:s + size]
    if legacy:
        for i in range(n):
            expect_rest[i, [2, 3, 4, 6, 7]] = ref_legacy(int(src[i, 14]), int(src[i, 15]), int(src[i, 16]))
    assert np.array_equal(rest, expect_rest)

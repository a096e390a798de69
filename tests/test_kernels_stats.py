"""The statistics kernels against plain numpy / Python integers, and the
statistics extension's independence from node order and part boundaries."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from copc_builder.algorithms.format.qgis_statistics import INT32_MAX, AttributeStatistics, QgisStatistics
from copc_builder.algorithms.kernels import attribute_stats as ks
from copc_builder.algorithms.writer.output_header import HeaderTemplate
from copc_builder.algorithms.points.point_layout import ExtraDim, PointLayout
from copc_builder.algorithms.writer.qgis_stats_extension import QgisStatisticsExtension, qgis_attributes


def random_records(n: int, width: int = 48, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, width), dtype=np.uint8)


def field(records: np.ndarray, at: int, dtype: str) -> np.ndarray:
    size = np.dtype(dtype).itemsize
    return np.ascontiguousarray(records[:, at:at + size]).view(dtype).ravel()


def test_histograms_equal_bincount():
    rec = random_records(20_000)
    spec = np.array([[3, ks.READ_U8], [7, ks.READ_I8], [8, ks.READ_U16], [10, ks.READ_I16]], np.int64)
    hist = np.zeros((len(spec), ks.HIST_SIZE), np.int64)
    ks.fold_histograms(rec[:7000], spec, hist)       # two calls add up, blocks cut anywhere
    ks.fold_histograms(rec[7000:], spec, hist)
    expected = [rec[:, 3], field(rec, 7, "i1").astype(np.int64) + 128, field(rec, 8, "<u2"),
                field(rec, 10, "<i2").astype(np.int64) + 32768]
    for row, values in zip(hist, expected):
        assert np.array_equal(row, np.bincount(values, minlength=ks.HIST_SIZE))


def test_bit_fields_from_the_byte_histogram():
    """ReturnNumber, NumberOfReturns and the flag bits come from their byte's counts."""
    hd = header(6)
    rec = random_records(9000, hd.layout.record_size, seed=4)
    ext = QgisStatisticsExtension(hd)
    ext.node_records(1, 0, rec)
    stats = ext.statistics().attributes
    for name, at, shift, mask in [("ReturnNumber", 14, 0, 15), ("NumberOfReturns", 14, 4, 15),
                                  ("ScannerChannel", 15, 4, 3), ("Overlap", 15, 3, 1), ("EdgeOfFlightLine", 15, 7, 1)]:
        values = (rec[:, at] >> shift) & mask
        keys, counts = np.unique(values, return_counts=True)
        assert stats[name].class_count == {int(k): int(c) for k, c in zip(keys, counts)}
        assert (stats[name].minimum, stats[name].maximum) == (values.min(), values.max())
        assert stats[name].mean == pytest.approx(values.mean(), rel=1e-12)


def test_wide_equals_python_integers():
    rec = random_records(30_000, seed=1)
    rec[0, 0:4] = [0, 0, 0, 0x80]          # INT32_MIN: the square needs all 64 bits
    rec[1, 4:8] = [0xFF] * 4               # UINT32_MAX
    spec = np.array([[0, ks.READ_I32], [4, ks.READ_U32]], np.int64)
    wide = ks.new_wide(2)
    ks.fold_wide(rec, spec, wide)
    for row, values in zip(wide.tolist(), [field(rec, 0, "<i4"), field(rec, 4, "<u4")]):
        ints = [int(v) for v in values]
        lo, hi, total, sq_hi, sq_lo = row
        assert (lo, hi, total) == (min(ints), max(ints), sum(ints))
        assert (sq_hi << 32) + sq_lo == sum(v * v for v in ints)


def test_floats_mean_and_std_and_parts_do_not_matter():
    rng = np.random.default_rng(2)
    n = 50_000
    rec = np.zeros((n, 16), np.uint8)
    gps = 3.0e8 + rng.random(n) * 1000.0
    gps[[5, 77]] = [np.nan, np.inf]        # skipped
    rec[:, 0:8] = gps.view(np.uint8).reshape(n, 8)
    f32 = rng.normal(-4.0, 2.0, n).astype(np.float32)
    rec[:, 8:12] = f32.view(np.uint8).reshape(n, 4)
    spec = np.array([[0, ks.READ_F64], [8, ks.READ_F32]], np.int64)
    whole = np.zeros((2, ks.FLOAT_FIELDS))
    ks.fold_floats(rec, spec, whole)
    parts = np.zeros((2, ks.FLOAT_FIELDS))
    for cut in np.split(np.arange(n), [1, 999, 31_000]):
        ks.fold_floats(rec[cut], spec, parts)
    assert np.array_equal(whole, parts)     # the same bits, wherever the parts are cut
    for s, values in zip(whole, [gps[np.isfinite(gps)], f32.astype(np.float64)]):
        assert s[ks.F_COUNT] == len(values)
        assert (s[ks.F_MIN], s[ks.F_MAX]) == (values.min(), values.max())
        total = (s[ks.F_SUM] + s[ks.F_SUM_C]) * 4 * s[ks.F_SCALE]
        mean = s[ks.F_SHIFT] + total / len(values)
        assert mean == pytest.approx(math.fsum(values) / len(values), rel=1e-15)
        m2 = (s[ks.F_SQ] + s[ks.F_SQ_C]) * (4 * s[ks.F_SCALE]) ** 2 - total * total / len(values)
        assert math.sqrt(m2 / len(values)) == pytest.approx(np.std(values), rel=1e-9)


def python_fold(values):
    """The float fold as the module's docstring states it, in plain Python floats:
    the sums of q = (v - first) / 4 / scale and of q * q, compensated, over the
    finite values, the scale a power of two grown (the sums rescaled) so |q| <= 1."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return [0.0] * ks.FLOAT_FIELDS

    def neumaier(t0, c, x):
        t = t0 + x
        return [t, c + ((t0 - t) + x if abs(t0) >= abs(x) else (x - t) + t0)]

    shift, scale, sums = finite[0], 1.0, [0.0, 0.0, 0.0, 0.0]   # sum, its compensation, squares, theirs
    for v in finite:
        q = v * 0.25 - shift * 0.25
        if abs(q) > scale:
            grown = 2.0 ** math.frexp(abs(q))[1]
            sums = [x * f for x, f in zip(sums, [scale / grown] * 2 + [(scale / grown) ** 2] * 2)]
            scale = grown
        q *= 1.0 / scale
        sums = neumaier(sums[0], sums[1], q) + neumaier(sums[2], sums[3], q * q)
    return [float(len(finite)), shift, *sums, min(finite), max(finite), scale]


@pytest.mark.parametrize("seed", range(4))
def test_floats_are_the_python_fold_bit_for_bit(seed):
    """The kernel's state, every field, is the plain-Python fold's: the same
    operations in the same order (rescaling, non-finite values, huge values)."""
    rng = np.random.default_rng(seed)
    n = 3000
    values = np.concatenate([[2.0e8], 2.0e8 + rng.normal(0, 10.0 ** rng.integers(-3, 12), n)])
    values[rng.integers(0, n, 20)] = rng.choice([np.nan, np.inf, -np.inf, 1.7e308, -1.7e308, 0.0], 20)
    rec = np.ascontiguousarray(values).view(np.uint8).reshape(-1, 8)
    spec = np.array([[0, ks.READ_F64]], np.int64)
    state = np.zeros((1, ks.FLOAT_FIELDS))
    ks.fold_floats(rec[:1000], spec, state)
    ks.fold_floats(rec[1000:], spec, state)
    expected = python_fold(values.tolist())
    assert state[0].view(np.uint64).tolist() == np.array(expected).view(np.uint64).tolist()


def header(point_format=7, extra=()):
    return HeaderTemplate(layout=PointLayout(point_format, tuple(extra)), scales=(0.01, 0.01, 0.001),
                          offsets=(1000.0, 2000.0, 0.0), wkt=None)


def test_attribute_names_are_qgis_names():
    extra = (ExtraDim("Amplitude", 2, "<u2"), ExtraDim("Width", 4, "<f4"), ExtraDim("Vec", 3, "3u1"),
             ExtraDim("Big", 4, "<i4"))
    names = [a.name for a in qgis_attributes(header(8, extra))]
    assert names == ["X", "Y", "Z", "Intensity", "ReturnNumber", "NumberOfReturns", "ScanDirectionFlag",
                     "EdgeOfFlightLine", "Classification", "ScanAngleRank", "UserData", "PointSourceId",
                     "Synthetic", "KeyPoint", "Withheld", "Overlap", "ScannerChannel", "GpsTime", "Red", "Green",
                     "Blue", "Infrared", "Amplitude", "Width", "Big"]
    assert "Red" not in [a.name for a in qgis_attributes(header(6))]


def fold_nodes(ext, nodes, order, cuts):
    for key in order:
        records = nodes[key]
        start = 0
        for stop in list(cuts.get(key, [])) + [len(records)]:
            ext.node_records(key, start, records[start:stop])
            start = stop
    return ext.statistics().to_bytes()


def test_extension_bytes_do_not_depend_on_node_order_or_parts():
    hd = header(7, (ExtraDim("Width", 4, "<f4"),))
    size = hd.layout.record_size
    rng = np.random.default_rng(3)
    nodes = {}
    for key in (1, 8, 9, 10, 75, 600):
        rec = random_records(int(rng.integers(1, 5000)), size, seed=key)
        rec[:, 22:30] = (3e8 + rng.random(len(rec)) * 100).view(np.uint8).reshape(len(rec), 8)
        rec[:, size - 4:] = rng.normal(0, 1, len(rec)).astype(np.float32).view(np.uint8).reshape(len(rec), 4)
        nodes[key] = rec
    keys = sorted(nodes)
    one = fold_nodes(QgisStatisticsExtension(hd), nodes, keys, {})
    other = fold_nodes(QgisStatisticsExtension(hd), nodes, keys[::-1], {75: [1, 17], 600: [2, 3, 4]})
    assert one == other
    stats = QgisStatistics.from_bytes(one)
    everything = np.concatenate([nodes[k] for k in keys])
    assert stats.sampled_points == len(everything)
    x = field(everything, 0, "<i4") * 0.01 + 1000.0
    assert (stats.attributes["X"].minimum, stats.attributes["X"].maximum) == (x.min(), x.max())
    assert stats.attributes["X"].mean == pytest.approx(x.mean(), rel=1e-12)
    cls = np.bincount(everything[:, 16])
    assert stats.attributes["Classification"].class_count == {i: int(c) for i, c in enumerate(cls) if c}
    with pytest.raises(ValueError, match="part starts at point 3"):
        QgisStatisticsExtension(hd).node_records(5, 3, nodes[1])


def test_whole_nodes_at_once_equal_node_by_node():
    """nodes_records (the writer's batches, one kernel call) gives the same
    bytes as node_records node after node, mixed with it in any order; a node
    given twice is refused."""
    hd = header(8, (ExtraDim("Width", 4, "<f4"), ExtraDim("Big", 4, "<i4")))
    size = hd.layout.record_size
    rng = np.random.default_rng(12)
    nodes = {}
    for key in (1, 8, 9, 10, 11, 75, 600, 601):
        rec = random_records(int(rng.integers(1, 3000)), size, seed=key)
        rec[:, 22:30] = (3e8 + rng.random(len(rec)) * 100).view(np.uint8).reshape(len(rec), 8)
        nodes[key] = rec
    keys = sorted(nodes)
    one = fold_nodes(QgisStatisticsExtension(hd), nodes, keys, {})
    batched = QgisStatisticsExtension(hd)
    batched.nodes_records(keys[:5], [len(nodes[k]) for k in keys[:5]], np.concatenate([nodes[k] for k in keys[:5]]))
    batched.node_records(keys[5], 0, nodes[keys[5]])
    batched.nodes_records(keys[6:], [len(nodes[k]) for k in keys[6:]], np.concatenate([nodes[k] for k in keys[6:]]))
    assert batched.statistics().to_bytes() == one
    with pytest.raises(ValueError, match="node 8: its first point folded twice"):
        batched.nodes_records([8], [len(nodes[8])], nodes[8])
    with pytest.raises(ValueError, match="node 3: its first point folded twice"):
        QgisStatisticsExtension(hd).nodes_records([3, 3], [2, 2], nodes[1][:4])


def test_record_round_trip_and_qgis_int_limits():
    stats = QgisStatistics(5_000_000_000, {"Classification": AttributeStatistics(
        1.0, 18.0, 2.5, 0.75, {2: 3_000_000_000, 18: 7}, count=5_000_000_000)})
    raw = stats.to_bytes()
    doc = json.loads(raw)
    assert doc["sampled-points"] == INT32_MAX                 # QGIS reads it as a 32-bit int
    assert doc["stats"]["Classification"]["class-count"] == {"18": 7, "2": INT32_MAX}
    assert doc["stats"]["Classification"]["count"] == INT32_MAX
    assert raw.startswith(b'{"sampled-points":2147483647,"stats":{"Classification":{"class-count":')
    back = QgisStatistics.from_bytes(raw)
    assert back.attributes["Classification"].standard_deviation == 0.75
    assert back.attributes["Classification"].maximum == 18.0
    with pytest.raises(ValueError, match="finite"):
        QgisStatistics(1, {"A": AttributeStatistics(float("nan"), 1.0, 1.0)}).to_bytes()


def test_float_values_near_the_limit_do_not_overflow():
    """Random bytes as GPS times (a real file, lazperf_rand1_6.las, has them):
    values up to 1.8e308 of both signs; mean exact, std representable or left out."""
    from fractions import Fraction

    hd = header(6)
    rng = np.random.default_rng(9)
    rec = random_records(5000, hd.layout.record_size, seed=9)
    gps = np.concatenate([[1.7e308, -1.7e308, 3.0], rng.normal(0, 1e300, 4997)])
    rec[:, 22:30] = gps.view(np.uint8).reshape(len(gps), 8)
    ext = QgisStatisticsExtension(hd)
    ext.node_records(1, 0, rec[:2500])
    ext.node_records(9, 0, rec[2500:])
    stats = ext.statistics()
    exact = sum(Fraction(v) for v in gps) / len(gps)
    assert stats.attributes["GpsTime"].mean == pytest.approx(float(exact), abs=1e-12 * 1.7e308)
    assert (stats.attributes["GpsTime"].minimum, stats.attributes["GpsTime"].maximum) == (-1.7e308, 1.7e308)
    std = stats.attributes["GpsTime"].standard_deviation
    assert std is None or math.isfinite(std)
    json.loads(stats.to_bytes())


def fraction_float_stats(states):
    """Nodes' float states combined term by term as Fractions (the statement
    the extension's integer sums must equal)."""
    from fractions import Fraction

    live = [s for s in states if s[ks.F_COUNT] > 0]
    n = sum(int(s[ks.F_COUNT]) for s in live)
    shifts = [Fraction(s[ks.F_SHIFT]) for s in live]
    units = [4 * Fraction(s[ks.F_SCALE]) for s in live]
    totals = [u * (Fraction(s[ks.F_SUM]) + Fraction(s[ks.F_SUM_C])) for s, u in zip(live, units)]
    mean = (sum(totals) + sum(int(s[ks.F_COUNT]) * c for s, c in zip(live, shifts))) / n
    m2 = sum(u * u * (Fraction(s[ks.F_SQ]) + Fraction(s[ks.F_SQ_C])) + 2 * (c - mean) * t
             + int(s[ks.F_COUNT]) * (c - mean) ** 2 for s, u, c, t in zip(live, units, shifts, totals))
    return mean, max(m2, Fraction(0)) / n


@pytest.mark.parametrize("seed", range(6))
def test_nodes_float_states_combine_to_the_exact_fractions(seed):
    """Real folds of nodes (GPS-like times, values of both signs up to 1e308,
    a node of one value, an empty node): mean and standard deviation are the
    floats of the exact rational results."""
    from copc_builder.algorithms.writer.qgis_stats_extension import _float_stats, _sqrt

    rng = np.random.default_rng(seed)
    spec = np.array([[0, ks.READ_F64]], np.int64)
    kinds = [3.0e8 + rng.random(4000) * 1e4, rng.normal(0, 1e300, 700), np.full(5, -2.5),
             rng.normal(-7.0, 1e-6, 900), np.array([np.nan]), rng.uniform(-1, 1, 50) * 1.7e308]
    states = []
    for values in kinds[:2 + seed % 5] + kinds[::-1][:seed % 3]:
        rec = np.ascontiguousarray(values, np.float64).view(np.uint8).reshape(len(values), 8)
        state = np.zeros((1, ks.FLOAT_FIELDS))
        ks.fold_floats(rec, spec, state)
        states.append(state[0])
    got = _float_stats(states)
    mean, variance = fraction_float_stats(states)
    assert got.mean == float(mean)
    assert got.standard_deviation == _sqrt(variance)
    live = [s for s in states if s[ks.F_COUNT]]
    assert (got.minimum, got.maximum) == (min(s[ks.F_MIN] for s in live), max(s[ks.F_MAX] for s in live))

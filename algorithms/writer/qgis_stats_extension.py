"""Exact QGIS point-cloud statistics, gathered as the writer makes records.

A ``WriterExtension`` (see writer_extension.py): every node's records are
folded into the kernels of ``kernels.attribute_stats`` as they are written,
and ``evlr`` gives the "qgis" / 0 EVLR QGIS reads instead of sampling the
file (``format.qgis_statistics``).  Attribute names and which attributes get
class counts are QGIS's (QgsLazInfo attributes; the classified attributes of
QgsPointCloudStatsCalculator, QGIS 3.40).  Values are what QGIS reads: X, Y,
Z scaled, ScanAngleRank in degrees (raw * 0.006f, a float32), extra bytes raw.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..format.qgis_statistics import QGIS_STATISTICS_DESCRIPTION, AttributeStatistics, QgisStatistics
from ..format.record_ids import QGIS_STATISTICS_RECORD, QGIS_USER
from ..kernels import attribute_stats as ks
from ..kernels.point_formats import (CLASS_AT, COLOR_AT, FLAGS_AT, GPS_AT, INTENSITY_AT, RECORD_SIZE, RETURN_AT,
                                     SCAN_ANGLE_AT, SCAN_ANGLE_UNIT, SOURCE_ID_AT, USER_DATA_AT, XYZ_AT)
from .writer_extension import EvlrData, NodeEntries

# Attributes QGIS 3.40's statistics calculator counts classes of.
CLASSIFIED = frozenset({"ScannerChannel", "ReturnNumber", "NumberOfReturns", "ScanDirectionFlag", "Classification",
                        "EdgeOfFlightLine", "PointSourceId", "Synthetic", "KeyPoint", "Withheld", "Overlap"})
# QGIS reads the scan angle as ``angle * 0.006f``: a float32 product.
SCAN_ANGLE_F32 = float(np.float32(SCAN_ANGLE_UNIT))
_EXTRA_KINDS = {"u1": ks.READ_U8, "i1": ks.READ_I8, "u2": ks.READ_U16, "i2": ks.READ_I16, "u4": ks.READ_U32,
                "i4": ks.READ_I32, "f4": ks.READ_F32, "f8": ks.READ_F64, "u8": ks.READ_U64, "i8": ks.READ_I64}
_HIST_KINDS = (ks.READ_U8, ks.READ_I8, ks.READ_U16, ks.READ_I16)
_WIDE_KINDS = (ks.READ_U32, ks.READ_I32)


@dataclass(frozen=True)
class Attribute:
    """One attribute as QGIS names it, where it lies and how its raw value becomes QGIS's."""

    name: str
    offset: int
    kind: int
    shift: int = 0
    mask: int = 0xFF
    scale: float = 1.0
    add: float = 0.0
    float32: bool = False     # QGIS holds the value as a float32 (ScanAngleRank)


def qgis_attributes(header) -> List[Attribute]:
    """The attributes QGIS shows for a COPC file with this header, in QGIS's order."""
    layout = header.layout
    out = [Attribute(axis, XYZ_AT + 4 * k, ks.READ_I32, scale=scale, add=offset)
           for k, (axis, scale, offset) in enumerate(zip("XYZ", header.scales, header.offsets))]
    out.append(Attribute("Intensity", INTENSITY_AT, ks.READ_U16))
    bits = [("ReturnNumber", RETURN_AT, 0, 15), ("NumberOfReturns", RETURN_AT, 4, 15),
            ("ScanDirectionFlag", FLAGS_AT, 6, 1), ("EdgeOfFlightLine", FLAGS_AT, 7, 1),
            ("Classification", CLASS_AT, 0, 0xFF)]
    out += [Attribute(name, at, ks.READ_U8, shift, mask) for name, at, shift, mask in bits]
    out += [Attribute("ScanAngleRank", SCAN_ANGLE_AT, ks.READ_I16, scale=SCAN_ANGLE_F32, float32=True),
            Attribute("UserData", USER_DATA_AT, ks.READ_U8), Attribute("PointSourceId", SOURCE_ID_AT, ks.READ_U16)]
    flags = [("Synthetic", 0, 1), ("KeyPoint", 1, 1), ("Withheld", 2, 1), ("Overlap", 3, 1), ("ScannerChannel", 4, 3)]
    out += [Attribute(name, FLAGS_AT, ks.READ_U8, shift, mask) for name, shift, mask in flags]
    out.append(Attribute("GpsTime", GPS_AT, ks.READ_F64))
    colours = ["Red", "Green", "Blue"] + (["Infrared"] if layout.has_nir else [])
    if layout.has_rgb:
        out += [Attribute(name, COLOR_AT + 2 * i, ks.READ_U16) for i, name in enumerate(colours)]
    at = RECORD_SIZE[layout.point_format]
    for dim in layout.extra:
        dtype = np.dtype(dim.dtype)
        kind = _EXTRA_KINDS.get(dtype.base.str[1:]) if dtype.shape == () else None
        if kind is not None and dim.name not in {a.name for a in out}:
            out.append(Attribute(dim.name, at, kind))
        at += dim.size
    return out


def _spec(fields) -> np.ndarray:
    """(offset, kind) rows for the kernels."""
    return np.array(list(fields), np.int64).reshape(-1, 2)


class QgisStatisticsExtension:
    """Folds every record into exact per-attribute statistics; gives QGIS's EVLR."""

    def __init__(self, header):
        attrs = qgis_attributes(header)
        self.hist_attrs = [a for a in attrs if a.kind in _HIST_KINDS]
        self.wide_attrs = [a for a in attrs if a.kind in _WIDE_KINDS]
        self.float_attrs = [a for a in attrs if a.kind not in _HIST_KINDS + _WIDE_KINDS]
        self.order = [a.name for a in attrs]
        # One histogram per field read (a byte holding bit fields is counted once).
        self._sources = list(dict.fromkeys((a.offset, a.kind) for a in self.hist_attrs))
        self._hist_spec = _spec(self._sources)
        self._wide_spec = _spec((a.offset, a.kind) for a in self.wide_attrs)
        self._float_spec = _spec((a.offset, a.kind) for a in self.float_attrs)
        self._hist = np.zeros((len(self._sources), ks.HIST_SIZE), np.int64)
        self._wide = ks.new_wide(len(self.wide_attrs))
        self._wide_points = 0
        self.points = 0
        self._wide_totals = [[None, None, 0, 0] for _ in self.wide_attrs]   # min, max, sum, sum of squares
        self._nodes: Dict[int, Tuple[int, np.ndarray]] = {}   # key -> (points folded, float state)

    # -- the seam ------------------------------------------------------------------
    def node_records(self, key: int, first: int, records: np.ndarray) -> None:
        for start in range(0, len(records), ks.DRAIN_POINTS):
            self._fold(key, first + start, records[start:start + ks.DRAIN_POINTS])

    def nodes_records(self, keys: Sequence[int], counts: Sequence[int], records: np.ndarray) -> None:
        """Whole nodes one after another (``counts`` points each, from their
        first): as node_records for each, folded in one kernel call that holds
        no GIL, so the writer runs it beside lazrs's compression."""
        total = len(records)
        if total > ks.DRAIN_POINTS:   # the writer's batches are a few million points
            raise ValueError(f"{total} points at once; at most {ks.DRAIN_POINTS}")
        twice = [key for key in keys if key in self._nodes]
        if twice or len(set(keys)) != len(keys):
            raise ValueError(f"node {(twice or list(keys))[0]}: its first point folded twice")
        if self._wide_points + total > ks.DRAIN_POINTS:
            self._drain_wide()
        bounds = np.zeros(len(counts) + 1, np.int64)
        np.cumsum(counts, out=bounds[1:])
        states = np.zeros((len(keys), len(self.float_attrs), ks.FLOAT_FIELDS), np.float64)
        ks.fold_nodes(records, bounds, self._hist_spec, self._hist, self._wide_spec, self._wide,
                      self._float_spec, states)
        self._wide_points += total
        self.points += total
        for key, count, state in zip(keys, counts, states):
            self._nodes[int(key)] = (int(count), state)

    def evlr(self, nodes: NodeEntries, data_offset: int) -> Optional[EvlrData]:
        stats = self.statistics()
        if stats is None:
            return None
        return EvlrData(QGIS_USER, QGIS_STATISTICS_RECORD, QGIS_STATISTICS_DESCRIPTION, stats.to_bytes())

    def merge(self, other: "QgisStatisticsExtension") -> None:
        self._hist += other._hist
        other._drain_wide()
        self._drain_wide()
        for mine, theirs in zip(self._wide_totals, other._wide_totals):
            if theirs[0] is not None:
                mine[0] = theirs[0] if mine[0] is None else min(mine[0], theirs[0])
                mine[1] = theirs[1] if mine[1] is None else max(mine[1], theirs[1])
            mine[2] += theirs[2]
            mine[3] += theirs[3]
        twice = self._nodes.keys() & other._nodes.keys()
        if twice:
            raise AssertionError(f"statistics of nodes {sorted(twice)[:5]} folded twice")
        self._nodes.update(other._nodes)
        self.points += other.points

    def __getstate__(self) -> dict:
        """Pickled for the cluster build: the histograms sparse (most bins are empty)."""
        state = dict(self.__dict__)
        hist = state.pop("_hist")
        nonzero = np.flatnonzero(hist)
        state["_hist_sparse"] = (hist.shape, nonzero, hist.ravel()[nonzero])
        return state

    def __setstate__(self, state: dict) -> None:
        shape, nonzero, values = state.pop("_hist_sparse")
        self.__dict__.update(state)
        self._hist = np.zeros(shape, np.int64)
        self._hist.ravel()[nonzero] = values

    def _fold(self, key: int, first: int, records: np.ndarray) -> None:
        done, state = self._nodes.get(key, (0, None))
        if first != done:
            raise ValueError(f"node {key}: part starts at point {first}, expected {done}")
        if state is None:
            state = np.zeros((len(self.float_attrs), ks.FLOAT_FIELDS), np.float64)
        if self._wide_points + len(records) > ks.DRAIN_POINTS:
            self._drain_wide()
        ks.fold_histograms(records, self._hist_spec, self._hist)
        ks.fold_wide(records, self._wide_spec, self._wide)
        ks.fold_floats(records, self._float_spec, state)
        self._wide_points += len(records)
        self.points += len(records)
        self._nodes[key] = (done + len(records), state)

    def _drain_wide(self) -> None:
        for totals, (lo, hi, total, sq_hi, sq_lo) in zip(self._wide_totals, self._wide.tolist()):
            if lo <= hi:
                totals[0] = lo if totals[0] is None else min(totals[0], lo)
                totals[1] = hi if totals[1] is None else max(totals[1], hi)
                totals[2] += total
                totals[3] += (sq_hi << 32) + sq_lo
        self._wide = ks.new_wide(len(self.wide_attrs))
        self._wide_points = 0

    # -- the result ----------------------------------------------------------------
    def statistics(self) -> Optional[QgisStatistics]:
        """Statistics of every point folded so far (None before any point)."""
        self._drain_wide()
        count = self.points
        if count == 0:
            return None
        found: Dict[str, AttributeStatistics] = {}
        for attr in self.hist_attrs:
            found[attr.name] = _histogram_stats(attr, self._hist[self._sources.index((attr.offset, attr.kind))])
        for attr, (lo, hi, total, squares) in zip(self.wide_attrs, self._wide_totals):
            found[attr.name] = _integer_stats(attr, lo, hi, Fraction(total, count), Fraction(squares, count))
        states = [state for _, (_, state) in sorted(self._nodes.items())]
        for i, attr in enumerate(self.float_attrs):
            stats = _float_stats([s[i] for s in states])
            if stats is not None:
                found[attr.name] = stats
        for stats in found.values():
            stats.count = count
        return QgisStatistics(count, {name: found[name] for name in self.order if name in found})


def _histogram_stats(attr: Attribute, row: np.ndarray) -> AttributeStatistics:
    """Exact statistics of a field from the histogram of what it is read from."""
    if attr.kind == ks.READ_U8:     # the field is bits (shift, mask) of a counted byte
        row = _bit_field(row[:256], attr.shift, attr.mask)
    index = np.flatnonzero(row)
    base = {ks.READ_I8: 128, ks.READ_I16: 32768}.get(attr.kind, 0)
    values = (index - base).tolist()
    counts = row[index].tolist()
    n = sum(counts)
    mean = Fraction(sum(v * c for v, c in zip(values, counts)), n)
    squares = Fraction(sum(v * v * c for v, c in zip(values, counts)), n)
    stats = _integer_stats(attr, values[0], values[-1], mean, squares)
    if attr.name in CLASSIFIED:
        stats.class_count = dict(zip(values, counts))
    return stats


def _bit_field(byte_counts: np.ndarray, shift: int, mask: int) -> np.ndarray:
    counts = np.zeros(mask + 1, np.int64)
    np.add.at(counts, (np.arange(256) >> shift) & mask, byte_counts)
    return counts


def _integer_stats(attr: Attribute, lo: int, hi: int, mean: Fraction, squares: Fraction) -> AttributeStatistics:
    """Exact statistics from the integer min, max, mean and mean of squares of the raw values."""
    variance = max(squares - mean * mean, Fraction(0))
    scale, add = Fraction(attr.scale), Fraction(attr.add)

    def value(raw: int) -> float:
        v = float(raw * scale + add)
        return float(np.float32(v)) if attr.float32 else v

    return AttributeStatistics(minimum=value(lo), maximum=value(hi), mean=float(mean * scale + add),
                               standard_deviation=math.sqrt(float(variance)) * attr.scale)


def _float_stats(states: List[np.ndarray]) -> Optional[AttributeStatistics]:
    """Combine nodes' states exactly: the result depends only on the states.

    Node i's values have count n, shift c and sums S, Q (each with its
    compensation) of (v - c) / u, u = 4 * scale, so with t = u * S:
    mean = (sum t + sum n c) / N and
    N * variance = sum (u^2 Q + 2 c t + n c^2) - (sum t + sum n c)^2 / N.
    Every float is m * 2**e exactly (``_Dyadic``): the sums are integers,
    with no common divisor to find at each step: 0.003 s for the 528 nodes
    of 10.5 M points against 0.013 s with Fractions, on one core at the end
    of the build."""
    live = [s for s in states if s[ks.F_COUNT] > 0]
    n = sum(int(s[ks.F_COUNT]) for s in live)
    if n == 0:
        return None
    total, squares = _Dyadic(), _Dyadic()      # sum t + sum n c;  sum u^2 Q + 2 c t + n c^2
    for s in live:
        count = int(s[ks.F_COUNT])
        c, scale = _dyadic(s[ks.F_SHIFT]), _dyadic(s[ks.F_SCALE])
        u = scale[0], scale[1] + 2
        sums = (_dyadic(s[ks.F_SUM]), _dyadic(s[ks.F_SUM_C]))
        for part in sums:
            t = _times(u, part)
            total.add(t)
            squares.add(_times(t, c), 2)
        total.add(c, count)
        squares.add(_times(c, c), count)
        u2 = _times(u, u)
        for part in (_dyadic(s[ks.F_SQ]), _dyadic(s[ks.F_SQ_C])):
            squares.add(_times(u2, part))
    whole = total.fraction()
    mean = whole / n
    m2 = squares.fraction() - whole * mean
    return AttributeStatistics(minimum=float(min(s[ks.F_MIN] for s in live)),
                               maximum=float(max(s[ks.F_MAX] for s in live)),
                               mean=float(mean), standard_deviation=_sqrt(max(m2, Fraction(0)) / n))


def _dyadic(x: float) -> Tuple[int, int]:
    """A finite float as (m, e), x = m * 2**e exactly."""
    m, d = float(x).as_integer_ratio()   # d is a power of two
    return m, 1 - d.bit_length()


def _times(a: Tuple[int, int], b: Tuple[int, int]) -> Tuple[int, int]:
    return a[0] * b[0], a[1] + b[1]


class _Dyadic:
    """An exact running sum of m * 2**e terms, as an integer times 2**e."""

    def __init__(self):
        self.m, self.e = 0, 0

    def add(self, term: Tuple[int, int], times: int = 1) -> None:
        m, e = term
        if not m:
            return
        if e < self.e:
            self.m <<= self.e - e
            self.e = e
        self.m += (m * times) << (e - self.e)

    def fraction(self) -> Fraction:
        return Fraction(self.m << self.e) if self.e >= 0 else Fraction(self.m, 1 << -self.e)


def _sqrt(value: Fraction) -> Optional[float]:
    """sqrt of a fraction of any size; None when the root is beyond float64."""
    k = max(0, (value.numerator.bit_length() - value.denominator.bit_length() - 1000) // 2)
    root = math.sqrt(float(value / 4 ** k)) * 2.0 ** k
    return root if math.isfinite(root) else None


def writer_extensions(header, options) -> list:
    """The writer extensions a build with these options gets."""
    return [QgisStatisticsExtension(header)] if options.statistics else []

#!/usr/bin/env python3
"""Benchmark compression codecs for the node store's spilled pages.

The node store keeps points columnar:

* ``xyz``  int32 (n, 3): quantized LAS integer coordinates,
* ``gps``  float64 (n,): GPS time,
* ``rest`` uint8 (n, k): every other byte of the LAS 1.4 point record
  (k = 10 for point format 6).

A page is n points of one spatial cell, in file (acquisition) order. This
script builds such pages from a real file the way the builder will (an XY grid
of cells, file order kept inside a cell, the first ``--pages`` SIZE points of
the fullest cells), adds one page of random data (worst case), and measures for
each codec x pre-transform and each column: compression ratio, compress MB/s
and decompress MB/s (MB = 1e6 bytes of *uncompressed* column data, the
pre-transform and its inverse included in the times), single thread.
Each time is the median of ``--reps`` repetitions (after one warm-up; the
repetitions of all rows are interleaved), summed over the pages of a set.
Every round trip is checked for exactness.

Run from the repository root with the project's venv:

    python benchmarks/page_codecs.py [LAS/LAZ] [--reps 5] [--out table.md]

Optional codec packages (lz4, zstandard, blosc, blosc2, cramjam) are used
when importable and skipped otherwise.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import os
import platform
import re
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

try:
    import laspy
except ImportError:  # pragma: no cover - laspy is a project dependency
    laspy = None

DEFAULT_INPUT = "/work/bench/zurich16.laz"
RANDOM_INPUT = "/work/shared/data/lazperf_rand1_6.las"
COLUMNS = ("xyz", "gps", "rest")


# --------------------------------------------------------------------------
# Pages
# --------------------------------------------------------------------------

def load_columns(path: str) -> Tuple[np.ndarray, Optional[np.ndarray], np.ndarray]:
    """Read a LAS/LAZ file into the store's three columns."""
    las = laspy.read(path)
    arr = las.points.array
    n = len(arr)
    xyz = np.empty((n, 3), dtype=np.int32)
    xyz[:, 0] = arr["X"]
    xyz[:, 1] = arr["Y"]
    xyz[:, 2] = arr["Z"]
    names = arr.dtype.names
    gps = np.ascontiguousarray(arr["gps_time"], dtype=np.float64) if "gps_time" in names else None
    skip = set()
    for name in ("X", "Y", "Z", "gps_time"):
        if name in names:
            dt, off = arr.dtype.fields[name][:2]
            skip.update(range(off, off + dt.itemsize))
    keep = np.array([i for i in range(arr.dtype.itemsize) if i not in skip], dtype=np.intp)
    raw = np.frombuffer(arr.tobytes(), dtype=np.uint8).reshape(n, arr.dtype.itemsize)
    rest = np.ascontiguousarray(raw[:, keep])
    return xyz, gps, rest


def cell_pages(xyz: np.ndarray, page: int, npages: int, max_grid: int = 8) -> List[Tuple[np.ndarray, str]]:
    """Index arrays of ``npages`` pages of ``page`` points, each from one cell.

    Cells are a g x g grid over the XY extent; g is the largest power of two
    <= max_grid that has at least ``npages`` cells holding ``page`` points
    (so large pages come from a coarser grid). File order is kept inside a
    cell (stable sort), and each page is the first ``page`` points of a cell.
    """
    x = xyz[:, 0].astype(np.int64)
    y = xyz[:, 1].astype(np.int64)
    x0, y0 = x.min(), y.min()
    sx, sy = max(x.max() - x0 + 1, 1), max(y.max() - y0 + 1, 1)
    g = max_grid
    while g >= 1:
        ix = np.minimum((x - x0) * g // sx, g - 1)
        iy = np.minimum((y - y0) * g // sy, g - 1)
        cell = ix * g + iy
        counts = np.bincount(cell, minlength=g * g)
        full = np.flatnonzero(counts >= page)
        if len(full) >= npages or g == 1:
            break
        g //= 2
    order = np.argsort(cell, kind="stable")
    starts = np.concatenate(([0], np.cumsum(counts)))
    # the fullest cells first; spread the pick over the grid
    full = full[np.argsort(-counts[full], kind="stable")]
    pages = []
    for c in full[:npages]:
        idx = order[starts[c]:starts[c] + min(page, counts[c])]
        pages.append((idx, f"grid {g}x{g} cell {c} ({counts[c]} pts)"))
    return pages


def take(cols, idx) -> Dict[str, np.ndarray]:
    xyz, gps, rest = cols
    page = {"xyz": np.ascontiguousarray(xyz[idx]), "rest": np.ascontiguousarray(rest[idx])}
    if gps is not None:
        page["gps"] = np.ascontiguousarray(gps[idx])
    return page


# --------------------------------------------------------------------------
# Pre-transforms (numpy): forward(col) -> (uint8 buffer, typesize); inverse
# --------------------------------------------------------------------------

def _rowbytes(col: np.ndarray) -> int:
    return col.dtype.itemsize * (col.shape[1] if col.ndim == 2 else 1)


def _typesize(name: str, col: np.ndarray) -> int:
    # the element size blosc should shuffle by: a coordinate, a double, a record
    return col.shape[1] if name == "rest" else col.dtype.itemsize


def _int_view(col: np.ndarray) -> np.ndarray:
    """Integer view on which a delta is lossless (float64 -> int64 bits)."""
    return col.view(np.int64) if col.dtype == np.float64 else col


def _delta(col: np.ndarray) -> np.ndarray:
    v = _int_view(col)
    d = np.empty_like(v)
    d[:1] = v[:1]
    np.subtract(v[1:], v[:-1], out=d[1:])  # wraps modulo 2**bits: lossless
    return d


def _undelta(d: np.ndarray, dtype) -> np.ndarray:
    v = np.cumsum(d, axis=0, dtype=d.dtype)
    return v.view(dtype) if v.dtype != dtype else v


def _zigzag(d: np.ndarray) -> np.ndarray:
    bits = d.dtype.itemsize * 8
    return (d << 1) ^ (d >> (bits - 1))


def _unzigzag(z: np.ndarray) -> np.ndarray:
    u = z.view(np.dtype(f"u{z.dtype.itemsize}"))
    return (u >> 1).view(z.dtype) ^ -(z & 1)


def _shuffle(a: np.ndarray) -> np.ndarray:
    n = a.shape[0]
    return np.ascontiguousarray(a.view(np.uint8).reshape(n, -1).T)


def _unshuffle(buf, n: int, rowbytes: int) -> np.ndarray:
    b = np.frombuffer(buf, dtype=np.uint8).reshape(rowbytes, n)
    return np.ascontiguousarray(b.T)


@dataclass
class Transform:
    name: str
    shuffle: bool   # byte-transpose rows
    delta: bool     # delta of xyz (int32) and gps (int64 bits) along the page
    zigzag: bool = False

    def forward(self, name: str, col: np.ndarray):
        a = col
        if self.delta and name != "rest":
            a = _delta(a)
            if self.zigzag:
                a = _zigzag(a)
        if self.shuffle:
            return _shuffle(a)
        return np.ascontiguousarray(a).view(np.uint8)

    def inverse(self, name: str, buf, like: np.ndarray) -> np.ndarray:
        n = like.shape[0]
        rb = _rowbytes(like)
        if self.shuffle:
            b = _unshuffle(buf, n, rb)
        else:
            b = np.frombuffer(buf, dtype=np.uint8)
        if self.delta and name != "rest":
            idt = _int_view(like).dtype
            d = b.view(idt).reshape(like.shape)
            if self.zigzag:
                d = _unzigzag(d)
            return _undelta(d, like.dtype)
        return b.view(like.dtype).reshape(like.shape)


# Numba versions: one pass, no temporaries. Delta + zigzag work on the
# unsigned view (uint32 for xyz, the uint64 bits of gps) modulo 2**bits, so
# they are lossless for any input (NaN and inf included).
try:
    from numba import njit
except ImportError:  # pragma: no cover - numba is a project dependency
    njit = None

if njit is not None:
    _U0, _U1, _U8, _FF = np.uint64(0), np.uint64(1), np.uint64(8), np.uint64(0xFF)
    _ALL = np.uint64(0xFFFFFFFFFFFFFFFF)

    @njit(nogil=True, cache=False)
    def _nb_dz(v, out, zz):  # delta (zigzag if zz) along axis 0 of unsigned (n, m), written planar (m, n)
        n, m = v.shape
        bits = np.uint64(8 * v.itemsize)
        mask = _ALL >> (np.uint64(64) - bits)
        top = bits - _U1
        for c in range(m):
            prev = _U0
            for i in range(n):
                x = np.uint64(v[i, c])
                d = (x - prev) & mask
                prev = x
                if zz:
                    d = ((d << _U1) & mask) ^ ((_U0 - (d >> top)) & mask)
                out[c, i] = d

    @njit(nogil=True, cache=False)
    def _nb_undz(z, out, zz):  # planar (m, n) -> (n, m)
        n, m = out.shape
        bits = np.uint64(8 * z.itemsize)
        mask = _ALL >> (np.uint64(64) - bits)
        for c in range(m):
            prev = _U0
            for i in range(n):
                d = np.uint64(z[c, i])
                if zz:
                    d = (d >> _U1) ^ ((_U0 - (d & _U1)) & mask)
                prev = (prev + d) & mask
                out[i, c] = prev

    # The store's own kernels (algorithms/kernels/shuffle.py), so the figures
    # are those of the code that runs.
    from copc_builder.algorithms.kernels.shuffle import delta_shuffle as _nb_dzshuf
    from copc_builder.algorithms.kernels.shuffle import shuffle as _nb_shuffle
    from copc_builder.algorithms.kernels.shuffle import undelta_unshuffle as _nb_undzshuf
    from copc_builder.algorithms.kernels.shuffle import unshuffle as _nb_unshuffle


def _uview(col: np.ndarray) -> np.ndarray:
    """(n, m) unsigned view: xyz -> uint32 (n, 3); gps -> uint64 (n, 1)."""
    u = col.view(np.dtype(f"u{col.dtype.itemsize}"))
    return u.reshape(col.shape[0], -1)


class NbTransform(Transform):
    """Numba pre-transforms: 'nb:shuf', 'nb:dz+shuf' (fused), 'nb:dz' (for blosc).

    'dz' = delta along the page, zigzagged for xyz (signed steps) but not for
    gps (acquisition order: steps are almost all positive, and zigzag would
    double them). 'nb:dz' also writes xyz planar (all x, all y, all z), so
    that a codec's own shuffle by 4 bytes sees one coordinate per stream.
    """

    def __init__(self, name: str):
        self.name = name
        self.shuffle = "shuf" in name
        self.delta = "dz" in name

    def forward(self, name: str, col: np.ndarray):
        n = col.shape[0]
        rb = _rowbytes(col)
        if self.delta and name != "rest":
            v = _uview(col)
            if self.shuffle:
                out = np.empty((rb, n), dtype=np.uint8)
                _nb_dzshuf(v, out, name == "xyz")
                return out
            out = np.empty((v.shape[1], n), dtype=v.dtype)  # planar: x..., y..., z...
            _nb_dz(v, out, name == "xyz")
            return out.view(np.uint8)
        if self.shuffle:
            out = np.empty((rb, n), dtype=np.uint8)
            _nb_shuffle(col.view(np.uint8).reshape(n, rb), out)
            return out
        return col.view(np.uint8)

    def inverse(self, name: str, buf, like: np.ndarray) -> np.ndarray:
        n = like.shape[0]
        rb = _rowbytes(like)
        b = np.frombuffer(buf, dtype=np.uint8)
        if self.delta and name != "rest":
            out = np.empty_like(like)
            uo = _uview(out)
            if self.shuffle:
                _nb_undzshuf(b.reshape(rb, n), uo, name == "xyz")
            else:
                _nb_undz(b.view(uo.dtype).reshape(uo.shape[1], n), uo, name == "xyz")
            return out
        if self.shuffle:
            out = np.empty_like(like)
            _nb_unshuffle(b.reshape(rb, n), out.view(np.uint8).reshape(n, rb))
            return out
        return b.view(like.dtype).reshape(like.shape)


T_NONE = Transform("none", shuffle=False, delta=False)
T_SHUF = Transform("shuf", shuffle=True, delta=False)
T_DSHUF = Transform("delta+shuf", shuffle=True, delta=True)
T_DZSHUF = Transform("delta+zz+shuf", shuffle=True, delta=True, zigzag=True)
T_DELTA = Transform("delta", shuffle=False, delta=True)
T_DZ = Transform("delta+zz", shuffle=False, delta=True, zigzag=True)
if njit is not None:
    T_NB_SHUF = NbTransform("nb:shuf")
    T_NB_DZSHUF = NbTransform("nb:dz+shuf")
    T_NB_DZ = NbTransform("nb:dz")
    NB_PLAIN = [T_NB_SHUF, T_NB_DZSHUF]
    NB_INNER = [T_NB_DZ]
else:  # pragma: no cover
    NB_PLAIN, NB_INNER = [], []


# --------------------------------------------------------------------------
# Codecs: compress(buf, typesize) -> bytes-like, decompress(blob) -> buffer
# --------------------------------------------------------------------------

@dataclass
class Codec:
    name: str
    compress: Callable
    decompress: Callable


def make_codecs() -> Tuple[List[Tuple[Codec, List[Transform]]], Dict[str, str], Dict[str, Codec]]:
    """(codec, transforms to try) pairs, library versions, and 2-thread variants."""
    plain = [T_NONE, T_SHUF, T_DSHUF, T_DZSHUF] + NB_PLAIN
    inner = [T_NONE, T_DELTA, T_DZ] + NB_INNER  # for codecs that shuffle by themselves
    short = [T_NONE] + NB_PLAIN[-1:]  # no transform, and the best plain one
    rows: List[Tuple[Codec, List[Transform]]] = []
    versions: Dict[str, str] = {"numpy": np.__version__}
    threaded: Dict[str, Codec] = {}

    rows.append((Codec("memcpy (no codec)", lambda b, t: bytes(b), bytearray), [T_NONE]))

    try:
        import lz4
        import lz4.block
        import lz4.frame
        versions["lz4"] = lz4.__version__
        rows.append((Codec("lz4.block", lambda b, t: lz4.block.compress(b),
                           lambda z: lz4.block.decompress(z)), plain))
        rows.append((Codec("lz4.frame", lambda b, t: lz4.frame.compress(b),
                           lambda z: lz4.frame.decompress(z)), short))
    except ImportError:
        pass

    try:
        import zstandard as zstd
        versions["zstandard"] = f"{zstd.__version__} (libzstd {'.'.join(map(str, zstd.ZSTD_VERSION))})"
        # contexts are not thread-safe: one per thread and setting, reused
        tls = threading.local()

        def ctx(key, make):
            d = tls.__dict__.setdefault("ctx", {})
            if key not in d:
                d[key] = make()
            return d[key]

        def zd(z):
            return ctx("d", zstd.ZstdDecompressor).decompress(z)

        for level in (-5, -3, -1, 1, 3):
            def zc(b, t, level=level):
                return ctx(("c", level), lambda: zstd.ZstdCompressor(level=level)).compress(b)

            trs = plain if level in (-1, 1, 3) else short
            rows.append((Codec(f"zstd {level}", zc, zd), trs))
            if level in (-1, 1):
                def zc2(b, t, level=level):
                    return ctx(("c2", level), lambda: zstd.ZstdCompressor(level=level, threads=2)).compress(b)

                threaded[f"zstd {level} threads=2"] = Codec(f"zstd {level} threads=2", zc2, zd)
    except ImportError:
        pass

    try:
        import blosc
        versions["blosc"] = f"{blosc.__version__} (c-blosc {blosc.blosclib_version})"
        blosc.set_nthreads(1)
        blosc.set_releasegil(True)
        for cname, clevel, shuf in (("lz4", 5, "shuffle"), ("lz4", 5, "bitshuffle"), ("blosclz", 5, "shuffle"),
                                    ("zstd", 1, "shuffle")):
            def bc(b, t, cname=cname, clevel=clevel, sh=blosc.SHUFFLE if shuf == "shuffle" else blosc.BITSHUFFLE):
                return blosc.compress(b, typesize=t, clevel=clevel, shuffle=sh, cname=cname)
            rows.append((Codec(f"blosc {cname}:{clevel} {shuf}", bc, blosc.decompress),
                         inner if (cname, shuf) != ("blosclz", "shuffle") and shuf == "shuffle"
                         else [T_NONE] + NB_INNER))
    except ImportError:
        pass

    try:
        import blosc2
        versions["blosc2"] = f"{blosc2.__version__} (c-blosc2 {blosc2.blosclib_version})"
        blosc2.set_nthreads(1)
        blosc2.set_releasegil(True)
        F = blosc2.Filter
        variants = [
            ("lz4", blosc2.Codec.LZ4, 5, "shuffle", [F.SHUFFLE], inner),
            ("lz4", blosc2.Codec.LZ4, 5, "bitshuffle", [F.BITSHUFFLE], [T_NONE] + NB_INNER),
            ("lz4", blosc2.Codec.LZ4, 5, "shuffle+bytedelta", [F.SHUFFLE, F.BYTEDELTA], [T_NONE] + NB_INNER),
            ("lz4", blosc2.Codec.LZ4, 5, "delta+shuffle", [F.DELTA, F.SHUFFLE], [T_NONE]),
            ("blosclz", blosc2.Codec.BLOSCLZ, 5, "shuffle", [F.SHUFFLE], [T_NONE] + NB_INNER),
            ("zstd", blosc2.Codec.ZSTD, 1, "shuffle", [F.SHUFFLE], inner),
            ("zstd", blosc2.Codec.ZSTD, 1, "bitshuffle", [F.BITSHUFFLE], [T_NONE] + NB_INNER),
            ("zstd", blosc2.Codec.ZSTD, 1, "shuffle+bytedelta", [F.SHUFFLE, F.BYTEDELTA], [T_NONE] + NB_INNER),
        ]
        for cname, codec, clevel, fname, filters, trs in variants:
            meta = [0] * len(filters)

            def b2c(b, t, codec=codec, clevel=clevel, filters=filters, meta=meta, nthreads=1):
                return blosc2.compress2(b, codec=codec, clevel=clevel, typesize=t, filters=filters,
                                        filters_meta=meta, nthreads=nthreads)

            def b2d(z, nthreads=1):
                return blosc2.decompress2(z, nthreads=nthreads)

            name = f"blosc2 {cname}:{clevel} {fname}"
            rows.append((Codec(name, b2c, b2d), trs))
            if fname == "shuffle":
                threaded[name + " nthreads=2"] = Codec(
                    name + " nthreads=2",
                    lambda b, t, f=b2c: f(b, t, nthreads=2), lambda z, f=b2d: f(z, nthreads=2))
    except ImportError:
        pass

    try:
        import cramjam
        versions["cramjam"] = cramjam.__version__
        rows.append((Codec("cramjam snappy raw", lambda b, t: cramjam.snappy.compress_raw(b),
                           cramjam.snappy.decompress_raw), plain))
        rows.append((Codec("cramjam lz4 block", lambda b, t: cramjam.lz4.compress_block(b),
                           cramjam.lz4.decompress_block), short))
    except ImportError:
        pass

    try:
        import blosc

        def bc2(b, t):
            blosc.set_nthreads(2)
            try:
                return blosc.compress(b, typesize=t, clevel=5, shuffle=blosc.SHUFFLE, cname="lz4")
            finally:
                blosc.set_nthreads(1)

        def bd2(z):
            blosc.set_nthreads(2)
            try:
                return blosc.decompress(z)
            finally:
                blosc.set_nthreads(1)

        threaded["blosc lz4:5 shuffle nthreads=2"] = Codec("blosc lz4:5 shuffle nthreads=2", bc2, bd2)
    except ImportError:
        pass
    return rows, versions, threaded


# --------------------------------------------------------------------------
# Measurement
# --------------------------------------------------------------------------

# wall and CPU seconds of every timed call: CPU/wall well below 1 means the
# core was shared with other work during the run (the wall medians then suffer)
_BUSY = [0.0, 0.0]
# "wall": time.perf_counter (default). "cpu": time.thread_time of the calling
# thread, which leaves out the time the thread was preempted: a cross-check for
# a machine shared with other jobs (single-threaded calls only).
CLOCK = "wall"


def _median_time(fn, reps: int) -> float:
    fn()  # warm-up
    walls, cpus = [], []
    for _ in range(reps):
        c0 = time.thread_time()
        t0 = time.perf_counter()
        fn()
        t1 = time.perf_counter()
        c1 = time.thread_time()
        _BUSY[0] += t1 - t0
        _BUSY[1] += c1 - c0
        walls.append(t1 - t0)
        cpus.append(c1 - c0)
    return statistics.median(cpus if CLOCK == "cpu" else walls)


@dataclass
class Stat:
    raw: int = 0
    comp: int = 0
    tc: float = 0.0
    td: float = 0.0

    def add(self, o: "Stat"):
        self.raw += o.raw
        self.comp += o.comp
        self.tc += o.tc
        self.td += o.td

    @property
    def ratio(self):
        return self.raw / self.comp if self.comp else float("nan")

    @property
    def cmbs(self):
        return self.raw / self.tc / 1e6 if self.tc else float("nan")

    @property
    def dmbs(self):
        return self.raw / self.td / 1e6 if self.td else float("nan")

    @property
    def rtmbs(self):
        return self.raw / (self.tc + self.td) / 1e6 if self.tc + self.td else float("nan")


def measure(codec: Codec, tr: Transform, name: str, col: np.ndarray, reps: int) -> Stat:
    ts = _typesize(name, col)

    def enc():
        return codec.compress(tr.forward(name, col), ts)

    blob = enc()
    back = tr.inverse(name, codec.decompress(blob), col)
    if back.shape != col.shape or not np.array_equal(back.view(np.uint8), col.view(np.uint8)):
        raise AssertionError(f"round trip failed: {codec.name} {tr.name} {name}")

    def dec():
        return tr.inverse(name, codec.decompress(blob), col)

    return Stat(raw=col.nbytes, comp=len(blob), tc=_median_time(enc, reps), td=_median_time(dec, reps))


def _timed(fn) -> float:
    c0 = time.thread_time()
    t0 = time.perf_counter()
    fn()
    t1 = time.perf_counter()
    c1 = time.thread_time()
    _BUSY[0] += t1 - t0
    _BUSY[1] += c1 - c0
    return (c1 - c0) if CLOCK == "cpu" else (t1 - t0)


def run_set(rows, pages: List[Dict[str, np.ndarray]], reps: int, only: Optional[str], log) -> List[Tuple[str, Dict[str, Stat]]]:
    """Measure every (codec, transform) row on every column of every page.

    The repetitions are interleaved (rep 1 of every row, then rep 2 of every
    row, ...) so that load from other jobs on a shared machine spreads over
    all rows alike instead of penalising whichever rows ran while it lasted.
    """
    cols = [c for c in COLUMNS if c in pages[0]]
    cases = []  # (label, column, Stat, enc, dec, enc times, dec times)
    labels = []
    for codec, trs in rows:
        for tr in trs:
            label = f"{codec.name} | {tr.name}"
            if only and not re.search(only, label):
                continue
            labels.append(label)
            for page in pages:
                for c in cols:
                    col = page[c]
                    ts = _typesize(c, col)

                    def enc(codec=codec, tr=tr, c=c, col=col, ts=ts):
                        return codec.compress(tr.forward(c, col), ts)

                    blob = enc()  # also the warm-up (numba compiles here)
                    back = tr.inverse(c, codec.decompress(blob), col)
                    if back.shape != col.shape or not np.array_equal(back.view(np.uint8), col.view(np.uint8)):
                        raise AssertionError(f"round trip failed: {label} {c}")

                    def dec(codec=codec, tr=tr, c=c, col=col, blob=blob):
                        return tr.inverse(c, codec.decompress(blob), col)

                    dec()
                    cases.append((label, c, Stat(raw=col.nbytes, comp=len(blob)), enc, dec, [], []))
    for r in range(reps):
        for label, c, st, enc, dec, te, td in cases:
            te.append(_timed(enc))
            td.append(_timed(dec))
        log(f"  rep {r + 1}/{reps} done")
    results = []
    for label in labels:
        per = {c: Stat() for c in cols}
        for lab, c, st, enc, dec, te, td in cases:
            if lab == label:
                per[c].add(Stat(raw=st.raw, comp=st.comp, tc=statistics.median(te), td=statistics.median(td)))
        tot = Stat()
        for c in cols:
            tot.add(per[c])
        per["page"] = tot
        results.append((label, per))
        log(f"  {label:55s} page ratio {tot.ratio:5.2f}  c {tot.cmbs:7.0f}  d {tot.dmbs:7.0f}  rt {tot.rtmbs:6.0f} MB/s")
    return results


def _spinner_progress(call, arg, rounds: int = 4, window: float = 0.2) -> float:
    """How much a spinning Python thread gets done while ``call(arg)`` runs in a loop.

    Relative to the same while a numba ``nogil`` kernel (which releases the
    GIL for all its work) runs in the loop instead; the two alternate in short
    windows so that load from other jobs hits both alike. ~1.0 means the call
    releases the GIL for (almost) all its work, ~0 means it holds it; in
    between, part of the work (typically allocating or copying the output
    object) runs with the GIL held.
    """
    count = [0]
    done = threading.Event()

    def spin():
        n = 0
        while not done.is_set():
            n += 1
            count[0] = n

    if njit is not None:
        src = np.zeros((1 << 18, 8), dtype=np.uint8)
        dst = np.empty((8, 1 << 18), dtype=np.uint8)
        _nb_shuffle(src, dst)

        def ref(_):
            _nb_shuffle(src, dst)
    else:  # pragma: no cover
        def ref(_):
            time.sleep(0.002)

    th = threading.Thread(target=spin, daemon=True)
    th.start()
    time.sleep(0.01)
    spins = {"ref": 0, "call": 0}
    secs = {"ref": 0.0, "call": 0.0}
    for _ in range(rounds):
        for key, fn in (("ref", ref), ("call", call)):
            k0, t0 = count[0], time.perf_counter()
            while time.perf_counter() - t0 < window:
                fn(arg)
            spins[key] += count[0] - k0
            secs[key] += time.perf_counter() - t0
    done.set()
    th.join()
    ref_rate = spins["ref"] / secs["ref"]
    return (spins["call"] / secs["call"]) / ref_rate if ref_rate else float("nan")


def gil_table(rows, pages, reps: int, log) -> List[Tuple[str, float, float, float, float]]:
    """Does each codec release the GIL (compress / decompress)? Plus 2-thread speed-up.

    GIL: ``_spinner_progress`` on >= 64 MB of the set's xyz data (no
    pre-transform), so that one call lasts much longer than the interpreter's
    5 ms switch interval. Speed-up: the set's columns split over 2 Python threads vs
    1 (~2x only when the GIL is released *and* the second core is free).
    """
    out = []
    wanted = {"lz4.block", "lz4.frame", "zstd 1", "zstd -1", "blosc lz4:5 shuffle", "blosc lz4:5 bitshuffle",
              "blosc2 lz4:5 shuffle", "blosc2 lz4:5 bitshuffle", "cramjam snappy raw", "cramjam lz4 block"}
    jobs = [(c, page[c]) for page in pages for c in COLUMNS if c in page]
    xyz = np.concatenate([p["xyz"].reshape(-1) for p in pages])
    big = np.tile(xyz, -(-64_000_000 // xyz.nbytes)).view(np.uint8)
    for codec, trs in rows:
        if codec.name not in wanted:
            continue
        blob = codec.compress(big, 4)
        pc = _spinner_progress(lambda b: codec.compress(b, 4), big)
        pd = _spinner_progress(codec.decompress, blob)
        blobs = [codec.compress(col.view(np.uint8).reshape(-1), _typesize(c, col)) for c, col in jobs]

        def comp_all(js):
            for c, col in js:
                codec.compress(col.view(np.uint8).reshape(-1), _typesize(c, col))

        def dec_all(bs):
            for b in bs:
                codec.decompress(b)

        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            def two(fn, items):
                futs = [ex.submit(fn, items[0::2]), ex.submit(fn, items[1::2])]
                for f in futs:
                    f.result()

            c1 = _median_time(lambda: comp_all(jobs), reps)
            c2 = _median_time(lambda: two(comp_all, jobs), reps)
            d1 = _median_time(lambda: dec_all(blobs), reps)
            d2 = _median_time(lambda: two(dec_all, blobs), reps)
        out.append((codec.name, pc, pd, c1 / c2, d1 / d2))
        log(f"  {codec.name:24s} spinner progress: compress {pc:.2f}, decompress {pd:.2f}; "
            f"2 threads: compress x{c1 / c2:.2f}, decompress x{d1 / d2:.2f}")
    return out


def internal_threads_table(threaded, pages, reps: int, log):
    """Codecs' own multi-threading (blosc/blosc2 nthreads, zstd threads=2)."""
    out = []
    for name, codec in threaded.items():
        tot = Stat()
        for page in pages:
            for c in COLUMNS:
                if c in page:
                    tot.add(measure(codec, T_NONE, c, page[c], reps))
        out.append((name, tot))
        log(f"  {name:40s} ratio {tot.ratio:5.2f} c {tot.cmbs:7.0f} d {tot.dmbs:7.0f} MB/s")
    return out


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------

def fmt_cell(s: Stat) -> str:
    return f"{s.ratio:.2f} / {s.cmbs:.0f} / {s.dmbs:.0f}"


def table(results, cols) -> str:
    head = "| codec | pre-transform | " + " | ".join(cols) + " | page | page round trip MB/s |"
    lines = [head, "|" + "---|" * (len(cols) + 4)]
    for label, per in results:
        codec, tr = label.split(" | ")
        cells = " | ".join(fmt_cell(per[c]) for c in cols)
        lines.append(f"| {codec} | {tr} | {cells} | **{fmt_cell(per['page'])}** | {per['page'].rtmbs:.0f} |")
    return "\n".join(lines)


def machine_facts() -> str:
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (f"nproc {os.cpu_count()}, CPU `{model}`, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}, load avg at start {os.getloadavg()[0]:.2f}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input", nargs="?", default=None,
                    help=f"LAS/LAZ file (default {DEFAULT_INPUT} if present, else {RANDOM_INPUT})")
    ap.add_argument("--random", default=RANDOM_INPUT, help="file of random points for the worst-case page ('' to skip)")
    ap.add_argument("--pages", default="65536:6,524288:3",
                    help="page sizes and how many pages of each, SIZE:COUNT,... (default %(default)s)")
    ap.add_argument("--grid", type=int, default=8, help="finest XY grid of cells (default 8)")
    ap.add_argument("--reps", type=int, default=5, help="timed repetitions per measurement (median)")
    ap.add_argument("--only", default=None, help="regex on 'codec | transform' to restrict rows")
    ap.add_argument("--no-threads", action="store_true", help="skip the 2-thread / GIL measurements")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="time.perf_counter (wall, default) or time.thread_time (CPU time of the calling thread: "
                         "a cross-check when other jobs share the cores)")
    ap.add_argument("--out", default=None, help="also write the markdown tables here")
    args = ap.parse_args(argv)

    if laspy is None:
        print("laspy is required", file=sys.stderr)
        return 2
    path = args.input or (DEFAULT_INPUT if os.path.exists(DEFAULT_INPUT) else RANDOM_INPUT)

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    global CLOCK
    CLOCK = args.clock
    rows, versions, threaded = make_codecs()
    md = [f"Input: `{path}`", "", f"Machine: {machine_facts()}", "",
          "Libraries: " + ", ".join(f"{k} {v}" for k, v in versions.items()), "",
          f"Timing: {'time.perf_counter (wall)' if CLOCK == 'wall' else 'time.thread_time (CPU of the thread)'}, "
          f"median of {args.reps} repetitions after a warm-up, single thread, summed over the pages of "
          "a set; MB = 1e6 bytes of uncompressed column data; pre-transform and its inverse included. "
          "Cells: ratio / compress MB/s / decompress MB/s. 'page' = the three columns compressed separately, "
          "summed. Round trip = bytes / (compress + decompress time).", ""]

    t0 = time.perf_counter()
    cols = load_columns(path)
    log(f"read {path}: {len(cols[0])} points in {time.perf_counter() - t0:.1f} s; rest has {cols[2].shape[1]} bytes/pt")
    sets = []
    for spec in args.pages.split(","):
        size, count = (int(v) for v in spec.split(":"))
        picked = cell_pages(cols[0], size, count, args.grid)
        if not picked:
            log(f"no cell holds {size} points; skipping")
            continue
        sets.append((f"{os.path.basename(path)}: {len(picked)} pages of {size} points",
                     [take(cols, idx) for idx, _ in picked], [d for _, d in picked]))
    n_main = len(sets)
    if args.random and os.path.exists(args.random):
        rc = load_columns(args.random)
        sets.append((f"{os.path.basename(args.random)}: 1 page of {len(rc[0])} random points (worst case)",
                     [take(rc, np.arange(len(rc[0])))], ["whole file"]))

    for title, pages, desc in sets:
        log(f"== {title}")
        cols_present = [c for c in COLUMNS if c in pages[0]]
        raw = sum(p[c].nbytes for p in pages for c in cols_present)
        _BUSY[0] = _BUSY[1] = 0.0
        load0 = os.getloadavg()[0]
        res = run_set(rows, pages, args.reps, args.only, log)
        busy = _BUSY[1] / _BUSY[0] if _BUSY[0] else float("nan")
        desc = desc + [f"timed calls got {busy:.0%} of a core (CPU/wall); load average {load0:.2f} -> "
                       f"{os.getloadavg()[0]:.2f}"]
        log(f"  CPU/wall of timed calls: {busy:.2f}")
        md += [f"### {title}", "", f"Pages: {'; '.join(desc)}. {raw / 1e6:.1f} MB of column data.", "",
               table(res, cols_present), ""]
        print(f"\n### {title}\n\n" + table(res, cols_present) + "\n", flush=True)

    if not args.no_threads and sets:
        title, pages, _ = sets[max(0, n_main - 1)]  # the largest pages of the real input
        CLOCK = "wall"  # several threads at work: only wall time means anything here
        log(f"== 2 Python threads (GIL) on {title}")
        g = gil_table(rows, pages, args.reps, log)
        lines = [f"### GIL and two Python threads ({title})", "",
                 "'spinner': work a spinning Python thread gets done while the call runs in a loop on "
                 ">= 64 MB of the set's xyz data, relative to while a numba nogil kernel runs instead (1.0: "
                 "the GIL is released for all the work; 0: held). 'x2 threads': speed-up of splitting the set's columns "
                 "over 2 Python threads vs 1 (~2x only if the GIL is released *and* the second core is free).",
                 "",
                 "| codec | spinner during compress | spinner during decompress | x2 threads compress | "
                 "x2 threads decompress |",
                 "|---|---|---|---|---|"]
        lines += [f"| {n} | {pc:.2f} | {pd:.2f} | {cs:.2f} | {ds:.2f} |" for n, pc, pd, cs, ds in g]
        log(f"== codecs' own threads on {title}")
        it = internal_threads_table(threaded, pages, args.reps, log)
        lines += ["", "Codecs' own threads (no pre-transform; ratio / compress MB/s / decompress MB/s, whole page):", "",
                  "| codec | page |", "|---|---|"]
        lines += [f"| {n} | {fmt_cell(s)} |" for n, s in it]
        md += lines + [""]
        print("\n" + "\n".join(lines), flush=True)

    if args.out:
        with open(args.out, "w") as f:
            f.write("\n".join(md) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Hostile geometry and frames (issue 6): int32 overflows, bad scales,
inputs kilometres apart, NaN/inf coordinates, degenerate clouds (identical
points, planes, lines, one or two points) and one node of 20 M points under
a small memory budget."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import laspy
import numpy as np
import pytest

from copc_builder import InputError, OptionError, build_copc
from fixtures import write_las
from hostile_helpers import (api_refused, assert_holds_arrays, assert_holds_files, cli_refused,
                             folders, listing, pdal_array, run_cli)


def suggested_scale(message: str) -> float:
    match = re.search(r"--scale ([0-9.eE+-]+)", message)
    assert match, f"no scale suggested in: {message}"
    return float(match.group(1))


# -- int32 overflow at the chosen scale ---------------------------------------------------
def test_overflow_cli_user_scale_too_fine(tmp_path):
    path = write_las(tmp_path / "wide.las", n=200, extent=5_000.0)
    line = cli_refused(tmp_path, [path], "does not fit a 32-bit integer", "--scale", "0.000001",
                       names=[path.name])
    assert "does not fit a 32-bit integer" in line, line
    scale = suggested_scale(line)
    assert scale > 0.000001
    out_dir, _ = folders(tmp_path)
    r = run_cli("build", path, "-o", out_dir / "ok.copc.laz", "--scale", f"{scale:g}")
    assert r.returncode == 0, r.stderr


def test_overflow_arrays_default_scale(tmp_path):
    """10,000 km of points at the arrays' default 1 mm: refused, and the
    suggested scale works."""
    a = pdal_array(300, extent=(1e7, 10.0, 10.0))
    err = api_refused(tmp_path, a, OptionError, "does not fit a 32-bit integer", names=["<arrays>"])
    scale = suggested_scale(str(err))
    out_dir, tmp_dir = folders(tmp_path)
    build_copc(a, out_dir / "ok.copc.laz", scale=scale, temp_dir=tmp_dir)
    assert_holds_arrays(out_dir / "ok.copc.laz", [a], scale=scale)


def test_overflow_merged_scales(tmp_path):
    """A 0.1 mm tile and a 1 cm tile 1,000 km away: the finest scale cannot
    hold both; refused with a scale that can."""
    a = write_las(tmp_path / "fine.las", n=200, scale=0.0001, offset=(500_000.0, 4_000_000.0, 0.0),
                  extent=50.0)
    b = write_las(tmp_path / "coarse.las", n=200, scale=0.01, offset=(1_500_000.0, 4_000_000.0, 0.0))
    line = cli_refused(tmp_path, [a, b], "does not fit a 32-bit integer", names=[a.name, b.name])
    scale = suggested_scale(line)
    out_dir, tmp_dir = folders(tmp_path)
    build_copc([a, b], out_dir / "ok.copc.laz", scale=scale, temp_dir=tmp_dir)
    with laspy.open(out_dir / "ok.copc.laz") as f:
        assert f.header.point_count == 400


def test_overflow_in_a_later_array_of_a_stream(tmp_path):
    """A stream's frame comes from its first array; a later array 10,000 km
    away cannot be stored: refused while reading, nothing left behind."""
    def stream():
        yield pdal_array(20_000, seed=1)
        yield pdal_array(100, seed=2, origin=(1e7, 0.0, 0.0))

    api_refused(tmp_path, stream(), InputError, "do not fit a 32-bit integer", names=["X"],
                memory_budget="1M", page_points=64)


def test_overflow_from_user_offset_suggests_something_that_works(tmp_path):
    a = pdal_array(100, origin=(4e6, 0.0, 0.0))
    err = api_refused(tmp_path, a, OptionError, "does not fit a 32-bit integer", offset=0,
                      scale=0.001)
    text = str(err)
    if "--scale" in text:
        out_dir, tmp_dir = folders(tmp_path)
        build_copc(a, out_dir / "ok.copc.laz", scale=suggested_scale(text), offset=0,
                   temp_dir=tmp_dir)
    else:
        assert "offset" in text.split("does not fit")[1]


# -- bad scales and offsets from the user -------------------------------------------------------
@pytest.mark.parametrize("value", ["0", "=-0.01", "0.01,0,0.01", "nan", "inf", "abc", "0.01,0.01"])
def test_bad_scale_cli(tmp_path, value):
    path = write_las(tmp_path / "a.las", n=100)
    arg = ["--scale" + value] if value.startswith("=") else ["--scale", value]
    cli_refused(tmp_path, [path], "scale", *arg)


@pytest.mark.parametrize("value", ["nan", "=-inf", "1,2"])
def test_bad_offset_cli(tmp_path, value):
    path = write_las(tmp_path / "a.las", n=100)
    arg = ["--offset" + value] if value.startswith("=") else ["--offset", value]
    cli_refused(tmp_path, [path], "offset", *arg)


@pytest.mark.parametrize("scale", [0, -0.01, (0.01, 0.0, 0.01), (0.01, -1.0, 0.01), float("nan"),
                                   float("inf")])
def test_bad_scale_api(tmp_path, scale):
    api_refused(tmp_path, pdal_array(50), OptionError, "scale", scale=scale)
    path = write_las(tmp_path / "a.las", n=100)
    api_refused(tmp_path, path, OptionError, "scale", scale=scale)


# -- inputs far apart ------------------------------------------------------------------------------
@pytest.mark.parametrize("entry", ["cli", "api"])
def test_disjoint_tiles_3000_km_apart_keep_precision(tmp_path, entry):
    """Two 1 mm tiles 3,000 km apart: one frame holds both, every coordinate
    exact at 1 mm (records compared after conversion to the output frame)."""
    a = write_las(tmp_path / "west.las", n=2000, scale=0.001, offset=(100_000.0, 100_000.0, 0.0), seed=1)
    b = write_las(tmp_path / "east.las", n=2000, scale=0.001, offset=(3_100_000.0, 2_100_000.0, 500.0),
                  seed=2)
    out_dir, tmp_dir = folders(tmp_path)
    out = out_dir / "ab.copc.laz"
    if entry == "cli":
        r = run_cli("build", a, b, "-o", out, "--temp-dir", tmp_dir)
        assert r.returncode == 0, r.stderr
    else:
        build_copc([a, b], out, temp_dir=tmp_dir)
    with laspy.open(out) as f:
        assert np.allclose(f.header.scales, 0.001, rtol=0, atol=0)
    assert_holds_files(out, [a, b])
    got = laspy.read(out)
    for p in (a, b):   # real coordinates, at the scale
        src = laspy.read(p)
        mask = np.abs(got.x - src.x.min()) < 10_000
        for axis in "xyz":
            assert np.array_equal(np.sort(np.rint(got[axis][mask] * 1000)),
                                  np.sort(np.rint(src[axis] * 1000)))
    assert listing(tmp_dir) == []


def test_disjoint_arrays_5000_km_apart(tmp_path):
    """Too far apart for 1 mm: refused, suggesting 1 cm; at 1 cm every point
    is kept, and small clusters at both ends make a deep, sparse tree."""
    west = pdal_array(500, seed=1, extent=(2.0, 2.0, 2.0))
    east = pdal_array(500, seed=2, extent=(2.0, 2.0, 2.0), origin=(5e6, 1e6, 0.0))
    err = api_refused(tmp_path, [west, east], OptionError, "does not fit a 32-bit integer")
    scale = suggested_scale(str(err))
    out_dir, tmp_dir = folders(tmp_path)
    out = out_dir / "we.copc.laz"
    summary = build_copc([west, east], out, scale=scale, temp_dir=tmp_dir, leaf_limit=100)
    assert summary.depth >= 10
    assert_holds_arrays(out, [west, east], scale=scale)


# -- NaN and infinite coordinates ---------------------------------------------------------------------
BAD_VALUES = [("X", np.nan, "NaN"), ("Y", np.inf, "infinite"), ("Z", -np.inf, "infinite")]


@pytest.mark.parametrize("dim, value, word", BAD_VALUES)
@pytest.mark.parametrize("shape", ["array", "list", "stream"])
def test_non_finite_coordinates(tmp_path, dim, value, word, shape):
    good = pdal_array(5000, seed=1)
    bad = pdal_array(5000, seed=2)
    bad[dim][1234] = value
    inputs = {"array": bad, "list": [good, bad], "stream": iter([good, bad])}[shape]
    err = api_refused(tmp_path, inputs, InputError, word, names=[f"dimension {dim}"],
                      memory_budget="1M", page_points=64)
    if shape != "list":   # see test_non_finite_coordinates_point_index_in_a_list
        first = 1234 if shape == "array" else 6234
        assert f"the first at point {first:,}" in str(err)


def test_non_finite_coordinates_point_index_in_a_list(tmp_path):
    good = pdal_array(5000, seed=1)
    bad = pdal_array(5000, seed=2)
    bad["X"][1234] = np.nan
    err = api_refused(tmp_path, [good, bad], InputError, "NaN", names=["dimension X"])
    assert "6,234" in str(err) or "array 1" in str(err)


def test_non_finite_coordinates_all_nan(tmp_path):
    a = pdal_array(10)
    a["Z"] = np.nan
    api_refused(tmp_path, a, InputError, "NaN", names=["dimension Z"])


# -- degenerate clouds ---------------------------------------------------------------------------------------
def degenerate(kind: str, n=None) -> np.ndarray:
    n = n or {"identical_1M": 1_000_000, "single": 1, "two": 2, "two_identical": 2}.get(kind, 200_000)
    a = pdal_array(n, seed=3)
    if kind in ("identical_1M", "two_identical"):
        a["X"], a["Y"], a["Z"] = 1000.25, 2000.5, 3.75
    elif kind == "plane_z":
        a["Z"] = 5.0
    elif kind == "plane_x":
        a["X"] = 1000.5
    elif kind == "line":
        a["X"], a["Z"] = 1000.5, 7.0
    return a


@pytest.mark.parametrize("kind", ["identical_1M", "plane_z", "plane_x", "line", "single", "two",
                                  "two_identical"])
def test_degenerate_arrays(tmp_path, kind):
    a = degenerate(kind)
    out_dir, tmp_dir = folders(tmp_path)
    out = out_dir / f"{kind}.copc.laz"
    summary = build_copc(a, out, temp_dir=tmp_dir)
    assert summary.points == len(a)
    assert_holds_arrays(out, [a])
    assert listing(tmp_dir) == []


@pytest.mark.parametrize("kind", ["identical_1M", "plane_z", "plane_x"])
def test_degenerate_arrays_small_budget_same_bytes(tmp_path, kind):
    a = degenerate(kind, 300_000)   # identical points: a root too big for 4M, sorted externally
    out_dir, tmp_dir = folders(tmp_path)
    big, small = out_dir / "big.copc.laz", out_dir / "small.copc.laz"
    build_copc(a, big, temp_dir=tmp_dir)
    build_copc(a, small, temp_dir=tmp_dir, memory_budget="4M", page_points=1024)
    assert small.read_bytes() == big.read_bytes()
    assert listing(tmp_dir) == []


@pytest.mark.parametrize("kind", ["identical", "plane_z", "plane_x", "single", "two"])
def test_degenerate_las_cli(tmp_path, kind):
    n = {"identical": 100_000, "single": 1, "two": 2}.get(kind, 50_000)
    src = write_las(tmp_path / "src.las", n=n, seed=4)
    las = laspy.read(src)
    if kind == "identical":
        las.X[:] = las.X[0]
        las.Y[:] = las.Y[0]
        las.Z[:] = las.Z[0]
    elif kind == "plane_z":
        las.Z[:] = 1234
    elif kind == "plane_x":
        las.X[:] = las.X[0]
    path = tmp_path / f"{kind}.las"
    las.write(str(path))
    out_dir, tmp_dir = folders(tmp_path)
    out = out_dir / f"{kind}.copc.laz"
    r = run_cli("build", path, "-o", out, "--temp-dir", tmp_dir, "--memory-budget", "8M")
    assert r.returncode == 0, r.stderr
    assert_holds_files(out, [path])
    assert listing(tmp_dir) == []


# -- one node of 20 M points under --memory-budget 256M --------------------------------------------------------
def write_pile(path, n: int, chunk: int = 2_000_000, seed: int = 0) -> None:
    """n points on one spot (format 6, varied attributes, many GPS-time ties)."""
    rng = np.random.default_rng(seed)
    header = laspy.LasHeader(point_format=6, version="1.4")
    header.scales = np.array([0.01, 0.01, 0.01])
    header.offsets = np.array([1000.0, 2000.0, 0.0])
    with laspy.open(str(path), mode="w", header=header) as w:
        done = 0
        while done < n:
            k = min(chunk, n - done)
            pts = laspy.ScaleAwarePointRecord.zeros(k, header=header)
            pts.array["X"], pts.array["Y"], pts.array["Z"] = 500, 700, 300
            pts.array["intensity"] = rng.integers(0, 65535, k)
            pts.array["gps_time"] = rng.integers(0, 100_000, k) / 10.0
            pts.array["classification"] = rng.integers(0, 10, k)
            pts.array["bit_fields"] = rng.integers(0, 256, k)
            w.write_points(pts)
            done += k


_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5],
                np.uint64)


def multiset_fingerprint(chunks) -> tuple:
    """(count, order-independent 64-bit sums) of 30-byte records."""
    total = 0
    s1 = np.uint64(0)
    s2 = np.uint64(0)
    with np.errstate(over="ignore"):
        for raw in chunks:
            raw = np.ascontiguousarray(raw).view(np.uint8).reshape(len(raw), -1)[:, :30]
            padded = np.zeros((len(raw), 32), np.uint8)
            padded[:, :30] = raw
            words = padded.view(np.uint64)
            h = (words * _MIX).sum(axis=1, dtype=np.uint64)
            h ^= h >> np.uint64(29)
            h *= np.uint64(0xBF58476D1CE4E5B9)
            h ^= h >> np.uint64(32)
            s1 += h.sum(dtype=np.uint64)
            s2 += (h * h).sum(dtype=np.uint64)
            total += len(raw)
    return total, int(s1), int(s2)


def las_chunks(path, n=2_000_000):
    with laspy.open(str(path)) as f:
        for pts in f.chunk_iterator(n):
            yield pts.array


# Started by a small launcher process: a child forked straight from pytest
# (which holds QGIS) would inherit pytest's resident size as its peak.
_LAUNCHER = """
import json, os, subprocess, sys, time
t0 = time.monotonic()
p = subprocess.Popen(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=open(sys.argv[1], "wb"))
_, status, usage = os.wait4(p.pid, 0)
print(json.dumps([os.waitstatus_to_exitcode(status), time.monotonic() - t0, usage.ru_maxrss * 1024]))
"""


def run_measured(args, log):
    """Run the command line; (returncode, stderr, seconds, peak RSS bytes) of that child alone
    (resource usage from wait4 on the child)."""
    import json

    r = subprocess.run([sys.executable, "-c", _LAUNCHER, str(log), sys.executable, "-m", "copc_builder",
                        *map(str, args)], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    code, seconds, peak = json.loads(r.stdout)
    return code, Path(log).read_text("utf-8", "replace"), seconds, peak


@pytest.mark.slow
def test_single_node_of_20M_points_under_256M(tmp_path, capsys):
    n = 20_000_000
    src = tmp_path / "pile.las"
    write_pile(src, n)
    out_dir, tmp_dir = folders(tmp_path)
    # What the process costs before holding any point (Python, numba, laspy, lazrs).
    tiny = write_las(tmp_path / "tiny.las", n=10)
    _, _, _, baseline = run_measured(["build", tiny, "-o", out_dir / "tiny.copc.laz"],
                                     tmp_path / "tiny.log")
    out = out_dir / "pile.copc.laz"
    code, stderr, seconds, peak = run_measured(
        ["build", src, "-o", out, "--memory-budget", "256M", "--temp-dir", tmp_dir, "--progress", "plain"],
        tmp_path / "pile.log")
    assert code == 0, stderr[-3000:]
    with capsys.disabled():
        print(f"\n20 M points on one spot, --memory-budget 256M: {seconds:.1f} s, peak RSS "
              f"{peak / 2**20:.0f} MiB (a 10-point build: {baseline / 2**20:.0f} MiB)")
    assert listing(tmp_dir) == []
    assert peak - baseline < 2 * 256 * 2**20, f"peak RSS {peak / 2**20:.0f} MiB"
    with laspy.open(out) as f:
        assert f.header.point_count == n
    from copc_parse import parse_copc

    copc = parse_copc(out, decode=False)
    assert [node.key for node in copc.nodes] == [(0, 0, 0, 0)]
    assert multiset_fingerprint(las_chunks(out)) == multiset_fingerprint(las_chunks(src))


def test_points_beyond_a_lying_header_that_do_not_fit_the_output_frame(tmp_path):
    """A header whose bounds leave out points 10,000 km away, built at a finer
    scale than its own (so every point is re-quantized): the points that do
    not fit a 32-bit integer in the output's frame are refused, naming the
    file and the dimension, and nothing is left behind."""
    src = write_las(tmp_path / "liar.las", n=400, scale=0.01)
    las = laspy.read(src)
    x = np.array(las.x)
    x[::7] += 1e7
    las.x = x
    las.write(src)
    with open(src, "r+b") as f:   # the header's max X (LAS 1.2, offset 179) back to the tile's
        f.seek(179)
        f.write(np.float64(x[1::7].max()).tobytes())
    api_refused(tmp_path, [src], InputError, "do not fit a 32-bit integer", names=[src.name, "X values"],
                scale=0.001)

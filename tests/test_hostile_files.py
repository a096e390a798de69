"""Hostile LAS/LAZ files (issue 6): empty, lying headers, truncated,
undecodable, not LAS at all, corrupt VLRs.  Through the command line and the
API, each ends in a valid COPC holding every input point exactly once, or in
one clear error naming the file, with nothing left behind."""
from __future__ import annotations

import shutil
import struct
from pathlib import Path

import laspy
import numpy as np
import pytest

from copc_builder import InputError, build_copc
from fixtures import patch, write_las
from hostile_helpers import (api_refused, assert_holds_files, cli_refused, folders, listing,
                             run_cli)

LEGACY_COUNT = 107      # u32, LAS 1.0-1.4
COUNT_14 = 247          # u64, LAS 1.4
BOUNDS = 179            # max x, min x, max y, min y, max z, min z (f8)


def refused_both(tmp_path, path, problem, names=None, **api):
    """Refused on the command line (no output) and by the API (an existing output kept)."""
    names = [Path(path).name] if names is None else names
    line = cli_refused(tmp_path, [path], problem, names=names)
    api_refused(tmp_path, path, InputError, problem, names=names, **api)
    return line


def converted_both(tmp_path, paths, expected_paths, warning=None, **api):
    """Converted on the command line and by the API, every point once."""
    out_dir, tmp_dir = folders(tmp_path)
    out = out_dir / "cli.copc.laz"
    r = run_cli("build", *paths, "-o", out, "--temp-dir", tmp_dir, "--progress", "plain")
    assert r.returncode == 0, r.stderr
    if warning:
        assert warning in r.stderr, r.stderr
    assert_holds_files(out, expected_paths)
    out2 = out_dir / "api.copc.laz"
    summary = build_copc([str(p) for p in paths], out2, temp_dir=tmp_dir, **api)
    if warning:
        assert any(warning in w for w in summary.warnings), summary.warnings
    assert_holds_files(out2, expected_paths)
    assert listing(tmp_dir) == []
    assert listing(out_dir) == ["api.copc.laz", "cli.copc.laz"]
    return summary


# -- empty -----------------------------------------------------------------------
@pytest.mark.parametrize("name", ["empty.las", "empty.laz"])
def test_empty_file(tmp_path, name):
    path = write_las(tmp_path / name, n=0)
    refused_both(tmp_path, path, "holds no points")


def test_zero_byte_file(tmp_path):
    path = tmp_path / "nothing.laz"
    path.write_bytes(b"")
    refused_both(tmp_path, path, "not a LAS/LAZ file")


def test_empty_file_among_good_ones(tmp_path):
    good = write_las(tmp_path / "good.las", n=300)
    empty = write_las(tmp_path / "empty.las", n=0)
    cli_refused(tmp_path, [good, empty], "holds no points", names=["empty.las"])
    api_refused(tmp_path, [good, empty], InputError, "holds no points", names=["empty.las"])


# -- header counts that lie --------------------------------------------------------
@pytest.mark.parametrize("point_format, offset, fmt", [(3, LEGACY_COUNT, "I"), (6, COUNT_14, "Q")])
def test_las_header_count_larger(tmp_path, point_format, offset, fmt):
    path = patch(write_las(tmp_path / "short.las", n=100, point_format=point_format), offset, fmt, 1065)
    refused_both(tmp_path, path, "header says 1,065 points, file holds 100")


@pytest.mark.parametrize("point_format, offset, fmt", [(3, LEGACY_COUNT, "I"), (6, COUNT_14, "Q")])
@pytest.mark.parametrize("claimed", [60, 0])
def test_las_header_count_smaller_converts_all(tmp_path, point_format, offset, fmt, claimed):
    """The design: a LAS holding more points than its header says is converted
    whole, with a warning."""
    original = write_las(tmp_path / "original.las", n=100, point_format=point_format)
    path = tmp_path / "long.las"
    shutil.copy(original, path)
    patch(path, offset, fmt, claimed)
    converted_both(tmp_path, [path], [original],
                   warning=f"header says {claimed} points, file holds 100")


def test_las_header_count_smaller_with_evlrs(tmp_path):
    """The points end where the EVLRs begin: the EVLR bytes are not points."""
    from laspy.vlrs.vlrlist import VLRList

    original = write_las(tmp_path / "original.las", n=100, point_format=6)
    las = laspy.read(original)
    las.evlrs = VLRList([laspy.VLR("hostile", 1, "30 records worth of bytes", b"\x07" * 900)])
    las.write(str(tmp_path / "with_evlr.las"))
    path = patch(tmp_path / "with_evlr.las", COUNT_14, "Q", 40)
    converted_both(tmp_path, [path], [original], warning="header says 40 points, file holds 100")


def variable_chunk_laz(tmp_path: Path, n: int = 3000) -> Path:
    """A LAZ with variable-size chunks (their counts in the chunk table): a COPC."""
    src = write_las(tmp_path / "src.las", n=n, point_format=6, seed=5)
    out = tmp_path / "variable.laz"
    build_copc(src, out, leaf_limit=500)
    return out


@pytest.mark.parametrize("claimed, problem", [
    (2000, "header says 2,000 points, its LAZ chunk table holds 3,000"),
    (4000, "header says 4,000 points, its LAZ chunk table holds 3,000"),
])
def test_laz_variable_chunks_header_count_wrong(tmp_path, claimed, problem):
    path = patch(variable_chunk_laz(tmp_path), COUNT_14, "Q", claimed)
    refused_both(tmp_path, path, problem)


def test_laz_fixed_chunks_header_count_larger(tmp_path):
    """One 50,000-point chunk holding 100 points, header says 140: lazrs runs
    out of data."""
    path = patch(write_las(tmp_path / "short.laz", n=100), LEGACY_COUNT, "I", 140)
    refused_both(tmp_path, path, ("header says 140 points", "cannot decode"))


def test_laz_fixed_chunks_header_count_beyond_the_chunk_table(tmp_path):
    path = patch(write_las(tmp_path / "short.laz", n=100), LEGACY_COUNT, "I", 50_001)
    refused_both(tmp_path, path, "header says 50,001 points, its LAZ chunk table holds 1 to 50,000")


@pytest.mark.slow
def test_laz_fixed_chunks_header_count_a_chunk_short(tmp_path):
    """Three 50,000-point chunks, header says 60,000: the table shows it."""
    path = patch(write_las(tmp_path / "long.laz", n=120_000, point_format=6), COUNT_14, "Q", 60_000)
    refused_both(tmp_path, path, "header says 60,000 points, its LAZ chunk table holds 100,001 to 150,000")


def test_laz_fixed_chunks_header_count_smaller_in_last_chunk(tmp_path):
    original = write_las(tmp_path / "original.laz", n=5000, point_format=6)
    path = tmp_path / "long.laz"
    shutil.copy(original, path)
    patch(path, COUNT_14, "Q", 3000)
    out_dir, tmp_dir = folders(tmp_path)
    try:
        summary = build_copc(path, out_dir / "x.copc.laz", temp_dir=tmp_dir)
    except InputError as exc:   # refusing is fine too
        assert "long.laz" in str(exc) and "3,000" in str(exc)
        return
    assert summary.points == 5000, f"{5000 - summary.points} points silently dropped"
    assert_holds_files(out_dir / "x.copc.laz", [original])
    assert listing(tmp_dir) == []


# -- header bounds that lie ----------------------------------------------------------
def bounds_of(path):
    with laspy.open(path) as f:
        return f.header.mins.copy(), f.header.maxs.copy()


@pytest.mark.parametrize("how", ["shrunk", "elsewhere", "nan", "inverted", "huge"])
def test_points_outside_header_bounds(tmp_path, how):
    original = write_las(tmp_path / "original.las", n=3000)
    lo, hi = bounds_of(original)
    fake = {
        "shrunk": (lo + 1, lo + 5),
        "elsewhere": (lo + 10_000, hi + 10_000),
        "nan": (np.full(3, np.nan), np.full(3, np.nan)),
        "inverted": (hi, lo),
        "huge": (lo - 1e7, hi + 1e7),
    }[how]
    path = tmp_path / "lying.las"
    shutil.copy(original, path)
    (mn, mx) = fake
    patch(path, BOUNDS, "6d", mx[0], mn[0], mx[1], mn[1], mx[2], mn[2])
    converted_both(tmp_path, [path], [original])


@pytest.mark.parametrize("how", ["shrunk", "elsewhere"])
def test_points_outside_header_bounds_out_of_core(tmp_path, how):
    """A budget small enough that points are bucketed by the headers' cube
    before the real bounds are known."""
    original = write_las(tmp_path / "original.laz", n=120_000, point_format=6, seed=2)
    lo, hi = bounds_of(original)
    mn, mx = (lo + 1, lo + 5) if how == "shrunk" else (lo + 300, hi + 300)
    path = tmp_path / "lying.laz"
    shutil.copy(original, path)
    patch(path, BOUNDS, "6d", mx[0], mn[0], mx[1], mn[1], mx[2], mn[2])
    out_dir, tmp_dir = folders(tmp_path)
    out = out_dir / "small.copc.laz"
    summary = build_copc(path, out, temp_dir=tmp_dir, memory_budget="6M", page_points=4096,
                         leaf_limit=5000)
    assert summary.stats["bucket_level"] > 0 and summary.stats["spilled_pages"] > 0
    assert_holds_files(out, [original])
    ref = out_dir / "big.copc.laz"
    build_copc(path, ref, temp_dir=tmp_dir, leaf_limit=5000)
    assert out.read_bytes() == ref.read_bytes()
    assert listing(tmp_dir) == []


# -- truncated and undecodable LAZ ------------------------------------------------------
def laz_with_points_at(tmp_path, point_format):
    path = write_las(tmp_path / f"full{point_format}.laz", n=5000, point_format=point_format)
    with laspy.open(path) as f:
        start = f.header.offset_to_point_data
    return path, start, path.stat().st_size


# where: (name, cut offset from (start of point data, file size))
CUTS = {
    "in_header": lambda start, size: 50,
    "end_of_header": lambda start, size: 200,
    "in_vlrs": lambda start, size: start - 20,
    "in_chunk_table_offset": lambda start, size: start + 4,
    "in_first_chunk": lambda start, size: start + 40,
    "in_point_data": lambda start, size: (start + size) // 2,
    "in_chunk_table": lambda start, size: size - 12,
    "last_byte": lambda start, size: size - 1,
}


@pytest.mark.parametrize("point_format", [3, 6])
@pytest.mark.parametrize("where", list(CUTS))
def test_truncated_laz(tmp_path, point_format, where):
    full, start, size = laz_with_points_at(tmp_path, point_format)
    cut = CUTS[where](start, size)
    path = tmp_path / "cut.laz"
    path.write_bytes(full.read_bytes()[:cut])
    full.unlink()
    refused_both(tmp_path, path, ("truncated", "too small", "too short", "unreadable LAS header",
                                  "damaged LAS header"))


@pytest.mark.parametrize("where", ["in_vlrs", "in_point_data"])
def test_truncated_las(tmp_path, where):
    full = write_las(tmp_path / "full.las", n=5000, point_format=6)
    with laspy.open(full) as f:
        start = f.header.offset_to_point_data
    cut = start - 20 if where == "in_vlrs" else start + 30 * 2500 + 7
    path = tmp_path / "cut.las"
    path.write_bytes(full.read_bytes()[:cut])
    full.unlink()
    problem = "header says 5,000 points, file holds " + ("0" if where == "in_vlrs" else "2,500")
    refused_both(tmp_path, path, (problem, "truncated", "unreadable LAS header", "damaged LAS header"))


def test_laz_lazrs_cannot_decode_old_compressor(tmp_path):
    """The laszip VLR says point-wise compression without chunks (LASzip 1.x)."""
    path = write_las(tmp_path / "old.laz", n=500)
    data = bytearray(path.read_bytes())
    record = data.find(b"laszip encoded") - 2 + 54
    struct.pack_into("<H", data, record, 1)          # compressor: point-wise
    struct.pack_into("<I", data, record + 12, 0)     # chunk size 0
    path.write_bytes(bytes(data))
    line = refused_both(tmp_path, path, "which lazrs cannot decode")
    assert "which lazrs cannot decode" in line, line


def test_laz_garbage_in_point_data(tmp_path):
    """Layered LAZ (format 6) whose first chunk's bytes are overwritten: the
    layer sizes no longer match and lazrs fails."""
    path, start, size = laz_with_points_at(tmp_path, 6)
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(1)
    data[start + 100:start + 2100] = rng.integers(0, 256, 2000, dtype=np.uint8).tobytes()
    bad = tmp_path / "garbled.laz"
    bad.write_bytes(bytes(data))
    refused_both(tmp_path, bad, "cannot decode")


def test_laz_garbage_laszip_vlr_items(tmp_path):
    """The laszip VLR's item list says items that do not make the record."""
    path = write_las(tmp_path / "items.laz", n=500, point_format=6)
    data = bytearray(path.read_bytes())
    record = data.find(b"laszip encoded") - 2 + 54
    struct.pack_into("<H", data, record + 32, 5)      # number of items
    for k in range(5):
        struct.pack_into("<HHH", data, record + 34 + 6 * k, 99, 7, 2)
    path.write_bytes(bytes(data))
    refused_both(tmp_path, path, ("laszip", "cannot decode", "damaged", "unreadable", "truncated"))


# -- not LAS at all ------------------------------------------------------------------------
@pytest.mark.parametrize("head, problem", [
    (b"", "not a LAS/LAZ file"),
    (b"LASF", ("unreadable LAS header", "damaged LAS header", "not a LAS/LAZ file")),
])
def test_random_bytes_named_laz(tmp_path, head, problem):
    path = tmp_path / "noise.laz"
    rng = np.random.default_rng(3)
    path.write_bytes(head + rng.integers(0, 256, 20_000, dtype=np.uint8).tobytes())
    refused_both(tmp_path, path, problem)


def test_a_folder_as_input(tmp_path):
    folder = tmp_path / "tiles.laz"
    folder.mkdir()
    refused_both(tmp_path, folder, "is a folder")


# -- corrupt VLR headers ------------------------------------------------------------------------
def las_with_vlrs(tmp_path):
    path = write_las(tmp_path / "crs.las", n=500, crs="EPSG:25832")
    header_size = struct.unpack_from("<H", path.read_bytes(), 94)[0]
    return path, header_size


def test_vlr_length_past_the_point_data(tmp_path):
    """The first VLR says 60,000 bytes, running through the point data and past
    the end of the file: refused, or (laspy reads VLRs only up to the point
    data) converted with every point."""
    original, at = las_with_vlrs(tmp_path)
    path = tmp_path / "vlr_len.las"
    shutil.copy(original, path)
    patch(path, at + 20, "H", 60_000)
    out_dir, tmp_dir = folders(tmp_path)
    r = run_cli("build", path, "-o", out_dir / "x.copc.laz", "--temp-dir", tmp_dir)
    if r.returncode != 0:
        refused_both(tmp_path, path, "VLR")
    else:
        assert_holds_files(out_dir / "x.copc.laz", [original])
        summary = build_copc(path, out_dir / "y.copc.laz", temp_dir=tmp_dir)
        assert summary.points == 500
        assert_holds_files(out_dir / "y.copc.laz", [original])
    assert listing(tmp_dir) == []


@pytest.mark.parametrize("how", ["user_id", "whole_header"])
def test_vlr_header_garbage(tmp_path, how):
    original, at = las_with_vlrs(tmp_path)
    path = tmp_path / "vlr_garbage.las"
    data = bytearray(original.read_bytes())
    if how == "user_id":
        data[at + 2:at + 18] = b"\xff" * 16
    else:
        data[at:at + 54] = np.random.default_rng(4).integers(0, 256, 54, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))
    refused_both(tmp_path, path, ("unreadable LAS header or VLRs", "damaged LAS header", "VLR"))


def test_vlr_count_past_the_point_data(tmp_path):
    """The header says 50 VLRs; two are there, then the point data."""
    original, _ = las_with_vlrs(tmp_path)
    path = tmp_path / "vlr_count.las"
    shutil.copy(original, path)
    patch(path, 100, "I", 50)
    refused_both(tmp_path, path, ("VLRs cannot fit", "unreadable LAS header or VLRs"))


def test_point_data_offset_past_the_end(tmp_path):
    original, _ = las_with_vlrs(tmp_path)
    path = tmp_path / "offset.las"
    shutil.copy(original, path)
    patch(path, 96, "I", original.stat().st_size + 1000)
    refused_both(tmp_path, path, ("header says 500 points, file holds 0", "past the end of the file"))


def test_point_data_offset_inside_the_header(tmp_path):
    original, _ = las_with_vlrs(tmp_path)
    path = tmp_path / "offset.las"
    shutil.copy(original, path)
    patch(path, 96, "I", 10)
    refused_both(tmp_path, path, ("unreadable LAS header or VLRs", "damaged LAS header"))


# -- header frames that cannot be true ----------------------------------------------------------------
SCALES = 131            # x, y, z scale (f8)
OFFSETS = 155           # x, y, z offset (f8)


@pytest.mark.parametrize("value", [0.0, -0.01, float("nan")])
def test_header_scale_not_positive(tmp_path, value):
    path = patch(write_las(tmp_path / "scale.las", n=300), SCALES + 8, "d", value)
    refused_both(tmp_path, path, "scale")


def test_header_offset_not_finite(tmp_path):
    path = patch(write_las(tmp_path / "offset.las", n=300), OFFSETS, "d", float("nan"))
    refused_both(tmp_path, path, "offset")


def test_header_scale_absurdly_small(tmp_path):
    path = patch(write_las(tmp_path / "tiny_scale.las", n=300), SCALES, "d", 1e-300)
    refused_both(tmp_path, path, ("scale", "32-bit"))


def test_full_int32_range_converts(tmp_path):
    """Raw coordinates at both ends of int32: kept exactly, cube encloses them."""
    src = write_las(tmp_path / "src.las", n=1000)
    las = laspy.read(src)
    las.X[0], las.X[1], las.Y[2], las.Z[3] = -2 ** 31, 2 ** 31 - 1, -2 ** 31, 2 ** 31 - 1
    path = tmp_path / "extremes.las"
    las.write(str(path))
    converted_both(tmp_path, [path], [path], memory_budget="1M", page_points=64, leaf_limit=50)

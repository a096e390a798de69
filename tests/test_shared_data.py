"""Every readable LAS/LAZ file in ../shared/data converts into a valid COPC
holding every input point exactly once, checked by readers we did not write."""
from __future__ import annotations

import os
import subprocess
import sys
import laspy
import numpy as np
import pytest

from conftest import SHARED_DATA
from copc_builder import build_copc, validate_copc
from js_readers import assert_read_completely, copcjs_reports, proj4_verdicts
from reference import (check_nodes_contain_points, copc_records, copclib_total, expected_layout,
                       expected_records, extra_ranges_written, raw_range, sorted_rows, wkt_written)

# Inputs that must be refused (tests/test_cli_errors.py checks how).
UNREADABLE = {
    "copcvalidator_bad-ellipsoid.copc.laz",        # corrupt header
    "pdal_las_permutations_1.2-no-points.las",     # header says 1065 points, file holds 0
    "pdal_laz_simple-laszip-compressor-version-1.2r0.laz",  # LASzip 1.2r0: lazrs cannot decode
}
FILES = sorted(p.name for p in SHARED_DATA.glob("*.la[sz]")) if SHARED_DATA.is_dir() else []
READABLE = [f for f in FILES if f not in UNREADABLE]

def check_conversion(paths, output, **options):
    summary = build_copc(paths, output, **options)
    report = validate_copc(output)
    assert report.ok, "\n".join(str(f) for f in report.findings)

    with laspy.open(output) as r:
        header = r.header
    fmt, extra = expected_layout(paths)
    assert header.point_format.id == fmt
    assert [(d.name, int(d.num_bits // 8)) for d in header.point_format.extra_dimensions] == extra
    want = expected_records(paths, fmt, header.scales, header.offsets, extra)
    got = copc_records(output)
    assert got.shape == want.shape, f"{got.shape} points written, {want.shape} expected"
    assert np.array_equal(sorted_rows(got), sorted_rows(want)), "records differ from the input's"

    total, count = copclib_total(output)
    assert total == count == len(want)
    check_nodes_contain_points(output)
    # Points by return add up (return number 0 counts as 1), and the extra
    # bytes' min/max are those of the values written.
    assert sum(header.number_of_points_by_return) == header.point_count == len(want)
    # (Raw stored values, upcast by type: LAS 1.4 R15; no_data and NaN left out.)
    for name, (lo, hi, values, no_data) in extra_ranges_written(output).items():
        want = raw_range(values, no_data)
        if want is not None:      # else the input's descriptor is kept as it was
            assert lo.dtype == want[0].dtype and lo.tobytes() == want[0].tobytes(), (name, lo, want[0])
            assert hi.tobytes() == want[1].tobytes(), (name, hi, want[1])
    return summary


# Every readable file built again in one separate process with one thread, so
# that lazrs's thread pool (sized once per process) runs single-threaded too.
_ONE_THREAD = """
import sys
from pathlib import Path
from copc_builder import build_copc
out = Path(sys.argv[1])
for src in sys.argv[2:]:
    build_copc([src], str(out / (Path(src).name + ".copc.laz")), leaf_limit=5_000, threads=1)
"""


@pytest.fixture(scope="module")
def one_thread_outputs(tmp_path_factory):
    out = tmp_path_factory.mktemp("one_thread")
    subprocess.run([sys.executable, "-c", _ONE_THREAD, str(out),
                    *(str(SHARED_DATA / n) for n in READABLE)], check=True, timeout=1200)
    return out


@pytest.mark.skipif(not READABLE, reason="../shared/data not present")
@pytest.mark.parametrize("name", READABLE)
def test_each_file_converts(name, tmp_path, one_thread_outputs):
    out = tmp_path / "out.copc.laz"
    summary = check_conversion([str(SHARED_DATA / name)], str(out), leaf_limit=5_000)
    first = out.read_bytes()
    # Same input, same bytes: another run at one thread (not all cores), and the spill path.
    assert (one_thread_outputs / (name + ".copc.laz")).read_bytes() == first
    if summary.points > 20_000:
        build_copc([str(SHARED_DATA / name)], str(tmp_path / "spill.copc.laz"), leaf_limit=5_000,
                   memory_budget="1M", page_points=512)
        assert (tmp_path / "spill.copc.laz").read_bytes() == first
    assert sorted(os.listdir(tmp_path)) == sorted(
        ["out.copc.laz"] + (["spill.copc.laz"] if summary.points > 20_000 else []))


@pytest.fixture(scope="module")
def copcjs_read(one_thread_outputs):
    """copc.js's reports on every output, read in one node process.  The
    one-thread outputs are byte for byte the outputs (test_each_file_converts)."""
    return copcjs_reports(one_thread_outputs / (n + ".copc.laz") for n in READABLE)


@pytest.mark.skipif(not READABLE, reason="../shared/data not present")
@pytest.mark.parametrize("name", READABLE)
def test_copcjs_reads_every_output(name, one_thread_outputs, copcjs_read):
    """The npm copc package reads every output as a viewer does: Copc.create,
    every hierarchy page, loadPointDataView on every node, every dimension of
    every point; as many points as the header says."""
    out = one_thread_outputs / (name + ".copc.laz")
    assert_read_completely(out, copcjs_read[str(out)])


@pytest.mark.skipif(not READABLE, reason="../shared/data not present")
def test_wkt_is_read_by_proj4js(tmp_path):
    """Every output of an input with a CRS has a WKT proj4js can read (copc.js, copc-validator)."""
    wkts = {}
    for name in READABLE:
        if _crs_key(SHARED_DATA / name) is None:
            continue
        out = tmp_path / (name + ".copc.laz")
        build_copc([str(SHARED_DATA / name)], str(out))
        wkts[name] = wkt_written(out)
        out.unlink()
    assert len(wkts) >= 15 and all(wkts.values())
    verdicts = proj4_verdicts(wkts)
    assert {n: v for n, v in verdicts.items() if v != "ok"} == {}


def _crs_key(path):
    with laspy.open(path) as r:
        try:
            crs = r.header.parse_crs()
        except Exception:
            crs = None
    return crs.to_wkt() if crs is not None else None


@pytest.mark.skipif(not READABLE, reason="../shared/data not present")
def test_files_without_crs_merge(tmp_path):
    """The inputs with no CRS that can share one integer grid merge into one COPC.

    Compatible: same extra-dimension types, and the union of their extents
    fits 32-bit integers at the finest of their scales (random-coordinate
    test files cannot share a grid with anything).
    """
    group = [str(SHARED_DATA / n) for n in READABLE if _crs_key(SHARED_DATA / n) is None]
    dims_seen, merged = {}, []
    lo = np.full(3, np.inf)
    hi = np.full(3, -np.inf)
    finest = np.full(3, np.inf)
    for p in group:
        las = laspy.read(p)
        dims = {d.name: str(d.dtype) for d in las.header.point_format.extra_dimensions}
        if any(dims_seen.get(k, v) != v for k, v in dims.items()):
            continue
        xyz = np.stack([las.x, las.y, las.z], axis=1)
        new_lo, new_hi = np.minimum(lo, xyz.min(axis=0)), np.maximum(hi, xyz.max(axis=0))
        new_finest = np.minimum(finest, las.header.scales)
        if np.any((new_hi - new_lo) / new_finest > 2.0 ** 31):
            continue
        dims_seen.update(dims)
        merged.append(p)
        lo, hi, finest = new_lo, new_hi, new_finest
    assert len(merged) >= 10
    summary = check_conversion(merged, str(tmp_path / "merged.copc.laz"))
    assert summary.points == sum(laspy.open(p).header.point_count for p in merged)

"""Bad inputs through the command line: exit status != 0, one clear line
naming the file and the problem, no output, no temp files left."""
from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures import write_las

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "copc_builder", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=300)


def assert_refused(tmp_path, inputs, problem, *extra, output=None):
    out_dir = tmp_path / "out"
    tmp_dir = tmp_path / "tmp"
    out_dir.mkdir(exist_ok=True)
    tmp_dir.mkdir(exist_ok=True)
    output = output or out_dir / "result.copc.laz"
    r = run_cli("build", *inputs, "-o", output, "--temp-dir", tmp_dir, "--progress", "plain", *extra)
    assert r.returncode == 1, r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("copc-builder: error:")]
    assert len(errors) == 1, r.stderr
    assert problem in errors[0], errors[0]
    for bad in ("Traceback", "panicked", "numba", "lazrs.", "File \""):
        assert bad not in r.stderr, r.stderr
    assert list(out_dir.iterdir()) == []
    assert list(tmp_dir.iterdir()) == []
    return errors[0]


def test_missing_file(tmp_path):
    line = assert_refused(tmp_path, [tmp_path / "nope.laz"], "file not found")
    assert "nope.laz" in line


def test_empty_file(tmp_path):
    path = write_las(tmp_path / "empty.las", n=0)
    line = assert_refused(tmp_path, [path], "holds no points")
    assert "empty.las" in line


def test_header_claims_more_points(tmp_path):
    path = write_las(tmp_path / "short.las", n=100)
    data = bytearray(path.read_bytes())
    struct.pack_into("<I", data, 107, 1065)   # legacy point count, LAS 1.2
    path.write_bytes(bytes(data))
    line = assert_refused(tmp_path, [path], "header says 1,065 points, file holds 100")
    assert "short.las" in line


def test_laz_lazrs_cannot_decode(tmp_path):
    """A LAZ whose laszip VLR says point-wise compression without chunks."""
    path = write_las(tmp_path / "old.laz", n=500)
    data = bytearray(path.read_bytes())
    at = data.find(b"laszip encoded")
    record = at - 2 + 54     # VLR header is 54 bytes, user id at +2
    struct.pack_into("<H", data, record, 1)          # compressor: point-wise
    struct.pack_into("<I", data, record + 12, 0)     # chunk size 0
    path.write_bytes(bytes(data))
    line = assert_refused(tmp_path, [path], "which lazrs cannot decode")
    assert "old.laz" in line


def test_random_bytes_named_laz(tmp_path):
    path = tmp_path / "noise.laz"
    path.write_bytes(os.urandom(4096))
    assert_refused(tmp_path, [path], "not a LAS/LAZ file")


def test_coordinates_overflow_int32(tmp_path):
    path = write_las(tmp_path / "wide.las", n=200, extent=5_000.0)
    line = assert_refused(tmp_path, [path], "does not fit a 32-bit integer", "--scale", "0.000001")
    assert "--scale" in line


def test_output_folder_missing(tmp_path):
    path = write_las(tmp_path / "ok.las", n=100)
    line = assert_refused(tmp_path, [path], "does not exist",
                          output=tmp_path / "no" / "such" / "dir" / "x.copc.laz")
    assert "x.copc.laz" in line


@pytest.mark.parametrize("name, problem", [
    ("pdal_las_permutations_1.2-no-points.las", "header says 1,065 points, file holds 0"),
    ("pdal_laz_simple-laszip-compressor-version-1.2r0.laz", "which lazrs cannot decode"),
    ("copcvalidator_bad-ellipsoid.copc.laz", "damaged LAS header"),
])
def test_real_bad_files(tmp_path, shared_data, name, problem):
    line = assert_refused(tmp_path, [shared_data / name], problem)
    assert name in line


def test_existing_output_untouched_on_error(tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "keep.copc.laz"
    target.write_bytes(b"previous result")
    r = run_cli("build", tmp_path / "missing.las", "-o", target)
    assert r.returncode == 1
    assert target.read_bytes() == b"previous result"
    assert sorted(p.name for p in out_dir.iterdir()) == ["keep.copc.laz"]

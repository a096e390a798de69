"""Bad inputs through the command line: exit status != 0, one clear line
naming the file and the problem, no output, no temp files left.

(The old LASzip compressor and the int32 overflow at a too-fine --scale are
checked in test_hostile_files.py and test_hostile_geometry.py.)"""
from __future__ import annotations

import numpy as np
import pytest

from fixtures import patch, write_las
from hostile_helpers import cli_refused, folders, listing, run_cli


def refused(tmp_path, inputs, problem, *extra, **kw) -> str:
    """cli_refused, with ``problem`` in the error line exactly as written."""
    line = cli_refused(tmp_path, inputs, problem, *extra, **kw)
    assert problem in line, line
    return line


def test_missing_file(tmp_path):
    refused(tmp_path, [tmp_path / "nope.laz"], "file not found", names=["nope.laz"])


def test_empty_file(tmp_path):
    path = write_las(tmp_path / "empty.las", n=0)
    refused(tmp_path, [path], "holds no points", names=["empty.las"])


def test_header_claims_more_points(tmp_path):
    path = write_las(tmp_path / "short.las", n=100)
    patch(path, 107, "I", 1065)   # legacy point count, LAS 1.2
    refused(tmp_path, [path], "header says 1,065 points, file holds 100", names=["short.las"])


def test_random_bytes_named_laz(tmp_path):
    path = tmp_path / "noise.laz"
    path.write_bytes(np.random.default_rng(5).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    refused(tmp_path, [path], "not a LAS/LAZ file", names=["noise.laz"])


def test_output_folder_missing(tmp_path):
    path = write_las(tmp_path / "ok.las", n=100)
    refused(tmp_path, [path], "does not exist", names=["x.copc.laz"],
            output=tmp_path / "no" / "such" / "dir" / "x.copc.laz")
    assert not (tmp_path / "no").exists()
    assert listing(tmp_path / "out") == []


@pytest.mark.parametrize("name, problem", [
    ("pdal_las_permutations_1.2-no-points.las", "header says 1,065 points, file holds 0"),
    ("pdal_laz_simple-laszip-compressor-version-1.2r0.laz", "which lazrs cannot decode"),
    ("copcvalidator_bad-ellipsoid.copc.laz", "damaged LAS header"),
])
def test_real_bad_files(tmp_path, shared_data, name, problem):
    refused(tmp_path, [shared_data / name], problem, names=[name])


def test_existing_output_untouched_on_error(tmp_path):
    out_dir, _ = folders(tmp_path)
    target = out_dir / "keep.copc.laz"
    target.write_bytes(b"previous result")
    r = run_cli("build", tmp_path / "missing.las", "-o", target)
    assert r.returncode == 1
    assert target.read_bytes() == b"previous result"
    assert listing(out_dir) == ["keep.copc.laz"]

"""Return number 0 (not valid, but real files have it) counts as a first
return in the header, so points by return add up to the point count; the
build warns once per input with the number of such points."""
from __future__ import annotations

import laspy
import numpy as np

from copc_builder import build_copc, validate_copc
from fixtures import write_las


def test_return_zero_counts_as_first_return(tmp_path):
    src = write_las(tmp_path / "zero.las", n=3000, point_format=6, seed=4)
    las = laspy.read(str(src))
    zero = np.arange(len(las.points)) % 3 == 0
    las.return_number = np.where(zero, 0, las.return_number)
    las.write(str(src))
    expected = np.bincount(np.maximum(np.asarray(las.return_number), 1), minlength=16)[1:16]

    summary = build_copc([str(src)], str(tmp_path / "out.copc.laz"))
    header = laspy.open(str(tmp_path / "out.copc.laz")).header
    assert list(header.number_of_points_by_return) == list(expected)
    assert sum(header.number_of_points_by_return) == header.point_count == 3000
    warned = [w for w in summary.warnings if "return number 0" in w]
    assert warned == [f"{src}: {int(zero.sum()):,} points have return number 0, which is not valid; "
                      f"the header counts them as first returns"]
    report = validate_copc(str(tmp_path / "out.copc.laz"))
    assert report.ok, [str(f) for f in report.findings]


def test_no_warning_without_return_zero(tmp_path):
    src = write_las(tmp_path / "fine.las", n=1000, point_format=6)
    summary = build_copc([str(src)], str(tmp_path / "out.copc.laz"))
    assert not [w for w in summary.warnings if "return number 0" in w]

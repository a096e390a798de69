"""copc.js (the npm ``copc`` package, what most web viewers read COPC with)
reads our outputs of generated inputs the whole way a viewer does: every
hierarchy page, every node, every dimension of every point.  Runs with or
without ../shared (tests/test_shared_data.py reads every output of its files
the same way); all files go through one node process."""
from __future__ import annotations

import shutil

import pytest

from copc_builder import build_copc
from fixtures import patch, write_rich
from js_readers import assert_read_completely, copcjs_reports

# name: (write_rich options, build options)
CASES = {
    "format6_paged_hierarchy": (dict(point_format=6, n=40_000), dict(leaf_limit=1_000, hierarchy_page_levels=1)),
    "format7_float_extra": (dict(point_format=7, extra=[("amplitude", "f4"), ("range", "f8")]), {}),
    "format8_integer_extra": (dict(point_format=8, extra=[("echo_id", "u2"), ("deviation", "i1"),
                                                          ("pulse", "u4"), ("ring", "i4")]), {}),
    "format1_legacy": (dict(point_format=1, n=12_000), dict(leaf_limit=2_000)),
    "format3_legacy_rgb": (dict(point_format=3, extra=[("width", "f4")]), {}),
}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """The cases built, two broken copies of the first (a point count one too
    high in the header, no COPC info VLR), and copc.js's reports on all of them."""
    folder = tmp_path_factory.mktemp("copcjs")
    paths = {}
    for i, (name, (las, options)) in enumerate(CASES.items()):
        src = write_rich(folder / f"{name}.las", seed=i, crs="EPSG:2056", **las)
        paths[name] = folder / f"{name}.copc.laz"
        build_copc([str(src)], str(paths[name]), **options)
    first = paths["format6_paged_hierarchy"]
    paths["count_one_too_high"] = folder / "count_one_too_high.copc.laz"
    shutil.copyfile(first, paths["count_one_too_high"])
    patch(paths["count_one_too_high"], 247, "Q", 40_001)   # LAS 1.4 'Number of Point Records'
    paths["no_copc_info"] = folder / "no_copc_info.copc.laz"
    shutil.copyfile(first, paths["no_copc_info"])
    patch(paths["no_copc_info"], 375 + 2, "4s", b"xopc")    # the first VLR's user id
    reports = copcjs_reports(paths.values())
    return {name: (path, reports[str(path)]) for name, path in paths.items()}


@pytest.mark.parametrize("name", list(CASES))
def test_copcjs_reads_every_point(name, outputs):
    path, report = outputs[name]
    assert_read_completely(path, report)


def test_copcjs_follows_hierarchy_sub_pages(outputs):
    _, report = outputs["format6_paged_hierarchy"]
    assert report["pages"] > 1 and report["points"] == 40_000, report


def test_an_incomplete_read_fails(outputs):
    """The check fails on a file copc.js cannot read whole, and one bad file
    does not stop the others being read."""
    path, report = outputs["count_one_too_high"]
    assert report["error"] is None and report["points"] == 40_000 and report["headerPoints"] == 40_001
    with pytest.raises(AssertionError):
        assert_read_completely(path, report)
    path, report = outputs["no_copc_info"]
    assert report["error"] == "COPC info VLR is required" and report["points"] == 0
    with pytest.raises(AssertionError):
        assert_read_completely(path, report)

"""PDAL pipelines as input (needs the pdal package and libpdal; skipped without).

The reference is always the LAS path: the same points written as a LAS file
with laspy and built directly must give the same records.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import laspy
import numpy as np
import pytest

from copc_builder import InputError, build_copc, validate_copc
from conftest import SHARED_DATA
from pdal_helpers import (PDAL_EXTRA, header_of, require_pdal, require_python_filter, rich_las, run_pipeline,
                          write_subset)
from reference import same_points

pytestmark = pytest.mark.pdal
SEVERAL = SHARED_DATA / "pdal_laz_las_with_several_extra_byte_bloc.laz"


def reader(path) -> dict:
    # PDAL reads the extra bytes of LAS 1.0-1.3 files only when asked
    return {"type": "readers.las", "filename": str(path), "use_eb_vlr": True}


@pytest.mark.parametrize("point_format", [1, 8])
def test_range_pipeline_equals_filtered_las(tmp_path, point_format):
    require_pdal()
    src = rich_las(tmp_path / "src.las", point_format)
    las = laspy.read(str(src))
    cls = np.asarray(las.classification)
    z = np.asarray(las.z)
    top = 20 if point_format < 6 else 160
    mask = (cls >= 2) & (cls <= top) & (z >= 410) & (z <= 440)
    filtered = write_subset(src, mask, tmp_path / "filtered.las")

    stages = [reader(src), {"type": "filters.range", "limits": f"Classification[2:{top}],Z[410:440]"}]
    from_pipeline = tmp_path / "pipeline.copc.laz"
    from_las = tmp_path / "las.copc.laz"
    summary = build_copc(json.dumps(stages), from_pipeline)
    build_copc([filtered], from_las)

    assert summary.points == int(mask.sum()) > 1000
    assert validate_copc(from_pipeline).ok
    same_points(from_pipeline, from_las)
    hp, hl = header_of(from_pipeline), header_of(from_las)
    assert hp == hl


@pytest.mark.parametrize("point_format", [1, 8])
def test_reader_only_pipeline_gives_the_same_bytes(tmp_path, point_format):
    """The frame, CRS text, extra-bytes descriptors and header fields come
    from the reader's file, so the COPC is the LAS path's, byte for byte."""
    require_pdal()
    src = rich_las(tmp_path / "src.las", point_format)
    from_pipeline = tmp_path / "pipeline.copc.laz"
    from_las = tmp_path / "las.copc.laz"
    build_copc(json.dumps([reader(src)]), from_pipeline)
    build_copc([src], from_las)
    assert from_pipeline.read_bytes() == from_las.read_bytes()


def check_several_extra_bytes_vlrs(tmp_path, src, first_vlr_bytes: int) -> None:
    """``src`` describes its extra bytes in several Extra Bytes VLRs.  The LAS
    path names them all; PDAL (2.8.4's readers.las) reads the first VLR only,
    so its arrays, and the pipeline's COPC, hold that VLR's dimensions: the
    same records without the others' bytes, the same descriptors for them."""
    require_pdal()
    from reference import copc_descriptors, copc_records, sorted_rows

    from_pipeline = tmp_path / "pipeline.copc.laz"
    from_las = tmp_path / "las.copc.laz"
    build_copc(json.dumps([reader(src)]), from_pipeline)
    build_copc([src], from_las)
    assert validate_copc(from_pipeline).ok and validate_copc(from_las).ok
    via_pdal, via_las = copc_records(str(from_pipeline)), copc_records(str(from_las))
    kept = via_pdal.shape[1]
    assert kept - first_vlr_bytes in (30, 36, 38) and via_las.shape[1] > kept
    assert np.array_equal(sorted_rows(via_pdal), sorted_rows(via_las[:, :kept]))
    pdal_desc, las_desc = copc_descriptors(from_pipeline), copc_descriptors(from_las)
    assert len(las_desc) > len(pdal_desc) and pdal_desc == las_desc[:len(pdal_desc)]


def test_several_extra_bytes_vlrs_through_pdal(tmp_path):
    from fixtures import split_extra_bytes_vlr

    src = split_extra_bytes_vlr(rich_las(tmp_path / "src.las", 8, n=5_000))
    check_several_extra_bytes_vlrs(tmp_path, src, first_vlr_bytes=4)       # amplitude, f4
    with laspy.open(str(tmp_path / "las.copc.laz")) as r:
        assert [(d.name, d.dtype) for d in r.header.point_format.extra_dimensions] == \
            [(name, np.dtype(t)) for name, t in PDAL_EXTRA]


@pytest.mark.skipif(not SEVERAL.is_file(), reason="../shared/data not present")
def test_pdal_file_with_several_extra_bytes_vlrs_through_pdal(tmp_path):
    check_several_extra_bytes_vlrs(tmp_path, SEVERAL, first_vlr_bytes=2)     # Deviation, u2


def test_stream_in_small_chunks(tmp_path):
    require_pdal()
    from copc_builder.algorithms.sources.pdal_pipeline import PipelineSource

    src = rich_las(tmp_path / "src.laz", 8, n=30_000)
    stages = [{"type": "readers.las", "filename": str(src)},
              {"type": "filters.range", "limits": "Intensity[1000:]"}]
    source = PipelineSource(json.dumps(stages), chunk_points=700)
    assert source.streamed
    assert source.info.bounds_kind == "header" and source.info.point_count == 30_000
    sizes = [len(c) for c in source.chunks(700)]
    expected = int((np.asarray(laspy.read(str(src)).intensity) >= 1000).sum())
    assert sum(sizes) == expected
    assert len(sizes) >= 40 and max(sizes) <= 700

    streamed = tmp_path / "streamed.copc.laz"
    whole = tmp_path / "whole.copc.laz"
    summary = build_copc(json.dumps(stages), streamed, chunk_points=700, memory_budget="8M",
                         page_points=2_000)
    build_copc(json.dumps(stages), whole)
    assert summary.points == expected
    assert validate_copc(streamed).ok
    assert streamed.read_bytes() == whole.read_bytes()


def test_stream_and_execute_give_the_same_bytes(tmp_path):
    """PDAL orders fields differently when streaming; extra bytes still come
    in the reader's order."""
    pdal = require_pdal()
    src = rich_las(tmp_path / "src.las", 7)
    streamed = tmp_path / "streamed.copc.laz"
    executed = tmp_path / "executed.copc.laz"
    build_copc(pdal.Pipeline(json.dumps([str(src)])), streamed)
    p = run_pipeline([str(src)])          # executed by the caller: its arrays are used
    build_copc(p, executed)
    assert streamed.read_bytes() == executed.read_bytes()
    assert [d[0] for d in header_of(streamed)["extra"]] == ["amplitude", "echo_id", "deviation"]


def test_not_streamable_pipeline_runs_whole_with_a_warning(tmp_path):
    pdal = require_pdal()
    src = rich_las(tmp_path / "src.las", 6, n=5_000)
    stages = [{"type": "readers.las", "filename": str(src)}, {"type": "filters.sort", "dimension": "Z"}]
    if pdal.Pipeline(json.dumps(stages)).streamable:
        pytest.skip("filters.sort streams in this PDAL")
    out = tmp_path / "sorted.copc.laz"
    summary = build_copc(json.dumps(stages), out)
    assert any("whole cloud is in memory" in w for w in summary.warnings), summary.warnings
    ref = tmp_path / "ref.copc.laz"
    build_copc([src], ref)
    same_points(out, ref)


def test_dimension_invented_by_pdal_becomes_extra_bytes(tmp_path):
    require_pdal()
    src = rich_las(tmp_path / "src.las", 6, n=5_000, extra=False)
    stages = [{"type": "readers.las", "filename": str(src)},
              {"type": "filters.ferry", "dimensions": "Z => HeightCopy"},
              {"type": "filters.assign", "value": "HeightCopy = HeightCopy * 2"},
              {"type": "filters.assign", "value": "UserData = 77 WHERE Classification == 2"}]
    out = tmp_path / "ferry.copc.laz"
    build_copc(json.dumps(stages), out)
    assert validate_copc(out).ok
    las = laspy.read(str(out))
    extra = {d.name: np.dtype(d.dtype) for d in las.point_format.extra_dimensions}
    assert extra == {"HeightCopy": np.dtype("f8")}      # PDAL's type for a ferried dimension
    np.testing.assert_allclose(np.asarray(las["HeightCopy"]), 2 * np.asarray(las.z), rtol=0, atol=1e-9)
    ground = np.asarray(las.classification) == 2
    assert ground.any() and np.all(np.asarray(las.user_data)[ground] == 77)
    # filters.ferry/assign keep X, Y, Z: the reader's frame and CRS are kept
    assert header_of(out)["scales"] == header_of(src)["scales"]
    assert header_of(out)["crs"] == header_of(src)["crs"]


def test_typed_dimension_added_by_filters_python(tmp_path):
    require_python_filter()
    src = rich_las(tmp_path / "src.las", 6, n=3_000, extra=False)
    script = ("import numpy as np\n"
              "def tag(ins, outs):\n"
              "    outs['Tag'] = (ins['Classification'].astype(np.uint16) * 3)\n"
              "    return True\n")
    stages = [{"type": "readers.las", "filename": str(src)},
              {"type": "filters.python", "module": "tagger", "function": "tag", "source": script,
               "add_dimension": "Tag=uint16"}]
    out = tmp_path / "tag.copc.laz"
    summary = build_copc(json.dumps(stages), out)
    assert any("whole cloud is in memory" in w for w in summary.warnings)
    las = laspy.read(str(out))
    assert {d.name: np.dtype(d.dtype) for d in las.point_format.extra_dimensions} == {"Tag": np.dtype("u2")}
    assert np.array_equal(np.asarray(las["Tag"]), np.asarray(las.classification).astype(np.uint16) * 3)


def test_reprojected_pipeline_has_the_new_crs_and_a_degree_scale(tmp_path):
    require_pdal()
    import pyproj

    src = rich_las(tmp_path / "src.las", 6, n=2_000, extra=False)
    stages = [{"type": "readers.las", "filename": str(src)},
              {"type": "filters.reprojection", "out_srs": "EPSG:4326"}]
    out = tmp_path / "wgs84.copc.laz"
    build_copc(json.dumps(stages), out)
    h = header_of(out)
    assert h["crs"].equals(pyproj.CRS.from_epsg(4326), ignore_axis_order=True)
    assert h["scales"][:2] == (1e-7, 1e-7)
    ours = laspy.read(str(out))
    theirs = run_pipeline(stages).arrays[0]
    assert np.allclose(np.sort(np.asarray(ours.x)), np.sort(theirs["X"]), atol=1e-7)
    assert np.allclose(np.sort(np.asarray(ours.y)), np.sort(theirs["Y"]), atol=1e-7)


def test_pipeline_from_a_file_and_a_copc_reader(tmp_path):
    require_pdal()
    src = rich_las(tmp_path / "src.las", 7, n=8_000)
    first = tmp_path / "first.copc.laz"
    build_copc([src], first)
    pipeline = tmp_path / "copc.json"
    pipeline.write_text(json.dumps({"pipeline": [
        {"type": "readers.copc", "filename": str(first)},
        {"type": "filters.range", "limits": "Classification[0:100]"}]}))
    again = tmp_path / "again.copc.laz"
    build_copc(pipeline, again)
    las = laspy.read(str(src))
    ref = tmp_path / "ref.copc.laz"
    build_copc([write_subset(src, np.asarray(las.classification) <= 100, tmp_path / "sub.las")], ref)
    same_points(again, ref)
    assert header_of(again)["offsets"] == header_of(first)["offsets"]


def test_nan_coordinates_from_a_pipeline_named(tmp_path):
    require_pdal()
    csv = tmp_path / "points.csv"
    csv.write_text("X,Y,Z,Intensity\n1,2,3,4\n2,3,nan,5\n3,4,5,6\n")
    out = tmp_path / "nan.copc.laz"
    with pytest.raises(InputError) as err:
        build_copc(json.dumps([str(csv)]), out)
    assert "dimension Z holds NaN" in str(err.value)
    assert "readers.text(points.csv)" in str(err.value)
    assert not out.exists()


def test_error_mid_stream_left_uncaught_exits_cleanly(tmp_path):
    """libpdal aborts a process that exits with a stream still running
    ("FATAL: exception not rethrown"); streams are closed at exit."""
    require_pdal()
    csv = tmp_path / "late_nan.csv"
    rows = ["X,Y,Z"] + [f"{i},{i},{i}" for i in range(3000)]
    rows[2500] = "1,2,nan"
    csv.write_text("\n".join(rows) + "\n")
    code = ("import json, sys\nfrom copc_builder import build_copc\n"
            f"build_copc(json.dumps([{str(csv)!r}]), {str(tmp_path / 'x.copc.laz')!r}, chunk_points=100)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 1, r.stderr
    assert "dimension Z holds NaN" in r.stderr and "at point 2,499" in r.stderr
    assert "FATAL" not in r.stderr


@pytest.mark.parametrize("pipeline,problem", [
    ('[{"type": "readers.las", "filename": "a.las"', "is not valid pipeline JSON"),
    ('[{"type": "readers.las", "filename": "SRC"}, {"type": "filters.nosuch"}]',
     "PDAL has no stage 'filters.nosuch'"),
    ('[{"type": "readers.las", "filename": "missing.las"}]', "Unable to open stream for 'missing.las'"),
    ('[{"type": "readers.las", "filename": "SRC"}, {"type": "filters.range", "limits": "Nope[1:2]"}]',
     "Invalid dimension name in 'limits' option: 'Nope'"),
    ('[]', "the pipeline has no reader"),
])
def test_pdal_errors_name_the_pipeline_and_the_problem(tmp_path, pipeline, problem):
    require_pdal()
    src = rich_las(tmp_path / "src.las", 6, n=100, extra=False)
    pipeline = pipeline.replace("SRC", str(src))
    out = tmp_path / "out.copc.laz"
    with pytest.raises(InputError) as err:
        build_copc(pipeline, out)
    assert problem in str(err.value)
    assert "PDAL pipeline" in str(err.value)
    assert not out.exists()

    r = subprocess.run([sys.executable, "-m", "copc_builder", "build", "--pipeline", pipeline,
                        "-o", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 1, r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("copc-builder: error:")]
    assert len(errors) == 1 and problem in errors[0], r.stderr
    assert "Traceback" not in r.stderr
    assert not out.exists()


def test_cli_pipeline_file_with_las_inputs(tmp_path):
    require_pdal()
    a = rich_las(tmp_path / "a.las", 7, n=4_000, seed=1)
    b = rich_las(tmp_path / "b.las", 7, n=3_000, seed=2)
    pipeline = tmp_path / "b.pipeline"            # any name: --pipeline says what it is
    pipeline.write_text(json.dumps([{"type": "readers.las", "filename": str(b)}]))
    out = tmp_path / "ab.copc.laz"
    r = subprocess.run([sys.executable, "-m", "copc_builder", "build", str(a), "--pipeline",
                        str(pipeline), "-o", str(out), "--progress", "plain"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    ref = tmp_path / "ref.copc.laz"
    build_copc([a, b], ref)
    same_points(out, ref)


_GDAL_ERROR_AFTER = r"""
import ctypes, gc, json, sys
from copc_builder import InputError, build_copc
csv, las, folder = sys.argv[1:4]
cases = [("a NaN mid-stream", [csv]), ("a missing file", [{"type": "readers.las", "filename": "missing.las"}]),
         ("a good pipeline", [las])]
for i, (name, pipeline) in enumerate(cases):
    try:
        build_copc(json.dumps(pipeline), f"{folder}/{i}.copc.laz")
    except InputError:
        pass
    gc.collect()
    maps = open("/proc/self/maps").read().split("\n")
    gdal = ctypes.CDLL(next(line.split()[-1] for line in maps if "libgdal.so" in line))
    gdal.CPLError(3, 1, b"%s", f"GDAL error after {name}".encode())   # 3: CE_Failure
    print("survived", name, flush=True)
"""


def test_gdal_errors_after_a_pipeline_do_not_crash(tmp_path):
    """PDAL leaves GDAL's error handler writing to the log of a pipeline that is
    gone; a GDAL error afterwards (QGIS opening a layer) wrote into freed memory
    and crashed the process (QGIS, or this suite's later QGIS tests)."""
    require_pdal()
    if not os.path.exists("/proc/self/maps"):
        pytest.skip("the check finds PDAL's libgdal in /proc/self/maps (Linux)")
    csv = tmp_path / "nan.csv"
    csv.write_text("X,Y,Z,Intensity\n1,2,3,4\n2,3,nan,5\n3,4,5,6\n")
    las = rich_las(tmp_path / "src.las", 6, n=500, extra=False)
    r = subprocess.run([sys.executable, "-c", _GDAL_ERROR_AFTER, str(csv), str(las), str(tmp_path)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"exit status {r.returncode}: {r.stderr[-2000:]}"
    assert r.stdout.split("\n")[:3] == ["survived a NaN mid-stream", "survived a missing file",
                                        "survived a good pipeline"]

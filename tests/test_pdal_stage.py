"""plugin/pdal_stage.py run by PDAL's filters.python, through the Python API
and the pdal command line (skipped when PDAL or filters.python is missing)."""
from __future__ import annotations

import json
import sys

import laspy
import numpy as np
import pytest

from copc_builder import build_copc, validate_copc
from copc_builder.plugin.pdal_stage import stage_json
from pdal_helpers import (header_of, pdal_cli, require_python_filter, rich_las, run_pdal_cli,
                          run_pipeline, write_subset)
from reference import same_points

pytestmark = pytest.mark.pdal


def test_stage_writes_a_copc_and_passes_points_through(tmp_path):
    require_python_filter()
    src = rich_las(tmp_path / "src.las", 8, n=12_000, extra=False)
    out = tmp_path / "stage.copc.laz"
    upstream = [{"type": "readers.las", "filename": str(src)},
                {"type": "filters.range", "limits": "Classification[0:200]"}]
    p = run_pipeline(upstream + [stage_json(out, memory_budget="64M", threads=1)])
    assert validate_copc(out).ok

    cls = np.asarray(laspy.read(str(src)).classification)
    ref = tmp_path / "ref.copc.laz"
    build_copc([write_subset(src, cls <= 200, tmp_path / "filtered.las")], ref)
    same_points(out, ref)
    assert header_of(out) == header_of(ref)          # the reader's frame and CRS

    # the points leave the stage as they came in
    without = run_pipeline(upstream).arrays[0]
    after = p.arrays[0]
    assert after.dtype == without.dtype and np.array_equal(after, without)
    meta = p.metadata["metadata"]["filters.python"]
    assert meta["copc_builder"] == str(out)


def test_stage_numbers_views_or_refuses_a_second_one(tmp_path):
    require_python_filter()
    src = rich_las(tmp_path / "src.las", 6, n=3_000, extra=False)
    chipped = [{"type": "readers.las", "filename": str(src)}, {"type": "filters.chipper", "capacity": 1000}]
    p = run_pipeline(chipped + [stage_json(tmp_path / "tile_#.copc.laz")])
    tiles = sorted(tmp_path.glob("tile_*.copc.laz"))
    assert len(tiles) == len(p.arrays) >= 3
    assert sum(laspy.open(str(t)).header.point_count for t in tiles) == 3_000
    assert all(validate_copc(t).ok for t in tiles)

    with pytest.raises(RuntimeError) as err:
        run_pipeline(chipped + [stage_json(tmp_path / "one.copc.laz")])
    assert "second point view" in str(err.value) and "filters.merge" in str(err.value)


@pytest.mark.parametrize("pdalargs,problem", [
    ({}, 'pdalargs needs "output"'),
    ({"output": "x.copc.laz", "budget": "1G"}, "unknown pdalargs budget"),
    ({"output": "/no/such/folder/x.copc.laz"}, "does not exist"),
])
def test_stage_bad_pdalargs(tmp_path, pdalargs, problem):
    require_python_filter()
    src = rich_las(tmp_path / "src.las", 6, n=100, extra=False)
    stage = stage_json("unused")
    stage["pdalargs"] = pdalargs
    with pytest.raises(RuntimeError) as err:
        run_pipeline([{"type": "readers.las", "filename": str(src)}, stage])
    assert problem in str(err.value)


def test_stage_errors_release_nothing_twice(tmp_path):
    """pdal-plugins releases an exception that leaves a filters.python
    function twice (its class loses a reference each time, its traceback is
    freed while in use); the stage fails through PDAL instead."""
    require_python_filter()
    from copc_builder.algorithms.common.errors import OptionError, OutputError

    src = rich_las(tmp_path / "src.las", 6, n=100, extra=False)
    before = sys.getrefcount(OptionError), sys.getrefcount(OutputError)
    for args in ({}, {"output": str(tmp_path / "no" / "x.copc.laz")}, {}):
        stage = stage_json("unused")
        stage["pdalargs"] = args
        with pytest.raises(RuntimeError) as err:
            run_pipeline([{"type": "readers.las", "filename": str(src)}, stage])
        assert "copc_builder error:" in str(err.value)
    assert (sys.getrefcount(OptionError), sys.getrefcount(OutputError)) == before


def _cli_python_matches(cli, tmp_path) -> bool:
    """PDAL's embedded Python must be this one's version to load its packages."""
    probe = tmp_path / "probe.json"
    version = tmp_path / "version.txt"
    src = rich_las(tmp_path / "probe.las", 6, n=10, extra=False)
    code = (f"import sys\ndef f(ins, outs):\n    open({str(version)!r}, 'w').write("
            f"'%d.%d' % sys.version_info[:2])\n    return True\n")
    probe.write_text(json.dumps([str(src), {"type": "filters.python", "module": "probe",
                                            "function": "f", "source": code}]))
    r = run_pdal_cli(cli, probe, tmp_path)
    return r.returncode == 0 and version.read_text() == "%d.%d" % sys.version_info[:2]


def test_stage_from_the_pdal_command_line(tmp_path):
    require_python_filter()
    cli = pdal_cli()
    if cli is None:
        pytest.skip("no pdal command line program")
    if not _cli_python_matches(cli, tmp_path):
        pytest.skip("the pdal program embeds another Python than this one")
    src = rich_las(tmp_path / "src.las", 7, n=8_000)
    out = tmp_path / "cli.copc.laz"
    pipeline = tmp_path / "pipeline.json"
    pipeline.write_text(json.dumps({"pipeline": [
        {"type": "readers.las", "filename": str(src)},
        {"type": "filters.range", "limits": "Z[400:445]"},
        stage_json(out, memory_budget="256M"),
        {"type": "writers.las", "filename": str(tmp_path / "after.las")}]}, indent=2))
    r = run_pdal_cli(cli, pipeline, tmp_path)
    assert r.returncode == 0, r.stderr
    assert "copc_builder: wrote" in r.stderr
    assert validate_copc(out).ok
    z = np.asarray(laspy.read(str(src)).z)
    ref = tmp_path / "ref.copc.laz"
    build_copc([write_subset(src, (z >= 400) & (z <= 445), tmp_path / "filtered.las")], ref)
    same_points(out, ref)
    assert laspy.open(str(tmp_path / "after.las")).header.point_count == int(((z >= 400) & (z <= 445)).sum())

    bad = tmp_path / "bad.json"
    stage = stage_json(tmp_path / "nope" / "x.copc.laz")
    bad.write_text(json.dumps([str(src), stage]))
    r = run_pdal_cli(cli, bad, tmp_path)
    assert r.returncode != 0
    assert "copc_builder: error:" in r.stderr and "does not exist" in r.stderr

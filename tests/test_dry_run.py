"""build --dry-run / dry_run(): the plan from headers alone, held against
what the build then does (its summary's stats and the written file)."""
from __future__ import annotations

import json
import os

import pytest

from copc_builder import build_copc
from copc_builder.algorithms.api import copc_info, dry_run
from copc_builder.algorithms.sources.las_file import LasFile
from fixtures import write_las
from hostile_helpers import run_cli


@pytest.fixture(scope="module")
def mid(tmp_path_factory):
    """A mid-size input: at 16M it is built in many units and spills."""
    return write_las(tmp_path_factory.mktemp("mid") / "mid.laz", n=600_000, extent=800.0)


def built(path, out, budget):
    return build_copc(str(path), out, memory_budget=budget)


def no_points_read(monkeypatch):
    def refuse(self, chunk_points):
        raise AssertionError("the dry run read points")
        yield

    monkeypatch.setattr(LasFile, "chunks", refuse)


@pytest.mark.parametrize("budget", ["16M", "2G"])
def test_plan_matches_the_build(mid, tmp_path, monkeypatch, budget):
    with monkeypatch.context() as m:
        no_points_read(m)
        estimate = dry_run(str(mid), tmp_path / "out.copc.laz", memory_budget=budget)
    assert os.listdir(tmp_path) == []                     # nothing written
    summary = built(mid, tmp_path / "out.copc.laz", budget)
    stats = summary.stats
    assert estimate.points == summary.points and estimate.point_format == summary.point_format
    assert (estimate.bucket_level, estimate.units) == (stats["bucket_level"], stats["units"])
    assert estimate.depth == summary.depth
    info = copc_info(tmp_path / "out.copc.laz")
    assert estimate.cube_center == pytest.approx(tuple(info["copc"]["center"]), abs=1e-9)
    assert estimate.cube_halfsize == pytest.approx(info["copc"]["halfsize"])
    assert list(estimate.scale) == info["scale"] and list(estimate.offset) == info["offset"]
    if stats["peak_temp_bytes"] == 0:
        assert estimate.temp_bytes == 0
    else:
        assert estimate.temp_bytes == pytest.approx(stats["peak_temp_bytes"], rel=0.25)
    # The estimate's point data (beyond the runtime) holds at least the store's peak.
    assert estimate.peak_memory - (200 << 20) >= stats["peak_store_bytes"]


def test_spilling_build_is_expected_to_spill(mid):
    small, big = dry_run(str(mid), memory_budget="16M"), dry_run(str(mid), memory_budget="2G")
    assert small.temp_bytes > 0 and small.units > 1 and small.bucket_level > 0
    assert big.temp_bytes == 0 and big.units == 1 and big.bucket_level == 0
    assert small.peak_memory < big.peak_memory


def test_real_files_by_their_headers(shared_data):
    names = ["lastools_lake.laz", "lastools_test.laz"]
    estimate = dry_run([str(shared_data / n) for n in names], memory_budget="64M", a_srs="EPSG:2056")
    assert estimate.inputs == 2 and estimate.points == 102_622 + 2_690
    assert "CH1903+" in estimate.crs
    assert estimate.depth is not None and estimate.cube_halfsize > 0


def test_command_line_dry_run(mid, tmp_path):
    out = tmp_path / "never.copc.laz"
    r = run_cli("build", mid, "-o", out, "--dry-run", "--memory-budget", "16M")
    assert r.returncode == 0, r.stderr
    for word in ("frame:", "cube:", "depth:", "units", "bucket level:", "temp bytes:", "peak memory:"):
        assert word in r.stdout
    assert not out.exists() and os.listdir(tmp_path) == []
    r = run_cli("build", mid, "--dry-run", "--progress", "json")     # -o optional
    data = json.loads(r.stdout.splitlines()[-1])["dry_run"]
    assert data["points"] == 600_000 and data["bucket_level"] == 0
    r = run_cli("build", mid)
    assert r.returncode == 2 and "-o/--output" in r.stderr

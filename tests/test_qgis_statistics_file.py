"""The QGIS statistics EVLR in built files, checked without QGIS: its values
equal numpy's over the file as laspy decodes it; its bytes do not depend on
threads, memory budget or streamed nodes; with statistics off the output is
what it was; every reader still reads the file."""
from __future__ import annotations

import json

import laspy
import numpy as np
import pytest

from copc_builder import build_copc, validate_copc
from copc_builder.demo import write_sample_scene
from hostile_helpers import run_cli
from reference import copc_records, copclib_total

CLASSIFIED = {"ScannerChannel", "ReturnNumber", "NumberOfReturns", "ScanDirectionFlag", "Classification",
              "EdgeOfFlightLine", "PointSourceId", "Synthetic", "KeyPoint", "Withheld", "Overlap"}
# QGIS attribute name -> laspy dimension name (the value QGIS shows, as numpy computes it below)
LASPY_NAMES = {"X": "x", "Y": "y", "Z": "z", "Intensity": "intensity", "ReturnNumber": "return_number",
               "NumberOfReturns": "number_of_returns", "ScanDirectionFlag": "scan_direction_flag",
               "EdgeOfFlightLine": "edge_of_flight_line", "Classification": "classification",
               "UserData": "user_data", "PointSourceId": "point_source_id", "Synthetic": "synthetic",
               "KeyPoint": "key_point", "Withheld": "withheld", "Overlap": "overlap",
               "ScannerChannel": "scanner_channel", "GpsTime": "gps_time", "Red": "red", "Green": "green",
               "Blue": "blue", "Infrared": "nir"}
EVLR_COUNT_AT = 243     # LAS 1.4 header: number of EVLRs (uint32)


def qgis_evlr(path) -> dict:
    """The JSON of the file's one "qgis"/0 EVLR, read by laspy."""
    las = laspy.read(str(path))
    found = [e for e in las.evlrs if e.user_id == "qgis" and e.record_id == 0]
    assert len(found) == 1, [(e.user_id, e.record_id) for e in las.evlrs]
    return json.loads(bytes(found[0].record_data))


def qgis_values(path) -> dict:
    """Every attribute QGIS shows, as numpy arrays of the values QGIS reads."""
    las = laspy.read(str(path))
    dims = set(las.point_format.dimension_names) | {"x", "y", "z"}     # x, y, z: the scaled X, Y, Z
    out = {name: np.asarray(las[dim]) for name, dim in LASPY_NAMES.items() if dim in dims}
    out["ScanAngleRank"] = np.asarray(las.scan_angle).astype(np.float32) * np.float32(0.006)
    for dim in las.point_format.extra_dimensions:
        if dim.name not in out and dim.num_elements == 1:
            out[dim.name] = np.asarray(las.points.array[dim.name])
    return out


def check_against_numpy(path) -> dict:
    doc = qgis_evlr(path)
    values = qgis_values(path)
    assert doc["sampled-points"] == len(values["X"])
    assert sorted(doc["stats"]) == sorted(values)
    for name, v in values.items():
        stats = doc["stats"][name]
        assert stats["count"] == len(v), name
        v64 = v.astype(np.float64)
        assert (stats["minimum"], stats["maximum"]) == (v64.min(), v64.max()), name
        rel = 1e-6 if name == "ScanAngleRank" else 1e-9      # QGIS's float32 values vs the exact ones
        assert stats["mean"] == pytest.approx(v64.mean(), rel=rel, abs=1e-9), name
        assert stats["standard-deviation"] == pytest.approx(v64.std(), rel=rel, abs=1e-9), name
        if name in CLASSIFIED:
            keys, counts = np.unique(v, return_counts=True)
            assert stats["class-count"] == {str(int(k)): int(c) for k, c in zip(keys, counts)}, name
        else:
            assert stats["class-count"] == {}, name
    return doc


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stats")
    return write_sample_scene(folder / "scene.laz", points=60_000, seed=3)


def test_sample_scene_stats_equal_numpy(scene, tmp_path):
    out = tmp_path / "scene.copc.laz"
    build_copc([scene], out, threads=1)
    doc = check_against_numpy(out)
    assert len(doc["stats"]["Classification"]["class-count"]) > 3
    assert {"Red", "Green", "Blue", "GpsTime"} <= set(doc["stats"])


@pytest.mark.parametrize("name", ["lastools_zurich.laz", "lazrs_extra-bytes.laz", "untwine_eb.laz"])
def test_real_files_stats_equal_numpy(shared_data, tmp_path, name):
    out = tmp_path / "out.copc.laz"
    build_copc([shared_data / name], out)
    check_against_numpy(out)


def test_same_bytes_whatever_threads_and_budget(scene, tmp_path):
    outs = [tmp_path / f"{i}.copc.laz" for i in range(3)]
    build_copc([scene], outs[0], threads=1, leaf_limit=2000)
    build_copc([scene], outs[1], threads=2, leaf_limit=2000)
    build_copc([scene], outs[2], threads=2, leaf_limit=2000, memory_budget="2M", page_points=1024)
    assert outs[0].read_bytes() == outs[1].read_bytes() == outs[2].read_bytes()
    check_against_numpy(outs[2])


def test_streamed_node_same_bytes(tmp_path):
    """A node too big for memory arrives in parts; the statistics are the same."""
    rng = np.random.default_rng(5)
    n = 150_000
    a = np.zeros(n, [("X", "f8"), ("Y", "f8"), ("Z", "f8"), ("Intensity", "u2"), ("GpsTime", "f8"),
                     ("Classification", "u1")])
    a["X"], a["Y"], a["Z"] = 1000.0, 2000.0, 10.0
    a["Intensity"] = rng.integers(0, 5000, n)
    a["GpsTime"] = 4e8 + rng.random(n) * 1e4
    a["Classification"] = rng.integers(0, 20, n)
    small, big = tmp_path / "mem.copc.laz", tmp_path / "stream.copc.laz"
    build_copc(a, small, scale=0.01)
    summary = build_copc(a, big, scale=0.01, memory_budget="2M", page_points=2048)
    assert summary.nodes == 1
    assert big.read_bytes() == small.read_bytes()
    check_against_numpy(big)


def test_statistics_off_is_the_file_without_the_evlr(scene, tmp_path):
    off, on = tmp_path / "off.copc.laz", tmp_path / "on.copc.laz"
    build_copc([scene], off, threads=1, statistics=False)
    build_copc([scene], on, threads=1)
    a, b = off.read_bytes(), on.read_bytes()
    count = int.from_bytes(a[EVLR_COUNT_AT:EVLR_COUNT_AT + 4], "little")
    assert int.from_bytes(b[EVLR_COUNT_AT:EVLR_COUNT_AT + 4], "little") == count + 1
    assert b[:EVLR_COUNT_AT] == a[:EVLR_COUNT_AT] and b[EVLR_COUNT_AT + 4:len(a)] == a[EVLR_COUNT_AT + 4:]
    tail = b[len(a):]
    assert tail[2:18].rstrip(b"\0") == b"qgis" and int.from_bytes(tail[18:20], "little") == 0
    assert int.from_bytes(tail[20:28], "little") == len(tail) - 60
    assert all(e.user_id != "qgis" for e in laspy.read(str(off)).evlrs)


def test_every_reader_reads_the_file(scene, tmp_path):
    out = tmp_path / "scene.copc.laz"
    build_copc([scene], out, threads=1)
    report = validate_copc(out)
    assert report.ok, [f.message for f in report.errors]
    assert not [f for f in report.findings if "qgis" in f.message.lower() or "evlr" in f.message.lower()]
    points = laspy.open(str(scene)).header.point_count
    assert len(copc_records(str(out))) == points
    assert copclib_total(str(out)) == (points, points)


def test_cli_no_statistics(scene, tmp_path):
    out = tmp_path / "cli.copc.laz"
    run = run_cli("build", scene, "-o", out, "--no-statistics", "--threads", "1", "--progress", "plain")
    assert run.returncode == 0, run.stderr
    assert all(e.user_id != "qgis" for e in laspy.read(str(out)).evlrs)
    run = run_cli("validate", out)
    assert run.returncode == 0, run.stdout + run.stderr

"""In real QGIS: a built COPC opens with its statistics already calculated
(QGIS starts no statistics task) and they equal numpy's over the decoded file;
without the EVLR QGIS starts its own task, whose results agree with ours."""
from __future__ import annotations

import json
import time

import numpy as np
import pytest
from qgis.core import QgsApplication, QgsPointCloudLayer, QgsPointCloudStatistics
from qgis.PyQt.QtCore import QByteArray, QCoreApplication

from copc_builder import build_copc
from copc_builder.demo import write_sample_scene
from test_qgis_statistics_file import CLASSIFIED, qgis_evlr, qgis_values

pytestmark = pytest.mark.qgis
State = QgsPointCloudLayer.PointCloudStatisticsCalculationState
INT32_MAX = 2 ** 31 - 1


def statistics_tasks():
    return [t.description() for t in QgsApplication.taskManager().tasks() if "statist" in t.description().lower()]


def open_layer(path) -> QgsPointCloudLayer:
    layer = QgsPointCloudLayer(str(path), "built", "copc")
    assert layer.isValid(), layer.error().summary()
    return layer


def wait_calculated(layer, seconds=120.0) -> None:
    end = time.monotonic() + seconds
    while layer.statisticsCalculationState() != State.Calculated and time.monotonic() < end:
        QCoreApplication.processEvents()
        time.sleep(0.02)
    assert layer.statisticsCalculationState() == State.Calculated


def class_counts(stats, name) -> dict:
    """The class counts QGIS holds (its Python API gives only the classes; the
    counts come back through QGIS's own JSON writer)."""
    counts = json.loads(bytes(stats.toStatisticsJson()))["stats"][name]["class-count"]
    assert sorted(int(k) for k in counts) == sorted(stats.classesOf(name))
    return {int(k): v for k, v in counts.items()}


def assert_layer_stats_equal_numpy(layer, path) -> None:
    stats = layer.statistics()
    values = qgis_values(path)
    assert stats.sampledPointsCount() == len(values["X"])
    for name, v in values.items():
        v64 = v.astype(np.float64)
        assert (stats.minimum(name), stats.maximum(name)) == (v64.min(), v64.max()), name
        rel = 1e-6 if name == "ScanAngleRank" else 1e-9
        assert stats.mean(name) == pytest.approx(v64.mean(), rel=rel, abs=1e-9), name
        assert stats.stDev(name) == pytest.approx(v64.std(), rel=rel, abs=1e-9), name
        keys, counts = np.unique(v, return_counts=True)
        expected = {int(k): int(c) for k, c in zip(keys, counts)} if name in CLASSIFIED else {}
        assert class_counts(stats, name) == expected, name


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    folder = tmp_path_factory.mktemp("qgis-stats")
    return write_sample_scene(folder / "scene.laz", points=40_000, seed=6)


def test_scene_opens_with_exact_statistics(qgis_app, scene, tmp_path):
    out = tmp_path / "scene.copc.laz"
    build_copc([scene], out, threads=1)
    layer = open_layer(out)
    assert layer.statisticsCalculationState() == State.Calculated     # read from the file, on load
    assert statistics_tasks() == []
    assert_layer_stats_equal_numpy(layer, out)


def test_real_file_opens_with_exact_statistics(qgis_app, shared_data, tmp_path):
    out = tmp_path / "zurich.copc.laz"
    build_copc([shared_data / "lastools_zurich.laz"], out)
    layer = open_layer(out)
    assert layer.statisticsCalculationState() == State.Calculated
    assert statistics_tasks() == []
    assert_layer_stats_equal_numpy(layer, out)


def test_without_the_evlr_qgis_calculates_and_agrees(qgis_app, scene, tmp_path):
    """The control: no EVLR, QGIS samples the file itself (all of it: fewer
    than its 1 M-point limit).  Its min, max and classes are ours."""
    ours, bare = tmp_path / "ours.copc.laz", tmp_path / "bare.copc.laz"
    build_copc([scene], ours, threads=1)
    build_copc([scene], bare, threads=1, statistics=False)
    layer = open_layer(bare)
    assert layer.statisticsCalculationState() == State.Calculating
    wait_calculated(layer)
    own = json.loads(bytes(layer.statistics().toStatisticsJson()))["stats"]
    doc = qgis_evlr(ours)
    assert sorted(own) == sorted(doc["stats"])
    for name, stats in doc["stats"].items():
        assert (own[name]["minimum"], own[name]["maximum"]) == (stats["minimum"], stats["maximum"]), name
        assert own[name]["class-count"] == stats["class-count"], name
        if name not in ("X", "Y", "Z"):        # QGIS takes no mean for X, Y, Z from the index
            assert own[name]["mean"] == pytest.approx(stats["mean"], rel=1e-6, abs=1e-9), name


def test_qgis_reads_counts_as_32_bit_ints(qgis_app):
    """Why the record clamps: QGIS reads a bigger count as 0, and 0 sampled
    points means "no statistics"."""
    too_big = b'{"sampled-points":3000000000,"stats":{"Classification":{"class-count":{"2":3000000000},' \
              b'"maximum":2,"mean":2,"minimum":2}}}'
    parsed = QgsPointCloudStatistics.fromStatisticsJson(QByteArray(too_big))
    assert parsed.sampledPointsCount() == 0
    assert class_counts(parsed, "Classification") == {2: 0}
    clamped = too_big.replace(b"3000000000", str(INT32_MAX).encode())
    parsed = QgsPointCloudStatistics.fromStatisticsJson(QByteArray(clamped))
    assert parsed.sampledPointsCount() == INT32_MAX
    assert class_counts(parsed, "Classification") == {2: INT32_MAX}

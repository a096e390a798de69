"""Build COPC's Dask parameters in real (headless) QGIS: DASK_SCHEDULER and
DASK_WORKERS exist, are advanced, reach build_copc, and their errors (both
given; Dask not importable) come back as one clear QgsProcessingException."""
import os
import sys

import pytest
from qgis.core import Qgis, QgsApplication, QgsProcessingException

import processing
from copc_builder.algorithms.cluster.dask_support import DASK_INSTALL
from copc_builder.demo import write_sample_scene
from qgis_helpers import RecordingFeedback, input_points

pytestmark = pytest.mark.qgis


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    return write_sample_scene(tmp_path_factory.mktemp("dask_scene") / "a.laz", points=20_000, seed=4)


@pytest.fixture
def no_dask(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)   # `import distributed` fails
    monkeypatch.setitem(sys.modules, "dask", None)


def run_build(params, feedback=None):
    return processing.run("copcbuilder:buildcopc", params, feedback=feedback or RecordingFeedback())


def test_dask_parameters_are_advanced_and_off_by_default(copc_processing):
    alg = QgsApplication.processingRegistry().algorithmById("copcbuilder:buildcopc")
    scheduler, workers = alg.parameterDefinition("DASK_SCHEDULER"), alg.parameterDefinition("DASK_WORKERS")
    assert scheduler.type() == "string" and workers.type() == "number"
    assert scheduler.description() == "Dask scheduler (address or scheduler file)"
    assert workers.description() == "Local Dask workers (0: build in this process)"
    for param in (scheduler, workers):
        assert param.flags() & Qgis.ProcessingParameterFlag.Advanced
    assert scheduler.flags() & Qgis.ProcessingParameterFlag.Optional
    assert scheduler.defaultValue() in ("", None)
    assert workers.dataType() == Qgis.ProcessingNumberParameterType.Integer
    assert (workers.defaultValue(), workers.minimum()) == (0, 0)
    assert not workers.checkValueIsAcceptable(-1)


def test_scheduler_and_workers_together_is_the_option_error(copc_processing, scene, tmp_path):
    out = tmp_path / "x.copc.laz"
    feedback = RecordingFeedback()
    with pytest.raises(QgsProcessingException) as caught:
        run_build({"INPUT": [str(scene)], "OUTPUT": str(out), "DASK_SCHEDULER": " tcp://127.0.0.1:8786 ",
                   "DASK_WORKERS": 2}, feedback)
    assert str(caught.value) == ("give a scheduler (tcp://127.0.0.1:8786) or a number of local workers (2), "
                                 "not both")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("params", [{"DASK_WORKERS": 2}, {"DASK_SCHEDULER": "tcp://127.0.0.1:8786"}])
def test_without_dask_the_dependency_message(copc_processing, scene, tmp_path, no_dask, params):
    out = tmp_path / "x.copc.laz"
    with pytest.raises(QgsProcessingException) as caught:
        run_build({"INPUT": [str(scene)], "OUTPUT": str(out), **params})
    message = str(caught.value)
    # in QGIS's words: its installer, not the command line's pip command
    assert "needs the dask[distributed] package" in message and DASK_INSTALL not in message
    assert message.endswith('run "Install Python dependencies" in the toolbox with Packages: distributed')
    assert "\n" not in message and "Traceback" not in message
    assert os.listdir(tmp_path) == []


def test_without_dask_no_dask_parameters_yet_a_value_given_is_not_dropped(copc_processing, scene, tmp_path,
                                                                         no_dask, monkeypatch):
    """A QGIS without Dask shows no Dask parameters; a script or qgis_process that gives one anyway is
    told what to install, rather than getting an in-process build it did not ask for."""
    from copc_builder.plugin import qgis_build_algorithm

    alg = qgis_build_algorithm.BuildCopcAlgorithm()
    alg.initAlgorithm()
    assert alg.parameterDefinition("DASK_WORKERS") is None and alg.parameterDefinition("DASK_SCHEDULER") is None
    with pytest.raises(QgsProcessingException) as caught:
        processing.run(alg, {"INPUT": [str(scene)], "OUTPUT": str(tmp_path / "x.copc.laz"), "DASK_WORKERS": 2})
    assert "needs the dask[distributed] package" in str(caught.value)
    assert os.listdir(tmp_path) == []
    result = processing.run(alg, {"INPUT": [str(scene)], "OUTPUT": str(tmp_path / "y.copc.laz")})
    assert result["POINTS"] == input_points([scene])


def test_without_dask_the_default_build_works(copc_processing, scene, tmp_path, no_dask):
    out = tmp_path / "x.copc.laz"
    result = run_build({"INPUT": [str(scene)], "OUTPUT": str(out), "DASK_SCHEDULER": "", "DASK_WORKERS": 0})
    assert result["POINTS"] == input_points([scene]) > 0
    assert out.is_file()


@pytest.fixture
def spawning_qgis():
    """multiprocessing set to spawn the QGIS binary, as inside QGIS desktop; restored afterwards."""
    import multiprocessing
    import multiprocessing.spawn

    before = multiprocessing.spawn.get_executable()
    multiprocessing.set_executable("/usr/bin/qgis")
    yield
    multiprocessing.set_executable(before)


def test_local_workers_spawn_qgis_python_not_qgis(copc_processing, scene, tmp_path, no_dask, spawning_qgis):
    import multiprocessing.spawn

    from copc_builder.plugin.qgis_support import python_executable

    with pytest.raises(QgsProcessingException) as caught:
        run_build({"INPUT": [str(scene)], "OUTPUT": str(tmp_path / "x.copc.laz"), "DASK_WORKERS": 2})
    assert "needs the dask[distributed] package" in str(caught.value)     # it got as far as the build
    assert os.fsdecode(multiprocessing.spawn.get_executable()) == python_executable() is not None


def test_local_workers_without_a_python_found(copc_processing, scene, tmp_path, spawning_qgis, monkeypatch):
    from copc_builder.plugin import qgis_support

    monkeypatch.setattr(qgis_support, "python_executable", lambda: None)
    with pytest.raises(QgsProcessingException) as caught:
        run_build({"INPUT": [str(scene)], "OUTPUT": str(tmp_path / "x.copc.laz"), "DASK_WORKERS": 2})
    assert str(caught.value).startswith("local Dask workers run in new Python processes, and QGIS's Python "
                                        "interpreter was not found")
    assert "give a Dask scheduler instead" in str(caught.value)
    assert os.listdir(tmp_path) == []


def test_local_workers_write_the_in_process_bytes(copc_processing, scene, tmp_path):
    """DASK_WORKERS through processing.run: the same bytes."""
    pytest.importorskip("distributed")
    here, there = tmp_path / "here.copc.laz", tmp_path / "there.copc.laz"
    work = tmp_path / "work"
    work.mkdir()
    run_build({"INPUT": [str(scene)], "OUTPUT": str(here)})
    feedback = RecordingFeedback()
    result = run_build({"INPUT": [str(scene)], "OUTPUT": str(there), "DASK_WORKERS": 2,
                        "TEMP_FOLDER": str(work)}, feedback)
    # The cluster's progress reaches QGIS's bar: rising, through the stages, to the end.
    assert feedback.percents == sorted(feedback.percents)
    assert len(set(feedback.percents)) > 3 and max(feedback.percents) == 100.0
    assert result["POINTS"] == input_points([scene])
    assert there.read_bytes() == here.read_bytes()
    assert os.listdir(work) == []


def test_cancel_stops_the_cluster_build_and_removes_its_files(copc_processing, tmp_path):
    """QGIS's Cancel during a --workers build: stopped within seconds, no output, no shared work file."""
    pytest.importorskip("distributed")
    import time

    big = write_sample_scene(tmp_path / "big.laz", points=400_000, seed=8)
    out_dir, work = tmp_path / "out", tmp_path / "work"
    out_dir.mkdir()
    work.mkdir()
    feedback = RecordingFeedback(cancel_at=10.0, watch_folder=str(work))
    with pytest.raises(QgsProcessingException) as caught:
        run_build({"INPUT": [str(big)], "OUTPUT": str(out_dir / "out.copc.laz"), "DASK_WORKERS": 2,
                   "TEMP_FOLDER": str(work), "MEMORY_BUDGET": "16M"}, feedback)
    stopped = time.monotonic()
    assert "cancelled" in str(caught.value).lower()
    assert feedback.cancelled_at is not None and stopped - feedback.cancelled_at < 10.0
    assert feedback.folder_at_cancel, "no shared work files yet: cancel came too early to test"
    assert os.listdir(work) == [] and os.listdir(out_dir) == []

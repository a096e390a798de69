"""copcbuilder:buildcopc run through processing.run in real (headless) QGIS."""
import os
import time

import pyproj
import pytest
from qgis.core import (Qgis, QgsApplication, QgsPointCloudLayer, QgsProcessingContext, QgsProcessingException,
                       QgsProcessingOutputLayerDefinition, QgsProcessingUtils, QgsProject)

import processing
from copc_builder.algorithms.inspection.info import copc_info
from copc_builder.demo import write_sample_scene
from copc_builder.algorithms.validate import format_report, validate_copc
from copc_builder.plugin import qgis_build_algorithm
from copc_builder.plugin.qgis_parameters import layer_file
from copc_parse import parse_copc
from hostile_helpers import assert_holds_files
from pdal_helpers import require_pdal
from qgis_helpers import (RecordingFeedback, assert_monotone_0_to_100, input_points, leftovers_beside,
                          project_copc_layer)

pytestmark = pytest.mark.qgis


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    """Two small generated surveys of the same area (same CRS), different seeds."""
    folder = tmp_path_factory.mktemp("scenes")
    a = write_sample_scene(folder / "a.laz", points=60_000, seed=1)
    b = write_sample_scene(folder / "b.laz", points=40_000, seed=2)
    return a, b


def run_build(params, feedback=None, context=None):
    return processing.run("copcbuilder:buildcopc", params, feedback=feedback or RecordingFeedback(),
                          context=context)


def assert_valid(path, points):
    """Valid per the product's validator, with ``points`` points."""
    report = validate_copc(path)
    assert report.ok, format_report(report)
    assert report.points == points


def assert_holds(out, inputs, points):
    """``out`` holds every point of ``inputs`` exactly once (laspy's CopcReader and
    the test-side parser, against laspy's reading of the inputs), and is valid per
    the product's validator too."""
    assert_holds_files(out, inputs)
    assert_valid(out, points)


def test_algorithm_is_registered_with_its_parameters(copc_processing):
    alg = QgsApplication.processingRegistry().algorithmById("copcbuilder:buildcopc")
    assert alg is not None
    assert alg.displayName() == "Build COPC"
    assert (alg.group(), alg.groupId()) == ("Point cloud data management", "pointclouddatamanagement")
    names = [p.name() for p in alg.parameterDefinitions()]
    pipeline = ["PIPELINE"] if qgis_build_algorithm.pdal_installed() else []
    assert names == ["INPUT"] + pipeline + ["OUTPUT", "MEMORY_BUDGET", "TEMP_FOLDER", "THREADS",
                                            "SCALE", "OFFSET", "CRS", "TEMPORAL_INDEX", "STATISTICS",
                                            "DASK_SCHEDULER", "DASK_WORKERS", "STORAGE_OPTIONS", "TARGET_CRS"]
    advanced = {p.name() for p in alg.parameterDefinitions() if p.flags() & Qgis.ProcessingParameterFlag.Advanced}
    assert advanced == {"MEMORY_BUDGET", "TEMP_FOLDER", "THREADS", "SCALE", "OFFSET", "CRS", "TEMPORAL_INDEX", "STATISTICS",
                        "DASK_SCHEDULER", "DASK_WORKERS", "STORAGE_OPTIONS"}
    inp = alg.parameterDefinition("INPUT")
    # point-cloud layers of the project, or files (a file dialog showing LAS/LAZ)
    assert inp.type() == "multilayer" and inp.layerType() == Qgis.ProcessingSourceType.PointCloud
    assert "*.las" in inp.createFileFilter() and "*.laz" in inp.createFileFilter()
    assert "*.las" in inp.clone().createFileFilter()
    out = alg.parameterDefinition("OUTPUT")
    for param in (out, out.clone()):                 # a point-cloud destination, named *.copc.laz
        assert param.type() == "pointCloudDestination"
        assert param.defaultFileExtension() == "copc.laz"
        assert "*.copc.laz" in param.createFileFilter()
    assert out.generateTemporaryDestination().endswith(".copc.laz")
    outputs = {o.name(): o.type() for o in alg.outputDefinitions()}
    assert outputs == {"OUTPUT": "outputPointCloud", "POINTS": "outputNumber", "NODES": "outputNumber"}
    help_text = alg.shortHelpString()
    for word in ("Memory budget", "Temp folder", "Threads", "Scale", "Offset", "CRS", "Temporal index", "statistics",
                 "pip install", "Dask scheduler", "Local Dask workers"):
        assert word in help_text
    assert alg.canExecute() == (True, "")


def test_build_generated_files_merges_them_with_monotone_progress(copc_processing, scenes, tmp_path):
    out = tmp_path / "merged.copc.laz"
    feedback = RecordingFeedback()
    result = run_build({"INPUT": [str(p) for p in scenes], "OUTPUT": str(out), "THREADS": 1}, feedback)

    total = input_points(scenes)
    assert total > 0
    assert result["OUTPUT"] == str(out)
    assert result["POINTS"] == total
    assert result["NODES"] == len(parse_copc(out, decode=False).entries) >= 1    # empty ones too
    assert_holds(out, scenes, total)
    assert_monotone_0_to_100(feedback.percents)
    assert len(set(feedback.percents)) >= 4          # a bar that moves, not 0 then 100
    assert feedback.percents[1] < 10                  # the first step is the short scan stage
    # each stage announced once, in order
    assert feedback.texts == [qgis_build_algorithm.STAGE_TEXTS[s] for s in ("scan", "read", "build", "finish")]
    assert any("Wrote" in line and f"{total:,} points" in line for line in feedback.infos)
    assert leftovers_beside(out) == []


@pytest.mark.parametrize("names", [
    ["lastools_sample.laz"],                          # LAS 1.2, format 1, GeoTIFF CRS
    ["laspy_simple.las", "laspy_simple.laz"],         # two files merged (the same points twice)
    ["copcvalidator_ellipsoid-1.4.laz"],              # LAS 1.4 format 7, extra bytes
])
def test_build_shared_files(copc_processing, shared_data, tmp_path, names):
    out = tmp_path / "shared.copc.laz"
    inputs = [shared_data / n for n in names]
    points = input_points(inputs)
    assert points > 0
    feedback = RecordingFeedback()
    result = run_build({"INPUT": [str(p) for p in inputs], "OUTPUT": str(out)}, feedback)
    assert result["POINTS"] == points
    assert_holds(out, inputs, points)
    assert_monotone_0_to_100(feedback.percents)


def test_advanced_parameters_reach_the_core(copc_processing, scenes, tmp_path):
    out = tmp_path / "options.copc.laz"
    temp = tmp_path / "spill"
    temp.mkdir()
    scale_text, offset_text, epsg = "0.001,0.001,0.0005", "467000,5552000,0", 2056
    scale = [float(v) for v in scale_text.split(",")]
    offset = [float(v) for v in offset_text.split(",")]
    result = run_build({
        "INPUT": [str(scenes[0])], "OUTPUT": str(out), "MEMORY_BUDGET": "6M", "TEMP_FOLDER": str(temp),
        "THREADS": 2, "SCALE": scale_text, "OFFSET": offset_text, "CRS": f"EPSG:{epsg}",
    })
    info = copc_info(out)
    assert info["scale"] == scale
    assert info["offset"] == offset
    assert info["crs"]["epsg"] == epsg
    parsed = parse_copc(out, decode=False)                  # the same, read independently
    assert parsed.header["scale"] == scale and parsed.header["offset"] == offset
    assert pyproj.CRS.from_wkt(parsed.wkt).to_epsg() == epsg
    points = input_points([scenes[0]])
    assert result["POINTS"] == points > 0
    assert_holds(out, [scenes[0]], points)
    assert os.listdir(temp) == []                    # spilled pages removed on success


def test_statistics_parameter_turns_the_qgis_evlr_on_and_off(copc_processing, scenes, tmp_path):
    with_stats, without = tmp_path / "with.copc.laz", tmp_path / "without.copc.laz"
    run_build({"INPUT": [str(scenes[0])], "OUTPUT": str(with_stats)})
    run_build({"INPUT": [str(scenes[0])], "OUTPUT": str(without), "STATISTICS": False})
    evlrs = lambda path: [e["user_id"] for e in parse_copc(path, decode=False).evlrs]   # noqa: E731
    assert evlrs(with_stats) == ["copc", "qgis"]
    assert evlrs(without) == ["copc"]
    assert_holds(without, [scenes[0]], input_points([scenes[0]]))


def test_cancel_mid_build_leaves_nothing(copc_processing, tmp_path):
    scene = write_sample_scene(tmp_path / "scene.laz", points=150_000, seed=3)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "cancelled.copc.laz"
    temp = tmp_path / "spill"
    temp.mkdir()
    # A small budget makes the build spill, so there are temp files to clean.
    feedback = RecordingFeedback(cancel_at=30.0, watch_folder=str(temp))
    with pytest.raises(QgsProcessingException) as caught:
        run_build({"INPUT": [str(scene)], "OUTPUT": str(out), "MEMORY_BUDGET": "6M",
                   "TEMP_FOLDER": str(temp), "THREADS": 1}, feedback)
    stopped = time.monotonic()

    assert "cancelled" in str(caught.value).lower()
    assert feedback.cancelled_at is not None
    assert stopped - feedback.cancelled_at < 2.0      # stops within about a second
    assert max(feedback.percents) < 100.0
    assert feedback.folder_at_cancel, "the build had made no temp files yet: cancel came too early to test"
    assert os.listdir(temp) == []
    assert os.listdir(out_dir) == []                  # no output, no hidden .copc_builder-tmp


def test_not_a_las_file_gives_the_clear_message(copc_processing, tmp_path):
    bad = tmp_path / "notes.laz"
    bad.write_text("this is a text file renamed .laz\n")
    out = tmp_path / "bad.copc.laz"
    with pytest.raises(QgsProcessingException) as caught:
        run_build({"INPUT": [str(bad)], "OUTPUT": str(out)})
    assert str(caught.value) == f"{bad}: not a LAS/LAZ file (no LASF signature)"
    assert os.listdir(tmp_path) == ["notes.laz"]


def test_missing_file_gives_the_clear_message(copc_processing, tmp_path, scenes):
    missing = tmp_path / "nowhere.laz"
    with pytest.raises(QgsProcessingException) as caught:
        run_build({"INPUT": [str(scenes[0]), str(missing)], "OUTPUT": str(tmp_path / "x.copc.laz")})
    assert str(caught.value) == f"{missing}: file not found"
    assert os.listdir(tmp_path) == []


def test_bad_option_gives_the_clear_message(copc_processing, tmp_path, scenes):
    with pytest.raises(QgsProcessingException) as caught:
        run_build({"INPUT": [str(scenes[0])], "OUTPUT": str(tmp_path / "x.copc.laz"), "SCALE": "fine"})
    assert str(caught.value) == "cannot read 'fine' as a scale (examples: 0.01 or 0.01,0.01,0.001)"
    with pytest.raises(QgsProcessingException) as caught:
        run_build({"INPUT": [str(scenes[0])], "OUTPUT": str(tmp_path / "x.copc.laz"), "MEMORY_BUDGET": "lots"})
    assert "'lots'" in str(caught.value) and "size" in str(caught.value)
    assert os.listdir(tmp_path) == []


def test_warns_when_output_lacks_the_copc_ending(copc_processing, scenes, tmp_path):
    out = tmp_path / "plain.laz"
    feedback = RecordingFeedback()
    run_build({"INPUT": [str(scenes[1])], "OUTPUT": str(out)}, feedback)
    assert any(".copc.laz" in w for w in feedback.warnings)
    assert_holds(out, [scenes[1]], input_points([scenes[1]]))


def test_open_output_queues_the_result_as_a_point_cloud_layer(copc_processing, scenes, tmp_path):
    """With "Open output file after running algorithm" (an output definition naming the
    project) the result is queued for loading as a point-cloud layer; without it, not."""
    project = QgsProject.instance()
    context = QgsProcessingContext()
    context.setProject(project)
    out = tmp_path / "layer.copc.laz"
    run_build({"INPUT": [str(scenes[1])], "OUTPUT": QgsProcessingOutputLayerDefinition(str(out), project)},
              context=context)
    details = list(context.layersToLoadOnCompletion().values())
    assert [d.outputName for d in details] == ["OUTPUT"]
    assert details[0].layerTypeHint == QgsProcessingUtils.LayerHint.PointCloud
    assert list(context.layersToLoadOnCompletion()) == [str(out)]

    plain = QgsProcessingContext()
    plain.setProject(project)
    run_build({"INPUT": [str(scenes[1])], "OUTPUT": str(tmp_path / "file.copc.laz")}, context=plain)
    assert plain.layersToLoadOnCompletion() == {}


def test_temporary_output_is_a_copc_file(copc_processing, scenes):
    """TEMPORARY_OUTPUT (the dialog's default, and a model's intermediate result) is named *.copc.laz."""
    result = run_build({"INPUT": [str(scenes[1])], "OUTPUT": "TEMPORARY_OUTPUT"})
    out = result["OUTPUT"]
    try:
        assert out.endswith(".copc.laz") and os.path.isfile(out)
        assert_holds(out, [scenes[1]], input_points([scenes[1]]))
    finally:
        os.remove(out)


def test_run_and_load_results_opens_the_copc_layer(copc_processing, scenes, tmp_path):
    """What the dialog does with "Open output file" checked (the output as a definition naming
    the project): QGIS's own COPC provider opens the result, with every point."""
    project = QgsProject.instance()
    out = tmp_path / "loaded.copc.laz"
    result = processing.runAndLoadResults(
        "copcbuilder:buildcopc",
        {"INPUT": [str(scenes[0])], "OUTPUT": QgsProcessingOutputLayerDefinition(str(out), project)},
        feedback=RecordingFeedback())
    layers = [layer for layer in project.mapLayers().values()
              if isinstance(layer, QgsPointCloudLayer) and os.path.samefile(
                  layer_file(layer), out)]
    try:
        assert len(layers) == 1
        layer = layers[0]
        assert layer.isValid() and layer.providerType() == "copc"
        assert layer.dataProvider().pointCount() == result["POINTS"] == input_points([scenes[0]]) > 0
    finally:
        project.removeMapLayers([layer.id() for layer in layers])


def test_input_takes_point_cloud_layers_of_the_project(copc_processing, scenes, tmp_path):
    """A COPC layer of the project as INPUT (by id, by name, or the layer) is its source file."""
    source = tmp_path / "source.copc.laz"
    run_build({"INPUT": [str(scenes[0])], "OUTPUT": str(source)})
    with project_copc_layer(source, "my source") as (layer, context):
        for value in (layer.id(), "my source", layer):
            out = tmp_path / "from_layer.copc.laz"
            result = run_build({"INPUT": [value, str(scenes[1])], "OUTPUT": str(out)}, context=context)
            assert result["POINTS"] == input_points(scenes)
            assert_holds_files(out, list(scenes))
            os.remove(out)


def test_crs_text_prefers_authority_ids():
    from qgis.core import QgsCoordinateReferenceSystem

    assert qgis_build_algorithm.crs_text(QgsCoordinateReferenceSystem()) is None
    assert qgis_build_algorithm.crs_text(QgsCoordinateReferenceSystem("EPSG:2056")) == "EPSG:2056"
    custom = QgsCoordinateReferenceSystem.fromProj("+proj=tmerc +lat_0=0 +lon_0=7.5 +k=1 +x_0=0 +y_0=0 "
                                                   "+ellps=GRS80 +units=m +no_defs")
    text = qgis_build_algorithm.crs_text(custom)
    assert text.startswith(("PROJCRS", "PROJCS")) and "7.5" in text


def test_pipeline_parameter_only_with_pdal(copc_processing, tmp_path, monkeypatch):
    """Without pdal in QGIS's Python there is no pipeline input and the files
    are required; with it (a fresh instance sees it) both are optional."""
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "pdal" else real(name, *a))
    alg = qgis_build_algorithm.BuildCopcAlgorithm()
    alg.initAlgorithm()
    assert alg.parameterDefinition("PIPELINE") is None
    assert not alg.parameterDefinition("INPUT").flags() & Qgis.ProcessingParameterFlag.Optional
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: object() if name == "pdal" else real(name, *a))
    alg = qgis_build_algorithm.BuildCopcAlgorithm()
    alg.initAlgorithm()
    assert alg.parameterDefinition("PIPELINE").type() == "file"
    assert alg.parameterDefinition("INPUT").flags() & Qgis.ProcessingParameterFlag.Optional


def test_build_from_a_pdal_pipeline(copc_processing, scenes, tmp_path):
    """Runs only where PDAL is installed (e.g. by hand in a venv with pdal)."""
    require_pdal()
    if not qgis_build_algorithm.pdal_installed():
        pytest.skip("pdal not found by the plugin")
    import json

    pipeline = tmp_path / "p.json"
    pipeline.write_text(json.dumps([str(scenes[0]), {"type": "filters.range", "limits": "Classification[2:2]"}]))
    out = tmp_path / "ground.copc.laz"
    result = run_build({"PIPELINE": str(pipeline), "OUTPUT": str(out)})
    import laspy

    from hostile_helpers import output_frame
    from reference import expected_records

    is_ground = laspy.read(scenes[0]).classification == 2
    ground = int(is_ground.sum())
    assert result["POINTS"] == ground > 0
    pf, scales, offsets, extra = output_frame(out)
    expected = expected_records([str(scenes[0])], pf, scales, offsets, extra)[is_ground]
    assert_holds_files(out, [scenes[0]], expected=expected)
    assert_valid(out, ground)

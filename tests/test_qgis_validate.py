"""copcbuilder:validatecopc run through processing.run in real (headless) QGIS."""
import pytest
from qgis.core import Qgis, QgsApplication, QgsProcessingException, QgsVectorLayer

import processing
from copc_builder.algorithms.api import build_copc
from copc_builder.demo import write_sample_scene
from copc_parse import parse_copc
from qgis_helpers import RecordingFeedback, assert_monotone_0_to_100, input_points, project_copc_layer

pytestmark = pytest.mark.qgis


@pytest.fixture(scope="module")
def good_copc(tmp_path_factory):
    folder = tmp_path_factory.mktemp("validate")
    scene = write_sample_scene(folder / "scene.laz", points=50_000, seed=4)
    build_copc([scene], folder / "scene.copc.laz", threads=1)
    return folder / "scene.copc.laz", scene


def run_validate(params, feedback=None):
    return processing.run("copcbuilder:validatecopc", params, feedback=feedback or RecordingFeedback())


def findings_of(result):
    """Fields, geometry type and rows of the findings table.  The layer leaves
    ``result``, so it is deleted now, while QGIS runs, not at exit."""
    layer = result.pop("FINDINGS")
    if isinstance(layer, str):
        layer = QgsVectorLayer(layer, "findings", "ogr")
    assert layer.isValid()
    rows = [(f["severity"], f["check"], f["message"]) for f in layer.getFeatures()]
    return [f.name() for f in layer.fields()], layer.wkbType(), rows


def test_algorithm_is_registered(copc_processing):
    alg = QgsApplication.processingRegistry().algorithmById("copcbuilder:validatecopc")
    assert alg.displayName() == "Validate COPC"
    assert alg.groupId() == "pointclouddatamanagement"
    assert [p.name() for p in alg.parameterDefinitions()] == ["INPUT", "FAIL_ON_ERROR", "REPORT", "FINDINGS"]
    outputs = {o.name(): o.type() for o in alg.outputDefinitions()}
    assert outputs["VALID"] == "outputBoolean"
    assert outputs["POINTS"] == outputs["NODES"] == outputs["ERRORS"] == outputs["WARNINGS"] == "outputNumber"
    assert outputs["REPORT"] == "outputHtml" and outputs["FINDINGS"] == "outputVector"
    assert alg.canExecute() == (True, "")


def test_valid_file(copc_processing, good_copc, tmp_path):
    path, scene = good_copc
    # What the validator must count, read without the product: the scene's points
    # (laspy), which the test-side parser finds in the file's hierarchy.
    parsed = parse_copc(path, decode=False)
    points = input_points([scene])
    assert points == parsed.header["point_count"] == sum(e.point_count for e in parsed.entries) > 0
    html = tmp_path / "report.html"
    feedback = RecordingFeedback()
    result = run_validate({"INPUT": str(path), "REPORT": str(html), "FINDINGS": "TEMPORARY_OUTPUT"}, feedback)

    assert result["VALID"] is True
    assert (result["POINTS"], result["NODES"]) == (points, len(parsed.entries))
    assert (result["ERRORS"], result["WARNINGS"]) == (0, 0)
    assert result["REPORT"] == str(html)
    page = html.read_text(encoding="utf-8")
    assert "valid COPC 1.0" in page and "NOT a valid" not in page
    assert f"{points:,}" in page
    fields, geometry, rows = findings_of(result)
    assert rows == []
    assert fields == ["severity", "check", "message"]
    assert geometry == Qgis.WkbType.NoGeometry
    assert_monotone_0_to_100(feedback.percents)
    assert any("valid COPC 1.0" in line for line in feedback.infos)


def test_invalid_file_reports_findings(copc_processing, shared_data, tmp_path):
    # pre-1.0 COPC: GPS times outside the info VLR's range (see PROVENANCE.md)
    path = shared_data / "copcvalidator_ellipsoid.old.copc.laz"
    html = tmp_path / "old.html"
    feedback = RecordingFeedback()
    result = run_validate({"INPUT": str(path), "REPORT": str(html), "FINDINGS": "TEMPORARY_OUTPUT"}, feedback)

    assert result["VALID"] is False
    assert result["ERRORS"] >= 1
    _, _, rows = findings_of(result)
    assert ("error", "gpstime") in {(sev, check) for sev, check, _ in rows}
    assert len(rows) == result["ERRORS"] + result["WARNINGS"]
    page = html.read_text(encoding="utf-8")
    assert "NOT a valid COPC 1.0 file" in page and "gpstime" in page
    assert any("gpstime" in e for e in feedback.errors)


def test_findings_table_written_to_a_file(copc_processing, shared_data, tmp_path):
    out = tmp_path / "findings.gpkg"
    result = run_validate({"INPUT": str(shared_data / "lastools_test.laz"), "REPORT": str(tmp_path / "r.html"),
                           "FINDINGS": str(out)})
    assert result["VALID"] is False
    _, _, rows = findings_of(result)
    assert ("error", "info.missing") in {(sev, check) for sev, check, _ in rows}


def test_fail_on_error_raises_with_the_verdict(copc_processing, shared_data, tmp_path):
    path = shared_data / "copcvalidator_ellipsoid.old.copc.laz"
    with pytest.raises(QgsProcessingException) as caught:
        run_validate({"INPUT": str(path), "FAIL_ON_ERROR": True, "REPORT": str(tmp_path / "r.html")})
    assert "NOT a valid COPC 1.0 file" in str(caught.value)
    assert (tmp_path / "r.html").exists()           # the report is still written


def test_not_a_las_file(copc_processing, tmp_path):
    bad = tmp_path / "notes.copc.laz"
    bad.write_text("plain text\n")
    result = run_validate({"INPUT": str(bad), "REPORT": str(tmp_path / "r.html"), "FINDINGS": "TEMPORARY_OUTPUT"})
    assert result["VALID"] is False
    _, _, rows = findings_of(result)
    assert [(sev, check) for sev, check, _ in rows] == [("error", "file")]


def test_unwritable_report_is_a_clear_error(copc_processing, good_copc, tmp_path):
    path, _ = good_copc
    report = tmp_path / "no" / "such" / "folder" / "r.html"
    with pytest.raises(QgsProcessingException) as caught:
        run_validate({"INPUT": str(path), "REPORT": str(report)})
    assert str(report) in str(caught.value) and "cannot write" in str(caught.value)


def test_input_is_a_point_cloud_parameter_that_takes_files_and_layers(copc_processing, good_copc, tmp_path):
    """INPUT takes a point-cloud layer of the project (by id, by name, or the layer itself) or a
    file path, even one QGIS cannot open (the validator says what is wrong with it)."""
    alg = QgsApplication.processingRegistry().algorithmById("copcbuilder:validatecopc")
    param = alg.parameterDefinition("INPUT")
    for p in (param, param.clone()):
        assert p.type() == "pointcloud"
        assert "*.copc.laz" in p.createFileFilter()
        assert p.checkValueIsAcceptable(str(tmp_path / "not-yet-there.copc.laz"))
        assert not p.checkValueIsAcceptable("")
    path, scene = good_copc
    points = input_points([scene])
    with project_copc_layer(path, "built") as (layer, context):
        for value in (layer.id(), "built", layer, str(path)):
            result = processing.run("copcbuilder:validatecopc", {"INPUT": value, "REPORT": str(tmp_path / "r.html")},
                                    context=context, feedback=RecordingFeedback())
            assert result["VALID"] is True and result["POINTS"] == points > 0
            assert str(path) in (tmp_path / "r.html").read_text(encoding="utf-8")

"""Build COPC's "Reproject to" (issue 22) in real, headless QGIS 3.40: the
parameter, a model chaining Build COPC with it into Validate COPC, and the
layer QGIS opens from the result, in the target CRS."""
import pytest
from qgis.core import (Qgis, QgsApplication, QgsCoordinateReferenceSystem, QgsPointCloudLayer,
                       QgsProcessingException)

import processing
from copc_builder.algorithms.validate import validate_copc
from fixtures import write_rich
from qgis_helpers import RecordingFeedback, input_points

pytestmark = pytest.mark.qgis


@pytest.fixture(scope="module")
def lv03_tiles(tmp_path_factory):
    """Two tiles of the same area near Zurich: one in CH1903 / LV03, one in CH1903+ / LV95."""
    folder = tmp_path_factory.mktemp("lv03")
    a = write_rich(folder / "lv03.laz", 6, crs="EPSG:21781", seed=1, n=20_000,
                   offset=(676_000.0, 246_000.0, 400.0), extent=(500.0, 500.0, 60.0))
    b = write_rich(folder / "lv95.las", 7, crs="EPSG:2056", seed=2, n=10_000,
                   offset=(2_676_400.0, 1_246_000.0, 400.0), extent=(300.0, 300.0, 60.0))
    return a, b


def test_reproject_to_is_an_optional_crs_parameter(copc_processing):
    alg = QgsApplication.processingRegistry().algorithmById("copcbuilder:buildcopc")
    param = alg.parameterDefinition("TARGET_CRS")
    assert param is not None and param.type() == "crs"
    assert param.description() == "Reproject to"
    assert param.flags() & Qgis.ProcessingParameterFlag.Optional
    assert not param.flags() & Qgis.ProcessingParameterFlag.Advanced
    assert "Reproject to" in alg.shortHelpString()


def make_model():
    """LAS/LAZ files and a target CRS -> Build COPC (Reproject to) -> Validate COPC."""
    from qgis.core import (QgsProcessingModelAlgorithm, QgsProcessingModelChildAlgorithm,
                           QgsProcessingModelChildParameterSource, QgsProcessingModelOutput,
                           QgsProcessingModelParameter, QgsProcessingParameterCrs,
                           QgsProcessingParameterMultipleLayers)

    model = QgsProcessingModelAlgorithm("Reproject, build and validate COPC", "COPC Builder", "copcbuilder")
    for name, param in (("las_files", QgsProcessingParameterMultipleLayers("las_files", "LAS/LAZ files",
                                                                          Qgis.ProcessingSourceType.File)),
                        ("target_crs", QgsProcessingParameterCrs("target_crs", "Reproject to"))):
        model.addModelParameter(param, QgsProcessingModelParameter(name))
    build = QgsProcessingModelChildAlgorithm("copcbuilder:buildcopc")
    build.setChildId("build")
    build.addParameterSources("INPUT", [QgsProcessingModelChildParameterSource.fromModelParameter("las_files")])
    build.addParameterSources("TARGET_CRS",
                              [QgsProcessingModelChildParameterSource.fromModelParameter("target_crs")])
    copc = QgsProcessingModelOutput("copc", "COPC file")
    copc.setChildId("build")
    copc.setChildOutputName("OUTPUT")
    build.setModelOutputs({"copc": copc})
    model.addChildAlgorithm(build)
    validate = QgsProcessingModelChildAlgorithm("copcbuilder:validatecopc")
    validate.setChildId("validate")
    validate.addParameterSources("INPUT", [QgsProcessingModelChildParameterSource.fromChildOutput("build", "OUTPUT")])
    validate.addParameterSources("FAIL_ON_ERROR", [QgsProcessingModelChildParameterSource.fromStaticValue(True)])
    report = QgsProcessingModelOutput("report", "Validation report")
    report.setChildId("validate")
    report.setChildOutputName("REPORT")
    validate.setModelOutputs({"report": report})
    model.addChildAlgorithm(validate)
    return model


def test_model_reprojects_builds_validates_and_the_layer_opens_in_the_target_crs(copc_processing, lv03_tiles,
                                                                                  tmp_path):
    model = make_model()
    ok, errors = model.validate()
    assert ok, errors
    copc = tmp_path / "lv95.copc.laz"
    feedback = RecordingFeedback()
    result = processing.run(model, {"las_files": [str(p) for p in lv03_tiles], "target_crs": "EPSG:2056",
                                    "copc_file": str(copc), "validation_report": str(tmp_path / "report.html")},
                            feedback=feedback)
    children = result["CHILD_RESULTS"]
    assert children["validate"]["VALID"] is True
    assert children["build"]["POINTS"] == input_points(lv03_tiles) == 30_000
    assert validate_copc(copc).ok
    said = "\n".join(feedback.infos + feedback.warnings)
    assert "from CH1903 / LV03 (EPSG:21781) to CH1903+ / LV95 (EPSG:2056) with PROJ's" in said, said
    layer = QgsPointCloudLayer(str(copc), "lv95", "copc")
    assert layer.isValid()
    assert layer.crs() == QgsCoordinateReferenceSystem("EPSG:2056"), layer.crs().authid()
    extent = layer.extent()                 # LV95 numbers: 2 600 000 / 1 200 000 more than LV03's
    assert 2_675_990 < extent.xMinimum() and extent.xMaximum() < 2_676_710
    assert 1_245_990 < extent.yMinimum() and extent.yMaximum() < 1_246_510
    assert layer.pointCount() == 30_000


def test_input_without_crs_is_a_processing_error(copc_processing, tmp_path):
    """An input without a CRS cannot be reprojected: the core's one line, nothing written."""
    bare = write_rich(tmp_path / "bare.las", 6, seed=3, n=500)
    with pytest.raises(QgsProcessingException, match="bare.las: has no CRS"):
        processing.run("copcbuilder:buildcopc", {"INPUT": [str(bare)], "OUTPUT": str(tmp_path / "x.copc.laz"),
                                                 "TARGET_CRS": "EPSG:4326"}, feedback=RecordingFeedback())
    assert not (tmp_path / "x.copc.laz").exists()

"""tests/data/build_and_validate.model3: Build COPC chained into Validate COPC.

The model file is made by ``make_model()`` below with QGIS's model API; to
write it again after a change:

    python tests/test_qgis_model.py        (in the dev shell, QT_QPA_PLATFORM=offscreen)
"""
import os
import sys
from pathlib import Path

import pytest

MODEL = Path(__file__).resolve().parent / "data" / "build_and_validate.model3"

pytestmark = pytest.mark.qgis


def make_model():
    """The model, built with the model API (the file is its toFile())."""
    from qgis.core import (
        Qgis,
        QgsProcessingModelAlgorithm,
        QgsProcessingModelChildAlgorithm,
        QgsProcessingModelChildParameterSource,
        QgsProcessingModelOutput,
        QgsProcessingModelParameter,
        QgsProcessingParameterMultipleLayers,
    )
    from qgis.PyQt.QtCore import QPointF

    model = QgsProcessingModelAlgorithm("Build and validate COPC", "COPC Builder", "copcbuilder")
    model.setHelpContent({
        "ALG_DESC": "Converts LAS/LAZ files into one COPC file, then checks it against the COPC 1.0 "
                    "specification.",
        "las_files": "The LAS/LAZ files to convert (merged into one COPC file).",
        "ALG_CREATOR": "copc_builder developers",
    })

    inputs = QgsProcessingModelParameter("las_files")
    inputs.setDescription("LAS/LAZ files")
    inputs.setPosition(QPointF(120, 80))
    model.addModelParameter(
        QgsProcessingParameterMultipleLayers("las_files", "LAS/LAZ files", Qgis.ProcessingSourceType.File), inputs)

    build = QgsProcessingModelChildAlgorithm("copcbuilder:buildcopc")
    build.setChildId("build")
    build.setDescription("Build COPC")
    build.setPosition(QPointF(320, 180))
    build.addParameterSources("INPUT", [QgsProcessingModelChildParameterSource.fromModelParameter("las_files")])
    build.addParameterSources("MEMORY_BUDGET", [QgsProcessingModelChildParameterSource.fromStaticValue("2G")])
    build.addParameterSources("THREADS", [QgsProcessingModelChildParameterSource.fromStaticValue(0)])
    copc = QgsProcessingModelOutput("copc", "COPC file")
    copc.setChildId("build")
    copc.setChildOutputName("OUTPUT")
    copc.setPosition(QPointF(520, 140))
    build.setModelOutputs({"copc": copc})
    model.addChildAlgorithm(build)

    validate = QgsProcessingModelChildAlgorithm("copcbuilder:validatecopc")
    validate.setChildId("validate")
    validate.setDescription("Validate COPC")
    validate.setPosition(QPointF(320, 300))
    validate.addParameterSources("INPUT", [QgsProcessingModelChildParameterSource.fromChildOutput("build", "OUTPUT")])
    validate.addParameterSources("FAIL_ON_ERROR", [QgsProcessingModelChildParameterSource.fromStaticValue(False)])
    outputs = {}
    for name, description, child_output, y in (("report", "Validation report", "REPORT", 280),
                                               ("findings", "Validation findings", "FINDINGS", 340)):
        out = QgsProcessingModelOutput(name, description)
        out.setChildId("validate")
        out.setChildOutputName(child_output)
        out.setPosition(QPointF(560, y))
        outputs[name] = out
    validate.setModelOutputs(outputs)
    model.addChildAlgorithm(validate)
    return model


def xml_tree(path):
    """A .model3 file as nested (tag, sorted attributes, children): Qt writes
    attributes in a random order, so the text differs run to run."""
    import xml.etree.ElementTree as ET

    def walk(element):
        return (element.tag, sorted(element.attrib.items()), [walk(child) for child in element])

    return walk(ET.parse(path).getroot())


def load_model():
    from qgis.core import QgsProcessingModelAlgorithm

    model = QgsProcessingModelAlgorithm()
    assert model.fromFile(str(MODEL)), f"cannot load {MODEL}"
    return model


def test_model_file_loads_and_chains_build_into_validate(copc_processing):
    from qgis.core import Qgis, QgsApplication

    model = load_model()
    assert model.name() == "Build and validate COPC"
    children = model.childAlgorithms()
    assert {c.algorithmId() for c in children.values()} == {"copcbuilder:buildcopc", "copcbuilder:validatecopc"}
    source = children["validate"].parameterSources()["INPUT"][0]
    assert (source.outputChildId(), source.outputName()) == ("build", "OUTPUT")
    assert model.dependsOnChildAlgorithms("validate") == {"build"}
    # QGIS 3.40 names a model's outputs after their descriptions
    assert {p.name() for p in model.parameterDefinitions()} == {
        "las_files", "copc_file", "validation_report", "validation_findings"}
    ok, errors = model.validate()
    assert ok, errors
    # Build COPC's output is a point-cloud layer: Validate COPC's point-cloud input takes it
    copc = model.parameterDefinition("copc_file")
    assert copc.type() == "pointCloudDestination"
    validate_input = QgsApplication.processingRegistry().algorithmById(
        "copcbuilder:validatecopc").parameterDefinition("INPUT")
    assert validate_input.type() == "pointcloud"
    build = QgsApplication.processingRegistry().algorithmById("copcbuilder:buildcopc")
    assert build.outputDefinition("OUTPUT").type() == "outputPointCloud"


def test_model_file_is_what_make_model_writes(copc_processing, tmp_path):
    """The committed file is the API-built model, not hand-edited XML that drifted."""
    fresh = tmp_path / "fresh.model3"
    assert make_model().toFile(str(fresh))
    assert xml_tree(fresh) == xml_tree(MODEL)


def test_model_runs_with_processing_run(copc_processing, tmp_path):
    import processing
    from copc_builder.demo import write_sample_scene
    from copc_builder.algorithms.validate import validate_copc
    from hostile_helpers import assert_holds_files
    from qgis_helpers import RecordingFeedback, input_points

    a = write_sample_scene(tmp_path / "a.laz", points=30_000, seed=5)
    b = write_sample_scene(tmp_path / "b.laz", points=20_000, seed=6)
    copc = tmp_path / "model.copc.laz"
    report = tmp_path / "model.html"
    feedback = RecordingFeedback()
    result = processing.run(load_model(), {
        "las_files": [str(a), str(b)],
        "copc_file": str(copc),
        "validation_report": str(report),
        "validation_findings": "TEMPORARY_OUTPUT",
    }, feedback=feedback)

    assert result["copc_file"] == str(copc)
    assert result["validation_report"] == str(report)
    assert validate_copc(copc).ok
    assert_holds_files(copc, [a, b])           # every input point once, read with laspy and the test parser
    assert "valid COPC 1.0" in report.read_text(encoding="utf-8")
    findings = result.pop("validation_findings")
    assert findings.featureCount() == 0
    del findings
    children = result["CHILD_RESULTS"]    # the child outputs a model can branch on
    assert children["validate"]["VALID"] is True
    total = input_points([a, b])
    assert children["validate"]["POINTS"] == children["build"]["POINTS"] == total > 0
    assert max(feedback.percents) == 100.0


def test_a_model_exported_as_python_names_the_files_and_builds_the_same_bytes(copc_processing, tmp_path):
    """A model whose Build COPC takes files as a static value: "Export as Python Algorithm" writes
    them out (not ''), and the exported algorithm builds the bytes the model builds."""
    import processing
    from qgis.core import (QgsProcessing, QgsProcessingModelAlgorithm, QgsProcessingModelChildAlgorithm,
                           QgsProcessingModelChildParameterSource, QgsProcessingModelOutput)

    from copc_builder.demo import write_sample_scene

    files = [str(write_sample_scene(tmp_path / "a.laz", points=20_000, seed=7)),
             str(write_sample_scene(tmp_path / "b b.laz", points=10_000, seed=8))]
    model = QgsProcessingModelAlgorithm("Static files", "COPC Builder", "")
    build = QgsProcessingModelChildAlgorithm("copcbuilder:buildcopc")
    build.setChildId("build")
    build.addParameterSources("INPUT", [QgsProcessingModelChildParameterSource.fromStaticValue(files)])
    output = QgsProcessingModelOutput("copc", "COPC file")
    output.setChildId("build")
    output.setChildOutputName("OUTPUT")
    build.setModelOutputs({"copc": output})
    model.addChildAlgorithm(build)

    code = "\n".join(model.asPythonCode(QgsProcessing.PythonOutputType.PythonQgsProcessingAlgorithmSubclass, 4))
    assert "'INPUT': [" + ",".join(repr(f) for f in files) + "]" in code
    namespace = {}
    exec(code, namespace)                                  # noqa: S102 (what the exported script is for)
    exported = namespace["StaticFiles"]()
    [name] = [p.name() for p in model.parameterDefinitions()]
    [exported_name] = [p.name() for p in (exported.initAlgorithm() or exported).parameterDefinitions()]
    by_model, by_export = tmp_path / "model.copc.laz", tmp_path / "exported.copc.laz"
    processing.run(model, {name: str(by_model)})
    processing.run(exported, {exported_name: str(by_export)})
    assert by_model.read_bytes() == by_export.read_bytes()
    assert by_model.stat().st_size > 0


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from qgis.core import QgsApplication

    app = QgsApplication([], False)
    app.initQgis()
    sys.path.append(os.path.join(QgsApplication.pkgDataPath(), "python", "plugins"))
    from copc_builder.plugin.qgis_provider import CopcBuilderProvider

    provider = CopcBuilderProvider()
    QgsApplication.processingRegistry().addProvider(provider)
    MODEL.parent.mkdir(exist_ok=True)
    assert make_model().toFile(str(MODEL))
    print(f"wrote {MODEL}")
    app.exitQgis()

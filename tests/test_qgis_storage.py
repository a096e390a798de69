"""Build COPC in real (headless) QGIS with URLs: s3:// and http(s):// inputs,
an s3:// output (uploaded, not opened), storage options; and no secret in
what QGIS records of a run: the "Input parameters" log line, and the
history entry the algorithm dialog writes (its Python command, qgis_process
command and parameter map, stored in QGIS's own history registry); and
Build COPC tiles to an s3:// .vpc (uploaded, not opened), with the same
checks of what QGIS records."""
from __future__ import annotations

import pytest
from qgis.core import QgsProcessingContext, QgsProcessingOutputLayerDefinition, QgsProject
from qgis.gui import QgsGui

import processing
from copc_builder import build_copc
from fixtures import write_las
from qgis_helpers import RecordingFeedback
from storage_servers import RangeServer

pytestmark = pytest.mark.qgis

PASSWORD = "PLANTEDqgisPASSz3"
SECRET = "PLANTEDqgisSECRETz3"
TOKEN = "PLANTEDqgisTOKENz3"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    folder = tmp_path_factory.mktemp("qgis_storage")
    src = write_las(folder / "cloud.laz", n=80_000, point_format=3, seed=8, crs="EPSG:2056",
                    offset=(2_600_000.0, 1_200_000.0, 400.0))
    local = folder / "local.copc.laz"
    build_copc([src], local)
    server = RangeServer(folder, user="viewer", password=PASSWORD)
    yield src, local.read_bytes(), server
    server.close()


def secret_url(server) -> str:
    return server.url("cloud.laz", auth=f"viewer:{PASSWORD}") + f"?token={TOKEN}"


def params(inputs, output, options=""):
    return {"INPUT": inputs, "OUTPUT": output, "STORAGE_OPTIONS": options}


def test_s3_in_and_out(copc_processing, s3, cloud, tmp_path):
    src, local, _ = cloud
    s3.client().create_bucket(Bucket="qgis")
    s3.client().upload_file(str(src), "qgis", "in/cloud.laz")
    out = tmp_path / "from_s3.copc.laz"
    result = processing.run("copcbuilder:buildcopc", params(["s3://qgis/in/cloud.laz"], str(out)),
                            feedback=RecordingFeedback())
    assert out.read_bytes() == local and result["POINTS"] == 80_000
    context = QgsProcessingContext()       # "Open output file after running algorithm" checked:
    context.setProject(QgsProject.instance())
    destination = QgsProcessingOutputLayerDefinition("s3://qgis/out/cloud.copc.laz", QgsProject.instance())
    result = processing.run("copcbuilder:buildcopc",
                            params(["s3://qgis/in/"], destination, "part_size=5M\nretries=2"),
                            feedback=RecordingFeedback(), context=context)
    assert result["OUTPUT"] == "s3://qgis/out/cloud.copc.laz"
    assert s3.client().get_object(Bucket="qgis", Key="out/cloud.copc.laz")["Body"].read() == local
    assert "s3://qgis/out/cloud.copc.laz" not in context.layersToLoadOnCompletion()


def test_no_secret_in_the_log_or_the_history(copc_processing, cloud, tmp_path):
    _, local, server = cloud
    out = tmp_path / "from_http.copc.laz"
    parameters = params([secret_url(server)], str(out), f"key=AKIDq\nsecret={SECRET};token={TOKEN}\nretries=2")
    feedback = RecordingFeedback()
    processing.run("copcbuilder:buildcopc", parameters, feedback=feedback)
    assert out.read_bytes() == local
    texts = history_texts("copcbuilder:buildcopc", parameters, feedback)
    assert f"127.0.0.1:{server.port}/cloud.laz" in texts[1] and "retries=2" in texts[1]
    for text in texts:
        for secret in (PASSWORD, SECRET, TOKEN):
            assert secret not in text, text
    assert "key=***" in texts[1] and "secret=***" in texts[1]


def history_texts(algorithm: str, parameters: dict, feedback) -> list:
    """What QGIS records of a run, made as processing/gui/AlgorithmDialog.py makes it: the log's
    "Input parameters" line, the entry stored in QGIS's history registry, the feedback's texts."""
    from qgis.core import QgsApplication

    alg = QgsApplication.processingRegistry().createAlgorithmById(algorithm)
    context = QgsProcessingContext()
    shown = "{ " + ", ".join(f"'{k}' : " + alg.parameterDefinition(k).valueAsPythonString(v, context)
                             for k, v in parameters.items()) + " }"
    details = {"python_command": alg.asPythonCommand(parameters, context), "algorithm_id": alg.id(),
               "parameters": alg.asMap(parameters, context), "log": feedback.htmlLog()}
    command, ok = alg.asQgisProcessCommand(parameters, context)
    if ok:
        details["process_command"] = command
    registry = QgsGui.historyProviderRegistry()
    entry_id, _ = registry.addEntry("processing", details)
    stored = [e for e in registry.queryEntries() if e.id == entry_id]
    assert stored, "the entry is in QGIS's history"
    return [shown, repr(stored[0].entry), "\n".join(feedback.texts + feedback.commands)]


def test_tiles_to_s3_are_uploaded_not_loaded_and_no_secret_is_recorded(copc_processing, s3, cloud, tmp_path):
    """Build COPC tiles with an s3:// .vpc destination: the local tiled build's files
    uploaded, nothing loaded; the inputs an http URL with a password and a token, storage
    options with a key, secret and token: none of them in the log or the history."""
    src, _, server = cloud
    build_copc([src], tmp_path / "cloud.vpc", tile_size=100)
    local = {p.relative_to(tmp_path).as_posix(): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    s3.client().create_bucket(Bucket="qgis-tiles")
    # "Open output file after running algorithm" checked: an output definition naming the project.
    destination = QgsProcessingOutputLayerDefinition("s3://qgis-tiles/pub/cloud.vpc", QgsProject.instance())
    parameters = dict(params([secret_url(server)], destination, f"key=AKIDq\nsecret={SECRET};token={TOKEN}\n"
                                                                f"retries=2"), TILE_SIZE=100)
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    feedback = RecordingFeedback()
    result = processing.run("copcbuilder:buildcopctiles", parameters, feedback=feedback, context=context)
    assert result["OUTPUT"] == "s3://qgis-tiles/pub/cloud.vpc" and result["TILES"] == len(local) - 2 > 1
    assert context.layersToLoadOnCompletion() == {}, "an uploaded .vpc is not opened"
    client = s3.client()
    stored = {k[len("pub/"):]: client.get_object(Bucket="qgis-tiles", Key=k)["Body"].read()
              for k in s3.keys("qgis-tiles")}
    assert stored == local
    parameters["OUTPUT"] = "s3://qgis-tiles/pub/cloud.vpc"
    for text in history_texts("copcbuilder:buildcopctiles", parameters, feedback) + [repr(result)]:
        for secret in (PASSWORD, SECRET, TOKEN):
            assert secret not in text, text

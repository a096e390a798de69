"""copcbuilder:buildcopctiles in real (headless) QGIS 3.40: the .vpc of
lastools_zurich.laz cut into 16 tiles opens with QGIS's vpc provider as one
layer (valid, every point counted, the right extent and CRS), the loaded
layer gets a point renderer (3.40 would give it the extent renderer), and a
map render zoomed in on part of a tile draws points."""
import json
import os
from pathlib import Path

import pytest
from qgis.core import (QgsApplication, QgsCoordinateReferenceSystem, QgsMapRendererSequentialJob, QgsMapSettings,
                       QgsPointCloudExtentRenderer, QgsPointCloudLayer,
                       QgsProcessingOutputLayerDefinition, QgsProject, QgsRectangle)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

import processing
from qgis_helpers import RecordingFeedback

pytestmark = pytest.mark.qgis

ZURICH_POINTS = 656_837


@pytest.fixture(scope="module")
def zurich(shared_data):
    return shared_data / "lastools_zurich.laz"


@pytest.fixture(scope="module")
def loaded(zurich, tmp_path_factory):
    """The tiles built and loaded as the dialog does with "Open output file" checked."""
    from processing.core.Processing import Processing

    Processing.initialize()
    if QgsApplication.processingRegistry().providerById("copcbuilder") is None:
        from conftest import _PROVIDERS
        from copc_builder.plugin.qgis_provider import CopcBuilderProvider

        _PROVIDERS[:] = [CopcBuilderProvider()]
        assert QgsApplication.processingRegistry().addProvider(_PROVIDERS[0])
    project = QgsProject.instance()
    out = tmp_path_factory.mktemp("qgis_tiles") / "zurich.vpc"
    result = processing.runAndLoadResults(
        "copcbuilder:buildcopctiles",
        {"INPUT": [str(zurich)], "OUTPUT": QgsProcessingOutputLayerDefinition(str(out), project),
         "TILE_SIZE": 25, "CRS": "EPSG:21781"}, feedback=RecordingFeedback())
    layers = [lyr for lyr in project.mapLayers().values()
              if isinstance(lyr, QgsPointCloudLayer) and lyr.source() == str(out)]
    assert len(layers) == 1
    yield result, layers[0], out
    project.removeMapLayer(layers[0].id())


def test_algorithm_is_registered_with_its_parameters(copc_processing):
    alg = QgsApplication.processingRegistry().algorithmById("copcbuilder:buildcopctiles")
    assert alg.displayName() == "Build COPC tiles (virtual point cloud)"
    names = [p.name() for p in alg.parameterDefinitions()]
    assert names[names.index("OUTPUT"):names.index("OUTPUT") + 4] == ["OUTPUT", "TILE_SIZE", "OVERVIEW",
                                                                       "OVERVIEW_SIZE"]
    assert alg.parameterDefinition("OUTPUT").defaultFileExtension() == "vpc"
    assert {o.name() for o in alg.outputDefinitions()} >= {"OUTPUT", "POINTS", "TILES", "OVERVIEW_POINTS"}


def test_the_vpc_opens_as_one_layer_with_every_point(loaded):
    result, layer, out = loaded
    assert result["TILES"] == 16 and result["POINTS"] == ZURICH_POINTS
    assert layer.providerType() == "vpc" and layer.isValid()
    assert layer.dataProvider().pointCount() == ZURICH_POINTS
    assert layer.crs().authid() == "EPSG:21781"
    items = json.loads(out.read_text())["features"]
    boxes = [f["properties"]["proj:bbox"] for f in items]
    extent = layer.extent()
    assert extent.xMinimum() == pytest.approx(min(b[0] for b in boxes), abs=0.01)
    assert extent.yMinimum() == pytest.approx(min(b[1] for b in boxes), abs=0.01)
    assert extent.xMaximum() == pytest.approx(max(b[3] for b in boxes), abs=0.01)
    assert extent.yMaximum() == pytest.approx(max(b[4] for b in boxes), abs=0.01)
    assert (extent.xMinimum(), extent.yMinimum()) == pytest.approx((676750.0, 246000.0), abs=0.02)


def test_the_loaded_layer_gets_the_renderer_qgis_gives_the_data(loaded):
    """By class for zurich (classes, no colour): the default renderer QGIS gives the overview COPC."""
    _, layer, out = loaded
    assert layer.renderer().type() == "classified"
    copc = QgsPointCloudLayer(str(out.parent / "zurich-overview.copc.laz"), "overview", "copc")
    assert layer.renderer().attribute() == copc.renderer().attribute() == "Classification"
    assert [c.value() for c in layer.renderer().categories()] == [c.value() for c in copc.renderer().categories()]


def render(layer, extent: QgsRectangle, size: int = 200):
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(layer.crs())
    settings.setExtent(extent)
    settings.setOutputSize(QSize(size, size))
    settings.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    return job.renderedImage()


def drawn_pixels(image) -> int:
    white = QColor(255, 255, 255).rgb()
    return sum(1 for y in range(0, image.height(), 2) for x in range(0, image.width(), 2)
               if image.pixel(x, y) != white)


def test_a_render_zoomed_in_on_part_of_a_tile_draws_points(loaded, tmp_path):
    _, layer, _ = loaded
    window = QgsRectangle(676760.0, 246010.0, 676770.0, 246020.0)     # 10 m inside the first 25 m tile
    image = render(layer, window)
    image.save(str(tmp_path / "zoomed.png"))
    assert drawn_pixels(image) > 0.3 * (image.width() // 2) * (image.height() // 2)
    outlines = QgsPointCloudLayer(str(loaded[2]), "outlines", "vpc")
    outlines.setRenderer(QgsPointCloudExtentRenderer())   # what the extent renderer draws: tile outlines only
    assert drawn_pixels(render(outlines, window)) < drawn_pixels(image) / 10


def test_overview_is_written_and_listed(loaded):
    _, _, out = loaded
    overview = out.parent / "zurich-overview.copc.laz"
    assert overview.is_file()
    items = json.loads(out.read_text())["features"]
    assert {f["assets"]["overview"]["href"] for f in items} == {"./zurich-overview.copc.laz"}
    assert sorted(os.listdir(out.parent)) == ["zurich-overview.copc.laz", "zurich-tiles", "zurich.vpc"]
    assert len(os.listdir(out.parent / "zurich-tiles")) == 16


def test_validate_copc_accepts_the_vpc(loaded, tmp_path):
    _, layer, out = loaded
    result = processing.run("copcbuilder:validatecopc", {"INPUT": str(out), "REPORT": str(tmp_path / "r.html")},
                            feedback=RecordingFeedback())
    assert result["VALID"] and result["POINTS"] == ZURICH_POINTS and result["ERRORS"] == 0
    assert "valid virtual point cloud" in (tmp_path / "r.html").read_text()
    as_layer = processing.run("copcbuilder:validatecopc", {"INPUT": layer, "REPORT": str(tmp_path / "s.html")},
                              feedback=RecordingFeedback())
    assert as_layer["VALID"] and as_layer["POINTS"] == ZURICH_POINTS

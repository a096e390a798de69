"""Processing algorithm copcbuilder:buildcopctiles, "Build COPC tiles (virtual point cloud)".

Build COPC with one more cut: the same inputs and advanced parameters, a
tile size, and a point-cloud output named *.vpc.  An algorithm of its own
rather than a parameter of Build COPC, so that in the model designer its
output is a virtual point cloud from the start (file filter, default
extension, what a following algorithm receives) and Build COPC's output
stays a COPC file whatever a model sets.

"Open output file after running algorithm" loads the .vpc as one layer with
QGIS's ``vpc`` provider.  QGIS 3.40 gives a VPC layer the extent renderer
(only the tiles' outlines); the loaded layer gets instead the renderer QGIS
gives a COPC file of the same data: by colour, by class or by height, as
the data offers (vpc_style.py).
"""
from __future__ import annotations

from qgis.core import Qgis, QgsProcessingOutputNumber, QgsProcessingParameterBoolean, QgsProcessingParameterNumber
from qgis.PyQt.QtCore import QCoreApplication

from .qgis_build_algorithm import BuildCopcAlgorithm
from .qgis_parameters import VpcDestinationParameter
from .qgis_vpc_style import VpcStyler

DEFAULT_TILE_SIZE = 1000.0
# Post-processors of loaded layers, kept alive here: Processing runs a copy of
# the algorithm, gone before QGIS calls the post-processor, and holds no
# Python reference of its own.
_STYLERS = []


def _tr(text: str) -> str:
    return QCoreApplication.translate("BuildCopcTilesAlgorithm", text)


class BuildCopcTilesAlgorithm(BuildCopcAlgorithm):
    TILE_SIZE = "TILE_SIZE"
    OVERVIEW = "OVERVIEW"
    OVERVIEW_SIZE = "OVERVIEW_SIZE"
    TILES = "TILES"
    OVERVIEW_POINTS = "OVERVIEW_POINTS"

    def createInstance(self):  # noqa: N802
        return BuildCopcTilesAlgorithm()

    def name(self) -> str:
        return "buildcopctiles"

    def displayName(self) -> str:  # noqa: N802
        return _tr("Build COPC tiles (virtual point cloud)")

    def tags(self):
        return _tr("copc,vpc,virtual point cloud,tiles,tile,grid,overview,laz,las,lidar,point cloud").split(",")

    def shortDescription(self) -> str:  # noqa: N802
        return _tr("Cuts LAS/LAZ files into COPC tiles on a grid and lists them in a virtual point cloud (.vpc).")

    def shortHelpString(self) -> str:  # noqa: N802
        return _tr(
            "<p>Reads the inputs once and cuts their points on a square grid: one COPC file per non-empty cell "
            "in the folder <i>OUTPUT</i>-tiles beside the output, an overview COPC (<i>OUTPUT</i>-overview"
            ".copc.laz) of every tile's coarsest level, and the output <code>.vpc</code> listing them, which "
            "QGIS opens as one layer. Every point is in exactly one tile; the tiles share the point format, "
            "scale, offset and CRS.</p>"
            "<p><b>Tile size</b>: the side of a tile in the output CRS's units; tile corners are at "
            "multiples of it and tiles are named by their lower-left corner.</p>"
            "<p><b>Overview</b>: write the overview (QGIS 3.42 and later draw it when zoomed out; 3.40 "
            "draws the tiles' outlines). <b>Overview cell size</b> (advanced): split the overview into "
            "files covering that many units a side (whole tiles); 0: one overview, split only past 100 "
            "million points.</p>"
            "<p>The other parameters are those of <i>Build COPC</i>. The inputs must have a CRS (or set "
            "<i>CRS</i>): the .vpc places every tile in WGS 84. The output may be "
            "<code>s3://bucket/prefix/OUTPUT.vpc</code>: everything is built in the temp folder, then uploaded, "
            "the tiles and the overview first and the .vpc last (QGIS does not open it).</p>"
            "<h3>Outputs</h3><p><b>Virtual point cloud</b>, <b>Points</b>, <b>Nodes</b>, <b>Tiles</b> and "
            "<b>Overview points</b>.</p>")

    def output_parameter(self):
        return VpcDestinationParameter(self.OUTPUT, _tr("Virtual point cloud"))

    def add_main_parameters(self) -> None:
        self.addParameter(QgsProcessingParameterNumber(
            self.TILE_SIZE, _tr("Tile size (output CRS units)"), type=Qgis.ProcessingNumberParameterType.Double,
            defaultValue=DEFAULT_TILE_SIZE, minValue=0.000001))
        self.addParameter(QgsProcessingParameterBoolean(self.OVERVIEW, _tr("Overview"), defaultValue=True))
        size = QgsProcessingParameterNumber(self.OVERVIEW_SIZE, _tr("Overview cell size (0: one overview)"),
                                            type=Qgis.ProcessingNumberParameterType.Double, defaultValue=0,
                                            minValue=0)
        size.setFlags(size.flags() | Qgis.ProcessingParameterFlag.Advanced)
        self.addParameter(size)

    def initAlgorithm(self, config=None):  # noqa: N802
        super().initAlgorithm(config)
        self.addOutput(QgsProcessingOutputNumber(self.TILES, _tr("Tiles")))
        self.addOutput(QgsProcessingOutputNumber(self.OVERVIEW_POINTS, _tr("Overview points")))

    def build_options(self, parameters, context) -> dict:
        options = super().build_options(parameters, context)
        options["tile_size"] = self.parameterAsDouble(parameters, self.TILE_SIZE, context)
        options["overview"] = self.parameterAsBoolean(parameters, self.OVERVIEW, context)
        options["overview_size"] = self.parameterAsDouble(parameters, self.OVERVIEW_SIZE, context) or None
        return options

    def check_output_name(self, output: str, feedback) -> None:
        """The core refuses an output not named *.vpc, with a message naming it."""

    def results(self, summary, context, feedback) -> dict:
        feedback.pushInfo(summary.describe())
        if context.willLoadLayerOnCompletion(summary.output):
            sample = max(summary.overviews, key=lambda o: o["points"], default=None) or \
                max(summary.tiles, key=lambda t: t["points"])
            styler = VpcStyler(sample["path"])
            _STYLERS[:] = _STYLERS[-7:] + [styler]
            context.layerToLoadOnCompletionDetails(summary.output).setPostProcessor(styler)
        return {self.OUTPUT: summary.output, self.POINTS: summary.points, self.NODES: summary.nodes,
                self.TILES: len(summary.tiles), self.OVERVIEW_POINTS: sum(o["points"] for o in summary.overviews)}

"""The "COPC Builder" Processing provider (id ``copcbuilder``)."""
from __future__ import annotations

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon

from .qgis_support import HOMEPAGE, ICON_PATH


class CopcBuilderProvider(QgsProcessingProvider):
    def id(self) -> str:
        return "copcbuilder"

    def name(self) -> str:
        return QCoreApplication.translate("CopcBuilderProvider", "COPC Builder")

    def longName(self) -> str:  # noqa: N802
        from copc_builder import __version__

        return QCoreApplication.translate("CopcBuilderProvider", "COPC Builder {}").format(__version__)

    def icon(self):
        return QIcon(ICON_PATH)

    def svgIconPath(self) -> str:  # noqa: N802
        return ICON_PATH

    def helpId(self) -> str:  # noqa: N802
        return HOMEPAGE

    def supportedOutputPointCloudLayerExtensions(self):  # noqa: N802
        # What QGIS accepts as a point-cloud output of ours: COPC, and the
        # plain .laz a user may still type (Build COPC warns about it), and
        # the virtual point cloud of Build COPC tiles.
        return ["copc.laz", "laz", "vpc"]

    def defaultPointCloudFileExtension(self) -> str:  # noqa: N802
        return "copc.laz"

    def loadAlgorithms(self):  # noqa: N802
        # Only qgis and the core's host-free contracts are imported here:
        # numpy, numba, laspy and lazrs wait until an algorithm runs.
        from .qgis_build_algorithm import BuildCopcAlgorithm
        from .qgis_install_algorithm import InstallDependenciesAlgorithm
        from .qgis_tiles_algorithm import BuildCopcTilesAlgorithm
        from .qgis_validate_algorithm import ValidateCopcAlgorithm

        self.addAlgorithm(BuildCopcAlgorithm())
        self.addAlgorithm(ValidateCopcAlgorithm())
        self.addAlgorithm(InstallDependenciesAlgorithm())
        self.addAlgorithm(BuildCopcTilesAlgorithm())

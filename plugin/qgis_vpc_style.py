"""The renderer a virtual point cloud layer of COPC tiles gets when Processing loads it.

QGIS 3.40 gives a VPC layer the extent renderer (QgsPointCloudLayer sets the
extent renderer while statistics are "calculating", and a VPC has none of
its own), so it shows the tiles' outlines only.  The layer gets instead the
renderer QGIS itself gives a COPC file of the same points: QGIS's default
renderer (by RGB, else by classification, else a ramp on Z) for one of the
tiles (the overview, which samples them all), whose exact statistics our
files carry.  On QGIS 3.42 and later, which draw a VPC's overview when
zoomed out, the renderer is told to.
"""
from __future__ import annotations

from qgis.core import (Qgis, QgsPointCloudLayer, QgsPointCloudRendererRegistry,
                       QgsProcessingLayerPostProcessorInterface)


def renderer_for(sample_copc: str):
    """QGIS's default renderer for the COPC file ``sample_copc`` (None when it cannot be opened)."""
    layer = QgsPointCloudLayer(sample_copc, "sample", "copc")
    if not layer.isValid():
        return None
    renderer = QgsPointCloudRendererRegistry.defaultRenderer(layer)
    overview = getattr(getattr(Qgis, "PointCloudZoomOutRenderBehavior", None), "RenderOverview", None)
    if overview is not None and hasattr(renderer, "setZoomOutBehavior"):   # QGIS 3.42+
        renderer.setZoomOutBehavior(overview)
    return renderer


def style_vpc_layer(layer, sample_copc: str) -> bool:
    """Give ``layer`` (a point-cloud layer) the renderer of its sample; True when it got one."""
    renderer = renderer_for(sample_copc)
    if renderer is None or not isinstance(layer, QgsPointCloudLayer):
        return False
    layer.setRenderer(renderer)
    layer.triggerRepaint()
    return True


class VpcStyler(QgsProcessingLayerPostProcessorInterface):
    """Processing's hook on a loaded output layer: styles the .vpc layer."""

    def __init__(self, sample_copc: str):
        super().__init__()
        self.sample_copc = sample_copc

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802
        if not style_vpc_layer(layer, self.sample_copc) and feedback is not None:
            feedback.pushWarning(f"could not style {layer.name()} from {self.sample_copc}")

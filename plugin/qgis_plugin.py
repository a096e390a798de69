"""The QGIS plugin: registers the "COPC Builder" Processing provider.

QGIS calls ``initProcessing`` on its own for plugins whose metadata says
``hasProcessingProvider=yes`` (qgis_process does too), then ``initGui`` when
there is a GUI; the provider is added once either way.  With a GUI, the
first start also compiles the build's kernels in the background, once
(qgis_kernels.py).
"""
from __future__ import annotations

from qgis.core import QgsApplication


class CopcBuilderPlugin:
    def __init__(self, iface=None):
        self.iface = iface
        # A Python reference, so the provider's Python half lives as long as
        # the registry holds it.
        self.provider = None
        self.compile_task = None

    def initProcessing(self):  # noqa: N802 (QGIS's name)
        if self.provider is not None:
            return
        from .qgis_provider import CopcBuilderProvider

        provider = CopcBuilderProvider()
        if QgsApplication.processingRegistry().addProvider(provider):
            self.provider = provider

    def initGui(self):  # noqa: N802
        self.initProcessing()
        from .qgis_kernels import start_compile

        self.compile_task = start_compile(self.iface)

    def unload(self):
        if self.compile_task is not None:
            try:
                self.compile_task.cancel()      # kills its child Python; QGIS deletes a finished task
            except RuntimeError:
                pass
            self.compile_task = None
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None

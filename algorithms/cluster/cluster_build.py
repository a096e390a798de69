"""The build on a Dask cluster: the in-process build's stages as tasks."""
from __future__ import annotations

from .dask_support import import_distributed


class ClusterBuild:
    def __init__(self, inputs, output: str, options, progress, software: str):
        self.inputs, self.output, self.options = inputs, output, options
        self.progress, self.software = progress, software

    def run(self):
        import_distributed()
        raise NotImplementedError("the cluster build is being written")

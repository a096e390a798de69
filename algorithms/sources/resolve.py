"""Turn what a caller passes as ``inputs`` into sources."""
from __future__ import annotations

import os
from typing import Any, List

import numpy as np

from ..common.errors import InputError
from .las_file import LasFile
from .pdal_arrays import ArraySource
from .pdal_pipeline import DEFAULT_CHUNK, PipelineSource, is_pipeline_spec
from .source import PointSource


def is_path(obj: Any) -> bool:
    """A file path (str or os.PathLike) among the inputs."""
    return isinstance(obj, (str, os.PathLike))


def is_source(obj: Any) -> bool:
    """An already opened source (ArraySource, PipelineSource, LasFile)."""
    return isinstance(obj, PointSource)


def open_sources(inputs, progress=None, chunk_points: int = DEFAULT_CHUNK, storage=None) -> List[PointSource]:
    """Paths -> LAS/LAZ files; a structured array, a list of arrays or any
    iterable of arrays -> one cloud; a PDAL pipeline (a pdal.Pipeline, a
    PipelineInput, a JSON string or a .json file) -> its points; an opened
    source -> itself.  ``progress`` receives a pipeline's warnings;
    ``chunk_points`` is the size of the chunks a pipeline is streamed in;
    ``storage`` (StorageOptions) reads s3:// and http(s):// URLs."""
    if (is_path(inputs) or isinstance(inputs, np.ndarray) or is_pipeline_spec(inputs)
            or is_source(inputs)):
        inputs = [inputs]
    elif not isinstance(inputs, (list, tuple)):
        return [ArraySource(inputs, name="<array iterable>")]
    if not inputs:
        raise InputError("(no input)", "give at least one input")
    if all(isinstance(i, np.ndarray) for i in inputs):
        return [ArraySource(list(inputs), name="<arrays>")]
    sources = []
    for i, item in enumerate(inputs):
        if is_source(item):
            sources.append(item)
        elif is_pipeline_spec(item):
            sources.append(PipelineSource(item, progress, chunk_points))
        elif is_path(item):
            sources.append(LasFile(os.fspath(item), storage))
        elif isinstance(item, np.ndarray):
            sources.append(ArraySource([item], name=f"<array {i}>"))
        else:
            raise InputError(f"<input {i}>", f"cannot read a {type(item).__name__}; give LAS/LAZ "
                                             f"paths, numpy structured arrays or a PDAL pipeline")
    return sources

"""Turn what a caller passes as ``inputs`` into sources."""
from __future__ import annotations

import os
from typing import Any, List

import numpy as np

from ..errors import InputError
from .las_file import LasFile
from .pdal_arrays import ArraySource


def _is_path(obj: Any) -> bool:
    return isinstance(obj, (str, os.PathLike))


def _is_pipeline(obj: Any) -> bool:
    return type(obj).__module__.split(".")[0] == "pdal" and hasattr(obj, "execute")


def open_sources(inputs) -> List[Any]:
    """Paths -> LAS/LAZ files; a structured array, a list of arrays or any
    iterable of arrays -> one cloud; a pdal.Pipeline -> its points."""
    if _is_path(inputs) or isinstance(inputs, np.ndarray) or _is_pipeline(inputs):
        inputs = [inputs]
    elif not isinstance(inputs, (list, tuple)):
        return [ArraySource(inputs, name="<array iterable>")]
    if not inputs:
        raise InputError("(no input)", "give at least one input")
    if all(isinstance(i, np.ndarray) for i in inputs):
        return [ArraySource(list(inputs), name="<arrays>")]
    sources = []
    for i, item in enumerate(inputs):
        if _is_path(item):
            sources.append(LasFile(os.fspath(item)))
        elif isinstance(item, np.ndarray):
            sources.append(ArraySource([item], name=f"<array {i}>"))
        elif _is_pipeline(item):
            from .pdal_pipeline import PipelineSource

            sources.append(PipelineSource(item))
        else:
            raise InputError(f"<input {i}>", f"cannot read a {type(item).__name__}; give LAS/LAZ "
                                             f"paths, numpy structured arrays or a pdal.Pipeline")
    return sources

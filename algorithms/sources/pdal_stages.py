"""What a PDAL pipeline's stages tell before any point is read (no pdal import).

A LAS/COPC reader knows the data's scale, offset and bounds; they stay true
after filters that only select, classify or add dimensions, and become wrong
after one that moves points (filters.reprojection, filters.transformation,
filters.python ...).  ``moves_points`` is that judgement, conservative: a
stage not known to keep X, Y and Z is taken to move them.
"""
from __future__ import annotations

import os
import re
from typing import Iterable, List, Optional, Sequence, Tuple

import numpy as np

# Filters that never change X, Y or Z (they select, sort, split, classify or
# add other dimensions).  filters.assign and filters.ferry are judged by
# their options.
KEEP_COORDINATES = frozenset({
    "filters.approximatecoplanar", "filters.chipper", "filters.cluster", "filters.colorinterp",
    "filters.colorization", "filters.covariancefeatures", "filters.crop", "filters.dbscan",
    "filters.decimation", "filters.divider", "filters.eigenvalues", "filters.elm",
    "filters.estimaterank", "filters.expression", "filters.expressionstats", "filters.farthestpointsampling",
    "filters.fps", "filters.griddecimation", "filters.groupby", "filters.hag_delaunay",
    "filters.hag_dem", "filters.hag_nn", "filters.head", "filters.info", "filters.iqr",
    "filters.label_duplicates", "filters.litree", "filters.locate", "filters.lof", "filters.mad",
    "filters.merge", "filters.mongo", "filters.nndistance", "filters.normal",
    "filters.optimalneighborhood", "filters.outlier", "filters.overlay", "filters.planefit",
    "filters.pmf", "filters.radialdensity", "filters.randomize", "filters.range",
    "filters.reciprocity", "filters.relaxationdartthrowing", "filters.returns", "filters.sample",
    "filters.skewnessbalancing", "filters.smrf", "filters.csf", "filters.sort", "filters.splitter",
    "filters.stats", "filters.tail", "filters.voxelcenternearestneighbor",
    "filters.voxelcentroidnearestneighbor", "filters.neighborclassifier",
})
LAS_READERS = ("readers.las", "readers.copc")


def _option_texts(value) -> List[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


def _assign_target(text: str) -> str:
    """'Z = Z * 2 WHERE ...' or 'Z[0:10]=5' -> 'Z'."""
    text = re.split(r"\bwhere\b", text, flags=re.IGNORECASE)[0]
    return text.split("=")[0].split("[")[0].strip()


def moves_points(stage: dict) -> bool:
    """True when this stage may change X, Y or Z (options considered)."""
    kind = str(stage.get("type", ""))
    if kind.startswith(("readers.", "writers.")):
        return False
    if kind == "filters.assign":
        texts = _option_texts(stage.get("assignment")) + _option_texts(stage.get("value"))
        return any(_assign_target(t) in ("X", "Y", "Z") for t in texts)
    if kind == "filters.ferry":
        for spec in _option_texts(stage.get("dimensions")):
            for pair in spec.split(","):
                target = pair.split("=>")[-1] if "=>" in pair else pair.split("=")[-1]
                if target.strip() in ("X", "Y", "Z"):
                    return True
        return False
    return kind not in KEEP_COORDINATES


def stage_types_move_points(types: Iterable[str]) -> bool:
    """The same judgement from stage names alone (options unknown, so
    filters.assign and filters.ferry count as moving points)."""
    return any(moves_points({"type": t}) or t in ("filters.assign", "filters.ferry") for t in types)


def describe(stages: Sequence[dict], limit: int = 4) -> str:
    """'PDAL pipeline readers.las(a.las) | filters.range' for messages."""
    parts = []
    for stage in stages[:limit]:
        kind = str(stage.get("type", "?"))
        name = stage.get("filename")
        parts.append(f"{kind}({os.path.basename(str(name))})" if name else kind)
    if len(stages) > limit:
        parts.append("...")
    return "PDAL pipeline " + " | ".join(parts)


def local_las_readers(stages: Sequence[dict]) -> Optional[List[str]]:
    """Paths of the pipeline's readers when every reader is a local LAS/COPC
    file, else None (another reader, or a remote file)."""
    paths = []
    for stage in stages:
        kind = str(stage.get("type", ""))
        if not kind.startswith("readers."):
            continue
        name = stage.get("filename")
        if kind not in LAS_READERS or not isinstance(name, str) or "://" in name:
            return None
        if not os.path.isfile(name):
            return None
        paths.append(name)
    return paths or None


def las_metadata_frame(metadata: dict) -> Optional[Tuple[np.ndarray, np.ndarray]]:
    """(scales, offsets) from readers.las/readers.copc metadata (values may be strings)."""
    try:
        scales = np.array([float(metadata[f"scale_{a}"]) for a in "xyz"])
        offsets = np.array([float(metadata[f"offset_{a}"]) for a in "xyz"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (np.all(np.isfinite(scales)) and np.all(scales > 0) and np.all(np.isfinite(offsets))):
        return None
    return scales, offsets


"""The points PDAL's ``filters.python`` hands the stage (plugin/pdal_stage.py),
as a source: PDAL's dict of dimension arrays as one structured array, with
the frame of the pipeline's LAS readers (when no stage moved points and they
agree) and the CRS PDAL gives the points."""
from __future__ import annotations

from ..common.errors import InputError
from .pdal_arrays import ArraySource
from .pdal_pipeline import srs_of
from .pdal_stages import LAS_READERS, las_metadata_frame, stage_types_move_points

STAGE_NAME = "filters.python stage"


def stage_source(ins, metadata, spatialreference) -> ArraySource:
    """The source of one point view: ``ins``, ``metadata`` and
    ``spatialreference`` as filters.python passes them."""
    cloud = structured_points(ins)
    frame, crs_wkt = pipeline_frame_and_crs(metadata, spatialreference)
    return ArraySource([cloud], name=f"{STAGE_NAME} ({len(cloud):,} points)",
                       scale=frame[0] if frame else None, offset=frame[1] if frame else None,
                       crs_wkt=crs_wkt)


def structured_points(ins):
    """PDAL's dict of dimension arrays -> one structured array."""
    import numpy as np

    if not isinstance(ins, dict) or not ins:
        raise InputError(STAGE_NAME, "received no dimensions from PDAL")
    columns = {name: np.asarray(values) for name, values in ins.items()}
    lengths = {len(v) for v in columns.values()}
    if len(lengths) != 1:
        raise InputError(STAGE_NAME, f"dimensions of different lengths {sorted(lengths)}")
    n = lengths.pop()
    cloud = np.empty(n, dtype=[(name, v.dtype) for name, v in columns.items()])
    for name, v in columns.items():
        cloud[name] = v
    return cloud


def metadata_tree(node) -> dict:
    """PDAL's metadata tree ({'name', 'value', 'children'}) -> {name: value or dict or list}."""
    out: dict = {}
    for child in (node or {}).get("children", []) or []:
        name = child.get("name")
        value = metadata_tree(child) if child.get("children") else child.get("value")
        if name in out:
            out[name] = (out[name] if isinstance(out[name], list) else [out[name]]) + [value]
        else:
            out[name] = value
    return out


def pipeline_frame_and_crs(metadata, spatialreference):
    """((scales, offsets) or None, WKT or None) from PDAL's globals."""
    stages = metadata_tree(metadata) if isinstance(metadata, dict) else {}
    names = []
    for name, value in stages.items():
        names += [name] * (len(value) if isinstance(value, list) else 1)
    if "filters.python" in names:
        names.remove("filters.python")   # this stage
    frame = None
    readers = [n for n in names if n.startswith("readers.")]
    if readers and all(n in LAS_READERS for n in readers) and not stage_types_move_points(names):
        frames = []
        for name in set(readers):
            entries = stages[name] if isinstance(stages[name], list) else [stages[name]]
            frames += [las_metadata_frame(e) if isinstance(e, dict) else None for e in entries]
        if frames and all(f is not None for f in frames) and all(
                (f[0] == frames[0][0]).all() and (f[1] == frames[0][1]).all() for f in frames):
            frame = frames[0]
    return frame, srs_of(spatialreference)

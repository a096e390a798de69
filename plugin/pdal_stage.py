"""copc_builder as a stage of a PDAL pipeline, run by PDAL's ``filters.python``.

    {
      "type": "filters.python",
      "script": "/path/to/copc_builder/plugin/pdal_stage.py",
      "module": "copc_builder_pdal_stage",
      "function": "build_copc",
      "pdalargs": {"output": "out.copc.laz", "memory_budget": "4G"}
    }

``build_copc(ins, outs)`` writes the points it is given as one COPC file and
passes them on unchanged: ``outs`` stays empty, which tells PDAL to keep
every dimension as it is (filling it with ``ins`` would make PDAL copy every
dimension back for nothing).

pdalargs: ``output`` (required), and optionally ``memory_budget``,
``temp_dir``, ``scale``, ``offset``, ``a_srs``, ``threads``.  By default the
scale and offset are those of the pipeline's LAS/COPC reader when no earlier
stage moves points, and the CRS is the one PDAL gives the points.

PDAL calls the function once per point view, with the whole view in memory
(filters.python does not stream).  After filters.splitter, filters.chipper
or filters.groupby there are several views: put '#' in the output name
(as in writers.las) to write one COPC per view, numbered from 1, or merge
the views first (filters.merge); without '#', a second view is an error.

PDAL loads this file by path as a module of its own, outside the package:
``copc_builder`` must be importable by PDAL's Python (see the README for
PYTHONPATH), and nothing here imports it, numpy or pdal at module level.
Log lines go to stderr (PDAL sends a stage's stdout to its own log).  An
error is printed there too, and fails the pipeline with PDAL's own error,
whose message quotes it ("Can't set numpy array 'copc_builder error: ...'").
"""
from __future__ import annotations

import sys

OPTIONS = ("output", "memory_budget", "temp_dir", "scale", "offset", "a_srs", "threads")
MODULE_NAME = "copc_builder_pdal_stage"   # never "copc_builder": PDAL registers it in sys.modules

_views_written = []   # outputs written in this run (PDAL re-executes the module per pipeline)


def build_copc(ins, outs):
    """PDAL's filters.python entry point: write ``ins`` as a COPC; points pass through."""
    args = globals().get("pdalargs")
    if args is None:
        _outside_pdal()
    try:
        _write(ins, args)
    except Exception as exc:
        # An exception leaving a filters.python function is released twice by
        # pdal-plugins (1.6.7: getTraceback), which corrupts memory.  Fail
        # through PDAL instead: it refuses an output array it has no
        # dimension for, with this name in its message.
        text = str(exc) or type(exc).__name__
        _log(f"error: {text}")
        outs.clear()
        outs[f"copc_builder error: {text}"] = None
    return True


def _write(ins, args) -> None:
    api, errors, arrays = _import_copc_builder()
    options = _options(args, errors)
    output = _output_name(options.pop("output"), errors)
    cloud = _structured(ins, errors)
    frame, crs_wkt = _pipeline_frame_and_crs(globals().get("metadata"),
                                             globals().get("spatialreference"))
    name = f"filters.python stage ({len(cloud):,} points)"
    source = arrays.ArraySource([cloud], name=name, scale=frame[0] if frame else None,
                                offset=frame[1] if frame else None, crs_wkt=crs_wkt)
    _log(f"writing {output} from {len(cloud):,} points")
    from copc_builder.plugin.progress_printers import PlainProgress

    summary = api.build_copc(source, output, observer=PlainProgress(sys.stderr, LOG_PREFIX), **options)
    _views_written.append(summary.output)
    _log(summary.describe())
    globals()["out_metadata"] = {
        "name": "copc_builder", "value": summary.output, "type": "string",
        "description": "COPC file written by copc_builder",
        "children": [{"name": "points", "value": str(summary.points), "type": "string",
                      "description": "points written"}]}


def stage_json(output: str, **options) -> dict:
    """The filters.python stage (a dict for a pipeline's JSON list) that
    writes ``output`` with these options (memory_budget, temp_dir, ...)."""
    import os

    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise TypeError(f"unknown option(s) {', '.join(unknown)}; known: {', '.join(OPTIONS[1:])}")
    args = {"output": os.fspath(output)}
    args.update({k: v for k, v in options.items() if v is not None})
    return {"type": "filters.python", "script": os.path.abspath(__file__), "module": MODULE_NAME,
            "function": "build_copc", "pdalargs": args}


# -- the parts ----------------------------------------------------------------------
LOG_PREFIX = "copc_builder: "


def _log(text: str) -> None:
    print(f"{LOG_PREFIX}{text}", file=sys.stderr, flush=True)


def _outside_pdal():
    """Called without PDAL's globals: say what is needed to run it in PDAL."""
    try:
        from copc_builder.algorithms.errors import DependencyError
        from copc_builder.algorithms.sources.pdal_support import (STAGE_INSTALL, import_pdal,
                                                                  pdal_missing_message)
    except ImportError:
        raise RuntimeError("build_copc(ins, outs) is a stage for PDAL's filters.python, and "
                           "copc_builder is not importable here") from None
    try:
        import_pdal()
    except DependencyError:
        raise DependencyError(f"{pdal_missing_message()}; {STAGE_INSTALL}") from None
    raise DependencyError("build_copc(ins, outs) runs inside PDAL's filters.python, which passes "
                          "it 'pdalargs' (at least {\"output\": \"out.copc.laz\"}); put it in a "
                          f"pipeline (see the README): {STAGE_INSTALL}")


def _import_copc_builder():
    try:
        from copc_builder.algorithms import api, errors
        from copc_builder.algorithms.sources import pdal_arrays
    except ImportError as exc:
        raise ImportError(
            f"PDAL's Python ({sys.executable}, Python "
            f"{sys.version_info[0]}.{sys.version_info[1]}) cannot import copc_builder or its "
            f"dependencies ({exc}); put the folder that holds copc_builder and the site-packages "
            f"folder of its dependencies on PYTHONPATH") from None
    return api, errors, pdal_arrays


def _options(args, errors) -> dict:
    if not isinstance(args, dict):
        raise errors.OptionError(f"pdalargs must be a JSON object, got {args!r}")
    unknown = sorted(set(args) - set(OPTIONS))
    if unknown:
        raise errors.OptionError(f"unknown pdalargs {', '.join(unknown)}; "
                                 f"known: {', '.join(OPTIONS)}")
    if not args.get("output"):
        raise errors.OptionError('pdalargs needs "output", the COPC file '
                                 'to write, e.g. {"output": "out.copc.laz"}')
    return dict(args)


def _output_name(output: str, errors) -> str:
    """'#' numbers the views; without it a second view would overwrite the first."""
    output = str(output)
    if "#" in output:
        return output.replace("#", str(len(_views_written) + 1), 1)
    if _views_written:
        raise errors.OptionError(
            f"PDAL passed a second point view (after filters.splitter, "
            f"chipper or groupby?); {output} already holds the first. Put filters.merge "
            f"before this stage, or '#' in the output name for one COPC per view")
    return output


def _structured(ins, errors):
    """PDAL's dict of dimension arrays -> one structured array."""
    import numpy as np

    if not isinstance(ins, dict) or not ins:
        raise errors.InputError("filters.python stage", "received no dimensions from PDAL")
    columns = {name: np.asarray(values) for name, values in ins.items()}
    lengths = {len(v) for v in columns.values()}
    if len(lengths) != 1:
        raise errors.InputError("filters.python stage", f"dimensions of different lengths {sorted(lengths)}")
    n = lengths.pop()
    cloud = np.empty(n, dtype=[(name, v.dtype) for name, v in columns.items()])
    for name, v in columns.items():
        cloud[name] = v
    return cloud


def _tree(node) -> dict:
    """PDAL's metadata tree ({'name', 'value', 'children'}) -> {name: value or dict or list}."""
    out: dict = {}
    for child in (node or {}).get("children", []) or []:
        name = child.get("name")
        value = _tree(child) if child.get("children") else child.get("value")
        if name in out:
            out[name] = (out[name] if isinstance(out[name], list) else [out[name]]) + [value]
        else:
            out[name] = value
    return out


def _pipeline_frame_and_crs(metadata, spatialreference):
    """((scales, offsets) or None, WKT or None) from PDAL's globals."""
    from copc_builder.algorithms.sources.pdal_pipeline import srs_of
    from copc_builder.algorithms.sources.pdal_stages import (LAS_READERS, las_metadata_frame,
                                                             stage_types_move_points)

    stages = _tree(metadata) if isinstance(metadata, dict) else {}
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

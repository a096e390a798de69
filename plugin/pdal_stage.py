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
    api = _import_copc_builder()
    options = _options(args, api)
    output = _output_name(options.pop("output"), api)
    source = api.stage_source(ins, globals().get("metadata"), globals().get("spatialreference"))
    _log(f"writing {output} from {source.point_count:,} points")
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
        from copc_builder.algorithms.api import (STAGE_INSTALL, DependencyError, import_pdal,
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
        from copc_builder.algorithms import api
    except ImportError as exc:
        raise ImportError(
            f"PDAL's Python ({sys.executable}, Python "
            f"{sys.version_info[0]}.{sys.version_info[1]}) cannot import copc_builder or its "
            f"dependencies ({exc}); put the folder that holds copc_builder and the site-packages "
            f"folder of its dependencies on PYTHONPATH") from None
    return api


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

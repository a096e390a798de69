"""copc_builder: build COPC files from LAS/LAZ files or PDAL pipelines.

This folder is both the QGIS plugin (QGIS calls ``classFactory``) and the
Python package.  Importing it imports neither qgis, pdal nor numba: the
public names below are resolved on first use.

    from copc_builder import build_copc, validate_copc
    summary = build_copc(["a.laz", "b.laz"], "out.copc.laz")
"""

__version__ = "0.1.0"

_LAZY = {
    "build_copc": ("copc_builder.algorithms.api", "build_copc"),
    "BuildSummary": ("copc_builder.algorithms.api", "BuildSummary"),
    "DEFAULT_MEMORY_BUDGET": ("copc_builder.algorithms.common.options", "DEFAULT_MEMORY_BUDGET"),
    "PipelineInput": ("copc_builder.algorithms.sources.pdal_pipeline", "PipelineInput"),
    "format_report": ("copc_builder.algorithms.validate", "format_report"),
    "format_info": ("copc_builder.algorithms.inspection.info", "format_info"),
    "validate_copc": ("copc_builder.algorithms.validate", "validate_copc"),
    "copc_info": ("copc_builder.algorithms.inspection.info", "copc_info"),
    "CopcBuilderError": ("copc_builder.algorithms.common.errors", "CopcBuilderError"),
    "InputError": ("copc_builder.algorithms.common.errors", "InputError"),
    "OutputError": ("copc_builder.algorithms.common.errors", "OutputError"),
    "OptionError": ("copc_builder.algorithms.common.errors", "OptionError"),
    "DependencyError": ("copc_builder.algorithms.common.errors", "DependencyError"),
    "BuildCancelled": ("copc_builder.algorithms.common.errors", "BuildCancelled"),
    # For a process of one's own, before the heavy imports (the command line's run()):
    "CHUNK_POINTS": ("copc_builder.algorithms.common.options", "CHUNK_POINTS"),
    "decode_first_chunk": ("copc_builder.algorithms.sources.first_chunk", "start"),
    "close_first_chunks": ("copc_builder.algorithms.sources.first_chunk", "close_all"),
}

__all__ = sorted(_LAZY) + ["classFactory", "__version__"]


def __getattr__(name):
    try:
        module_name, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    import importlib

    value = getattr(importlib.import_module(module_name), attr)
    globals()[name] = value
    return value


def classFactory(iface):  # noqa: N802 (QGIS's name)
    """QGIS entry point: the plugin class is imported only now."""
    from .plugin.qgis_plugin import CopcBuilderPlugin

    return CopcBuilderPlugin(iface)

"""Processing algorithm copcbuilder:buildcopc, "Build COPC".

A thin adapter: it reads the parameters, calls
``copc_builder.algorithms.api.build_copc`` and maps the core's progress,
messages, cancel and errors onto Processing's.  The core (numpy, numba,
laspy, lazrs) is imported only when the algorithm runs.
"""
from __future__ import annotations

import os

from qgis.core import (
    Qgis,
    QgsCoordinateReferenceSystem,
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterCrs,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)
from qgis.PyQt.QtCore import QCoreApplication

from copc_builder import DEFAULT_MEMORY_BUDGET

from .qgis_build_help import build_help
from .qgis_kernels import compile_before_build
from .qgis_support import (BUILD_MODULES, CopcAlgorithm, FeedbackObserver, dependency_help, dependency_problem,
                           findable, spawn_python_processes)
from .qgis_parameters import (CopcDestinationParameter, LasFilesParameter, StorageOptionsParameter, parameter_files,
                              storage_option_lines)
from .qgis_words import in_qgis_words

STAGE_TEXTS = {
    "scan": "Reading the input headers and planning the build",
    "read": "Reading points into the node store",
    "build": "Building the octree and compressing its nodes",
    "finish": "Writing the hierarchy and the header",
}


def _tr(text: str) -> str:
    return QCoreApplication.translate("BuildCopcAlgorithm", text)


class BuildCopcAlgorithm(CopcAlgorithm):
    INPUT = "INPUT"
    PIPELINE = "PIPELINE"
    OUTPUT = "OUTPUT"
    MEMORY_BUDGET = "MEMORY_BUDGET"
    TEMP_FOLDER = "TEMP_FOLDER"
    THREADS = "THREADS"
    SCALE = "SCALE"
    OFFSET = "OFFSET"
    CRS = "CRS"
    TEMPORAL_INDEX = "TEMPORAL_INDEX"
    STATISTICS = "STATISTICS"
    DASK_SCHEDULER = "DASK_SCHEDULER"
    DASK_WORKERS = "DASK_WORKERS"
    STORAGE_OPTIONS = "STORAGE_OPTIONS"
    TARGET_CRS = "TARGET_CRS"
    POINTS = "POINTS"
    NODES = "NODES"

    def createInstance(self):  # noqa: N802
        return BuildCopcAlgorithm()

    def name(self) -> str:
        return "buildcopc"

    def displayName(self) -> str:  # noqa: N802
        return _tr("Build COPC")

    def tags(self):
        return _tr("copc,laz,las,lidar,point cloud,octree,convert,merge,cloud optimized").split(",")

    def shortDescription(self) -> str:  # noqa: N802
        return _tr("Converts one or more LAS/LAZ files into one COPC (Cloud Optimized Point Cloud) file.")

    def shortHelpString(self) -> str:  # noqa: N802
        # The parameters the dialog shows (initAlgorithm), then what the others need.
        return build_help(pdal_installed(), dask_installed(), storage_installed()) + dependency_help(BUILD_MODULES)

    def initAlgorithm(self, config=None):  # noqa: N802
        pipelines = pdal_installed()
        # With PDAL, a pipeline can be the input instead of (or beside) files.
        self.addParameter(LasFilesParameter(self.INPUT, _tr("Input LAS/LAZ files"), optional=pipelines))
        if pipelines:
            self.addParameter(QgsProcessingParameterFile(
                self.PIPELINE, _tr("PDAL pipeline (JSON file)"), extension="json", optional=True))
        self.addParameter(self.output_parameter())
        self.add_main_parameters()

        advanced = [
            QgsProcessingParameterString(self.MEMORY_BUDGET, _tr("Memory budget (e.g. 512M, 2G)"),
                                         defaultValue=DEFAULT_MEMORY_BUDGET),
            QgsProcessingParameterFile(self.TEMP_FOLDER, _tr("Temp folder"),
                                       behavior=Qgis.ProcessingFileParameterBehavior.Folder, optional=True),
            QgsProcessingParameterNumber(self.THREADS, _tr("Threads (0 = all cores)"),
                                         type=Qgis.ProcessingNumberParameterType.Integer, defaultValue=0,
                                         minValue=0),
            QgsProcessingParameterString(self.SCALE, _tr("Scale (0.01 or 0.01,0.01,0.001; empty: the inputs')"),
                                         optional=True),
            QgsProcessingParameterString(self.OFFSET, _tr("Offset (x,y,z; empty: the inputs')"),
                                         optional=True),
            QgsProcessingParameterCrs(self.CRS, _tr("CRS (overrides the inputs')"), optional=True),
            QgsProcessingParameterNumber(self.TEMPORAL_INDEX, _tr("Temporal index stride (0 = no index)"),
                                         type=Qgis.ProcessingNumberParameterType.Integer, defaultValue=0,
                                         minValue=0),
            QgsProcessingParameterBoolean(self.STATISTICS, _tr("Exact statistics for QGIS in the file"),
                                          defaultValue=True),
        ]
        advanced += self.dask_parameters() if dask_installed() else []
        advanced += self.storage_parameters() if storage_installed() else []
        for param in advanced:
            param.setFlags(param.flags() | Qgis.ProcessingParameterFlag.Advanced)
            self.addParameter(param)
        self.addParameter(QgsProcessingParameterCrs(self.TARGET_CRS, _tr("Reproject to"), optional=True))

        self.addOutput(QgsProcessingOutputNumber(self.POINTS, _tr("Points")))
        self.addOutput(QgsProcessingOutputNumber(self.NODES, _tr("Nodes")))

    def dask_parameters(self) -> list:
        """Shown only when Dask's ``distributed`` is installed (the help says how to get it)."""
        return [
            QgsProcessingParameterString(self.DASK_SCHEDULER, _tr("Dask scheduler (address or scheduler file)"),
                                         defaultValue="", optional=True),
            QgsProcessingParameterNumber(self.DASK_WORKERS, _tr("Local Dask workers (0: build in this process)"),
                                         type=Qgis.ProcessingNumberParameterType.Integer, defaultValue=0,
                                         minValue=0),
        ]

    def storage_parameters(self) -> list:
        """Shown only when the storage extra (boto3) is installed (the help says how to get it)."""
        return [StorageOptionsParameter(self.STORAGE_OPTIONS, _tr("Storage options for s3:// and http(s):// "
                                                                  "(KEY=VALUE, one per line)"))]

    def storage_options(self, parameters, context):
        """KEY=VALUE lines as a dict; without the parameter, a value given anyway still reaches the core."""
        if self.parameterDefinition(self.STORAGE_OPTIONS) is not None:
            text = self.parameterAsString(parameters, self.STORAGE_OPTIONS, context)
        else:
            text = str(parameters.get(self.STORAGE_OPTIONS) or "")
        return storage_option_lines(text) or None

    def canExecute(self):  # noqa: N802
        problem = dependency_problem(BUILD_MODULES)
        return (False, problem) if problem else (True, "")

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        problem = dependency_problem(BUILD_MODULES)
        if problem:
            raise QgsProcessingException(problem)

        inputs = parameter_files(self, parameters, self.INPUT, context)
        pipeline = (self.parameterAsFile(parameters, self.PIPELINE, context)
                    if self.parameterDefinition(self.PIPELINE) is not None else None)
        if pipeline:
            from copc_builder.algorithms.api import PipelineInput

            inputs = list(inputs) + [PipelineInput(pipeline)]
        if not inputs:
            raise QgsProcessingException(_tr("give at least one LAS/LAZ file") + (
                _tr(" or a PDAL pipeline") if self.parameterDefinition(self.PIPELINE) else ""))
        # As an output layer: with "Open output file" checked, QGIS loads it on success.
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        if not output:
            raise QgsProcessingException(_tr("give an output file name (*.copc.laz)"))
        options = self.build_options(parameters, context)
        problem = spawn_python_processes() if options["workers"] > 0 else None
        if problem:
            raise QgsProcessingException(problem)

        if "://" in output:    # an s3:// object: uploaded, not a file QGIS can open
            not_loaded(context, output)
        self.check_output_name(output, feedback)

        from copc_builder.algorithms.api import BuildCancelled, CopcBuilderError

        observer = FeedbackObserver(feedback, STAGE_TEXTS)
        observer.start()
        try:
            compile_before_build(feedback)
            feedback.pushInfo(_tr("Building {} from {} input(s)").format(output, len(inputs)))
            from copc_builder.algorithms.api import build_copc

            summary = build_copc(inputs, output, observer=observer, cancel=feedback.isCanceled, **options)
        except BuildCancelled:
            raise QgsProcessingException(_tr("Build cancelled; nothing was written")) from None
        except CopcBuilderError as exc:
            raise QgsProcessingException(in_qgis_words(str(exc))) from None
        observer.finish()
        name_layer_after_file(context, output)
        return self.results(summary, context, feedback)

    # -- what the tiles algorithm (qgis_tiles_algorithm.py) changes ---------------------------
    def output_parameter(self):
        return CopcDestinationParameter(self.OUTPUT, _tr("COPC file"))

    def add_main_parameters(self) -> None:
        """Parameters shown between the output and the advanced ones (none here)."""

    def check_output_name(self, output: str, feedback) -> None:
        if not output.lower().endswith(".copc.laz"):
            feedback.pushWarning(_tr("{}: COPC readers recognise COPC files by the .copc.laz ending")
                                 .format(output))

    def results(self, summary, context, feedback) -> dict:
        feedback.pushInfo(_tr("Wrote {}: {:,} points in {:,} nodes, {} levels, {:.1f} MB in {:.1f} s").format(
            summary.output, summary.points, summary.nodes, summary.depth + 1, summary.bytes / 1e6,
            summary.seconds))
        return {self.OUTPUT: summary.output, self.POINTS: summary.points, self.NODES: summary.nodes}

    def build_options(self, parameters, context) -> dict:
        """build_copc's keyword options from the advanced parameters."""
        def text(name):
            return (self.parameterAsString(parameters, name, context) or "").strip() or None

        return dict(
            memory_budget=text(self.MEMORY_BUDGET) or DEFAULT_MEMORY_BUDGET,
            temp_dir=self.parameterAsFile(parameters, self.TEMP_FOLDER, context) or None,
            threads=self.parameterAsInt(parameters, self.THREADS, context) or None,
            scale=text(self.SCALE),
            offset=text(self.OFFSET),
            a_srs=crs_text(self.parameterAsCrs(parameters, self.CRS, context)),
            temporal_index=self.parameterAsInt(parameters, self.TEMPORAL_INDEX, context) or None,
            statistics=self.parameterAsBoolean(parameters, self.STATISTICS, context),
            **self.dask_options(parameters, context),
            storage_options=self.storage_options(parameters, context),
            t_srs=crs_text(self.parameterAsCrs(parameters, self.TARGET_CRS, context)),
        )

    def dask_options(self, parameters, context) -> dict:
        """scheduler and workers; without Dask (no such parameters), a value given anyway (a script,
        qgis_process) still reaches the core, which says what to install, rather than being dropped."""
        if self.parameterDefinition(self.DASK_WORKERS) is not None:
            return dict(scheduler=(self.parameterAsString(parameters, self.DASK_SCHEDULER, context) or "").strip()
                        or None,
                        workers=self.parameterAsInt(parameters, self.DASK_WORKERS, context))
        scheduler = str(parameters.get(self.DASK_SCHEDULER) or "").strip() or None
        try:
            workers = int(parameters.get(self.DASK_WORKERS) or 0)
        except (TypeError, ValueError):
            raise QgsProcessingException(f"Local Dask workers: not a number: {parameters.get(self.DASK_WORKERS)!r}") \
                from None
        return dict(scheduler=scheduler, workers=workers)


def not_loaded(context, output: str) -> None:
    """Take an uploaded output off the layers QGIS opens when the algorithm ends."""
    layers = context.layersToLoadOnCompletion()
    if output in layers:
        del layers[output]
        context.setLayersToLoadOnCompletion(layers)


def name_layer_after_file(context, output: str) -> None:
    """The layer "Open output file" adds bears the file's name ("survey" for survey.copc.laz).

    QGIS names it after the file only outside the system temp folder and
    otherwise after the output's description, so every build there gave a
    layer called "COPC file".
    """
    if context.willLoadLayerOnCompletion(output):
        details = context.layerToLoadOnCompletionDetails(output)
        details.name = layer_name(output)
        details.forceName = True


def layer_name(path: str) -> str:
    name = os.path.basename(path)
    for ending in (".copc.laz", ".laz", ".vpc"):
        if name.lower().endswith(ending) and len(name) > len(ending):
            return name[:-len(ending)]
    return name


def pdal_installed() -> bool:
    """Is the pdal package there?  Found without importing it (QGIS start-up)."""
    return findable("pdal")


def dask_installed() -> bool:
    """Is Dask's distributed package there?  Found without importing it (QGIS start-up)."""
    return findable("distributed")


def storage_installed() -> bool:
    """Is the storage extra (boto3) there?  Found without importing it (QGIS start-up)."""
    return findable("boto3")


def crs_text(crs: QgsCoordinateReferenceSystem):
    """What the core's a_srs takes: an authority id pyproj knows, else WKT; None if unset."""
    if crs is None or not crs.isValid():
        return None
    authid = crs.authid()
    if authid and authid.split(":", 1)[0].upper() in ("EPSG", "ESRI", "IGNF", "OGC"):
        return authid
    return crs.toWkt(Qgis.CrsWktVariant.Preferred)


"""The parameters that take and give point clouds, and how their values become files.

Inputs are files or point-cloud layers of the project; a layer stands for
its source file.  Values are never loaded as layers to check them: QGIS
opens COPC only (LAS/LAZ would need its PDAL provider, which indexes the
file), and a bad file is the core's to name.

Nor are they loaded to be written out.  QGIS's own layer parameters render
a value (as Python for the History and "Copy as Python Command", as JSON
for the history's parameters, as strings for qgis_process) by loading it as
a layer and writing the layer's source: a LAS/LAZ file QGIS cannot open
then became ``''`` (the History's command ran nothing) after GDAL and OGR
were each asked to open it (an ``[OGR] Cannot open`` warning per file and
per rendering), and a COPC file became ``copc:///path``, which names no
file.  The input parameters here render the files themselves.
"""
from __future__ import annotations

import os
import re
from typing import List, Optional

from qgis.core import (
    Qgis,
    QgsMapLayer,
    QgsPointCloudLayer,
    QgsProcessingContext,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterPointCloudDestination,
    QgsProcessingParameterPointCloudLayer,
    QgsProcessingParameterString,
    QgsProcessingUtils,
    QgsProviderRegistry,
)

LAS_FILTER = ("LAS/LAZ files (*.las *.laz *.LAS *.LAZ);;Virtual point clouds of LAS/LAZ/COPC files (*.vpc *.VPC);;"
              "All files (*.*)")
COPC_FILTER = "COPC files (*.copc.laz)"
COPC_OR_LAZ_FILTER = ("COPC files (*.copc.laz);;Virtual point clouds (*.vpc *.VPC);;LAZ files (*.laz *.LAZ);;"
                      "All files (*.*)")
VPC_FILTER = "Virtual point clouds (*.vpc *.VPC)"


def is_optional(param) -> bool:
    return bool(param.flags() & Qgis.ProcessingParameterFlag.Optional)


def given(value) -> list:
    """The non-empty values of a single or list value."""
    values = value if isinstance(value, (list, tuple)) else [value]
    return [v for v in values if v not in (None, "")]


def _shown(value):
    """A value as QGIS may record it (history, log, model): URLs without their
    user:password@ and query; everything hidden when the core cannot be imported."""
    try:
        from copc_builder.algorithms.api import shown_name
    except ImportError:
        return "***" if "://" in str(value) else value
    if isinstance(value, (list, tuple)):
        return [_shown(v) for v in value]
    return shown_name(value) if isinstance(value, str) else value


class RedactingParameter:
    """Mixin: what QGIS writes of the value (the Input parameters log line, the
    history's Python command, qgis_process command and parameter map, a
    model's Python) goes through ``redacted`` first, so no secret reaches them."""

    def redacted(self, value):
        return _shown(value)

    def recorded_files(self, value, context) -> Optional[List[str]]:
        """The files a value names (``value_files``) as QGIS may record them."""
        files = value_files(value, context)
        return None if files is None else self.redacted(files)

    def valueAsPythonString(self, value, context):  # noqa: N802 (QGIS's names)
        return super().valueAsPythonString(self.redacted(value), context)

    def valueAsJsonObject(self, value, context):  # noqa: N802
        return super().valueAsJsonObject(self.redacted(value), context)

    def valueAsString(self, value, context):  # noqa: N802
        return super().valueAsString(self.redacted(value), context)


class LasFilesParameter(RedactingParameter, QgsProcessingParameterMultipleLayers):
    """LAS/LAZ files, or point-cloud layers of the project; or URLs
    (s3://bucket/key.laz, s3://bucket/prefix/, https://host/file.laz).

    The "Add File(s)" and "Add Directory" buttons ask the parameter for a
    file filter (``createFileFilter``), so a subclass shows LAS/LAZ files.
    Any non-empty value is acceptable: the build checks the files it reads.
    """

    def __init__(self, name: str, description: str = "", optional: bool = False):
        super().__init__(name, description, Qgis.ProcessingSourceType.PointCloud, None, optional)

    def createFileFilter(self) -> str:  # noqa: N802 (QGIS's name)
        return LAS_FILTER

    def checkValueIsAcceptable(self, value, context=None) -> bool:  # noqa: N802
        values = given(value)
        return len(values) >= self.minimumNumberInputs() if values else is_optional(self)

    def valueAsPythonString(self, value, context) -> str:  # noqa: N802
        files = self.recorded_files(value, context)
        if files is None:
            return super().valueAsPythonString(value, context)
        return python_list(files) if value is not None else "None"

    def valueAsJsonObject(self, value, context):  # noqa: N802
        files = self.recorded_files(value, context)
        return super().valueAsJsonObject(value, context) if files is None else files

    def valueAsStringList(self, value, context):  # noqa: N802
        files = self.recorded_files(value, context)
        return super().valueAsStringList(value, context) if files is None else (files, True)

    def valueAsString(self, value, context):  # noqa: N802
        files = self.recorded_files(value, context)
        if files is None:
            return super().valueAsString(value, context)
        return (files[0], True) if len(files) == 1 else ("", False)

    def clone(self):
        copy = LasFilesParameter(self.name(), self.description(),
                                 is_optional(self))
        copy.setFlags(self.flags())
        copy.setDefaultValue(self.defaultValue())
        copy.setMinimumNumberInputs(self.minimumNumberInputs())
        copy.setHelp(self.help())
        copy.setMetadata(self.metadata())
        return copy


class CopcDestinationParameter(QgsProcessingParameterPointCloudDestination):
    """A point-cloud output named *.copc.laz.

    Being a point-cloud destination, the result chains into any algorithm
    that takes a point-cloud layer, and "Open output file after running
    algorithm" loads it (QGIS's COPC provider reads it).
    """

    def defaultFileExtension(self) -> str:  # noqa: N802
        return "copc.laz"

    def createFileFilter(self) -> str:  # noqa: N802
        return COPC_FILTER

    def clone(self):
        copy = CopcDestinationParameter(self.name(), self.description(), self.defaultValue(),
                                        is_optional(self),
                                        self.createByDefault())
        copy.setFlags(self.flags())
        copy.setHelp(self.help())
        copy.setMetadata(self.metadata())
        return copy


class StorageOptionsParameter(RedactingParameter, QgsProcessingParameterString):
    """KEY=VALUE storage options, one per line; the values of secret keys
    (key, secret, token) are recorded as ***."""

    def __init__(self, name: str, description: str = ""):
        super().__init__(name, description, multiLine=True, optional=True)

    def redacted(self, value):
        if not isinstance(value, str) or not value.strip():
            return value
        try:
            from copc_builder.algorithms.api import redacted_storage_text
        except ImportError:
            return "***"
        return "\n".join(redacted_storage_text(storage_option_lines(value)))

    def clone(self):
        copy = StorageOptionsParameter(self.name(), self.description())
        copy.setFlags(self.flags())
        copy.setHelp(self.help())
        return copy


def storage_option_lines(text: str) -> List[str]:
    """The KEY=VALUE items of the storage options parameter (lines, or ; between them)."""
    return [item.strip() for line in (text or "").splitlines() for item in line.split(";") if item.strip()]


class VpcDestinationParameter(QgsProcessingParameterPointCloudDestination):
    """A point-cloud output named *.vpc: a virtual point cloud of COPC tiles,
    which QGIS's ``vpc`` provider opens as one layer."""

    def defaultFileExtension(self) -> str:  # noqa: N802
        return "vpc"

    def createFileFilter(self) -> str:  # noqa: N802
        return VPC_FILTER

    def clone(self):
        copy = VpcDestinationParameter(self.name(), self.description(), self.defaultValue(), is_optional(self),
                                       self.createByDefault())
        copy.setFlags(self.flags())
        copy.setHelp(self.help())
        copy.setMetadata(self.metadata())
        return copy


class CopcFileParameter(RedactingParameter, QgsProcessingParameterPointCloudLayer):
    """A COPC file, or a point-cloud layer of the project (a model's Build COPC output).

    A file that QGIS cannot open is still acceptable: saying what is wrong
    with it is the validator's job.
    """

    def createFileFilter(self) -> str:  # noqa: N802
        return COPC_OR_LAZ_FILTER

    def checkValueIsAcceptable(self, value, context=None) -> bool:  # noqa: N802
        return bool(given(value)) or is_optional(self)

    def valueAsPythonString(self, value, context) -> str:  # noqa: N802
        file = self._file(value, context)
        if file is None:
            return super().valueAsPythonString(value, context)
        return QgsProcessingUtils.stringToPythonLiteral(file) if value is not None else "None"

    def valueAsJsonObject(self, value, context):  # noqa: N802
        file = self._file(value, context)
        return super().valueAsJsonObject(value, context) if file is None else file

    def valueAsStringList(self, value, context):  # noqa: N802
        file = self._file(value, context)
        return super().valueAsStringList(value, context) if file is None else ([file] if file else [], True)

    def valueAsString(self, value, context):  # noqa: N802
        file = self._file(value, context)
        return super().valueAsString(value, context) if file is None else (file, True)

    def _file(self, value, context) -> Optional[str]:
        files = self.recorded_files(value, context)
        return None if files is None else (files[0] if files else "")

    def clone(self):
        copy = CopcFileParameter(self.name(), self.description(), self.defaultValue(), is_optional(self))
        copy.setFlags(self.flags())
        copy.setHelp(self.help())
        copy.setMetadata(self.metadata())
        return copy


def parameter_files(alg, parameters: dict, name: str, context: QgsProcessingContext) -> List[str]:
    """The files a point-cloud parameter of ``alg`` names: paths, layer ids or names, layers."""
    raw = given(parameters.get(name))
    if alg.parameterDefinition(name).type() == "multilayer":
        texts = alg.parameterAsFileList(parameters, name, context)
    else:
        texts = [alg.parameterAsString(parameters, name, context)]
    if len(texts) == len(raw):      # a layer object reads as "": keep the layer
        texts = [r if isinstance(r, QgsMapLayer) else t for r, t in zip(raw, texts)]
    return source_paths(texts, context)


def source_paths(values, context: QgsProcessingContext) -> List[str]:
    """Input files: paths as given, point-cloud layers of the project as their source files.

    No layer is loaded: a string that is not a file is looked up among the
    project's layers (id, name or source) only.  A layer URI QGIS wrote
    (``copc:///data/a.copc.laz``) stands for its file.  A value that is none
    of these stays as given, for the core to name ("file not found").
    """
    paths = []
    for value in given(values):
        layer = value
        if isinstance(value, str) and "://" in value:     # an s3:// or http(s):// URL: the core reads it
            paths.append(value)
            continue
        if isinstance(value, str) and not os.path.exists(value):
            layer = QgsProcessingUtils.mapLayerFromString(value, context, False,
                                                          QgsProcessingUtils.LayerHint.PointCloud)
            value = uri_file(value)
        paths.append(layer_file(layer) if isinstance(layer, QgsPointCloudLayer) else str(value))
    return paths


def value_files(value, context) -> Optional[List[str]]:
    """The files a parameter value names, found without loading a layer
    (see source_paths); None for a value that is not files or layers (an
    expression, a model's child source), which QGIS renders itself."""
    items = value if isinstance(value, (list, tuple)) else [value]
    if not all(v is None or isinstance(v, (str, QgsMapLayer)) for v in items):
        return None
    return source_paths(items, context if context is not None else QgsProcessingContext())


def python_list(texts: List[str]) -> str:
    """A Python list literal of strings, quoted as Processing quotes them."""
    return "[" + ",".join(QgsProcessingUtils.stringToPythonLiteral(t) for t in texts) + "]"


_PROVIDER_URI = re.compile(r"^(copc|ept|pdal)://(.+)$")


def uri_file(text: str) -> str:
    """``copc:///data/a.copc.laz`` -> ``/data/a.copc.laz`` when that file exists; else ``text``."""
    match = _PROVIDER_URI.match(text)
    return match.group(2) if match and os.path.isfile(match.group(2)) else text


def layer_file(layer: QgsPointCloudLayer) -> str:
    """The file a point-cloud layer reads (its URI's path)."""
    parts = QgsProviderRegistry.instance().decodeUri(layer.providerType(), layer.source())
    return parts.get("path") or layer.source()

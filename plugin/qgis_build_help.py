"""Build COPC's help panel: the parameters the dialog shows, and how to get the rest.

The PDAL pipeline parameter is there only with the ``pdal`` package in
QGIS's Python, the Dask parameters only with ``distributed``; the help
describes exactly what the dialog shows, and for what is missing says how a
QGIS user gets it (the "Install Python dependencies" algorithm, not a pip
command that means nothing inside QGIS).
"""
from __future__ import annotations

from qgis.PyQt.QtCore import QCoreApplication

from copc_builder import DEFAULT_MEMORY_BUDGET

from .qgis_support import INSTALLER


def _tr(text: str) -> str:
    return QCoreApplication.translate("BuildCopcAlgorithm", text)


def build_help(pdal: bool, dask: bool, storage: bool) -> str:
    """The help for a dialog with (``pdal``) the PDAL pipeline, (``dask``) the Dask parameters and
    (``storage``) URLs and the storage options."""
    pieces = [INTRO, INPUTS] + ([PIPELINE] if pdal else []) + [OUTPUT_FILE, ADVANCED] + ([DASK] if dask else [])
    pieces += ([STORAGE] if storage else []) + [REPROJECT, OUTPUTS]
    missing = ([PDAL_MISSING] if not pdal else []) + ([DASK_MISSING] if not dask else [])
    missing += [STORAGE_MISSING] if not storage else []
    if missing:
        pieces += [MORE] + missing
    return "".join(_tr(piece) for piece in pieces)


INTRO = (
    "<p>Converts one or more LAS/LAZ files (LAS 1.0-1.4, any point format) into one COPC 1.0 "
    "file: a LAZ 1.4 file whose points are clustered in an octree, so viewers stream only what "
    "they show. Several inputs are merged. Memory stays within the budget: beyond it, points "
    "spill to the temp folder. The output appears only when the build succeeds; cancelling or "
    "an error leaves neither the output nor temp files behind.</p>"
    "<h3>Parameters</h3>")

INPUTS = (
    "<p><b>Input LAS/LAZ files</b>: the files to convert, or point-cloud layers of the project "
    "(their files); they must share a CRS (or set <i>CRS</i>, or <i>Reproject to</i>).</p>")

PIPELINE = (
    "<p><b>PDAL pipeline</b>: a pipeline JSON file whose points become the COPC, alone or merged with "
    "the input files; anything PDAL reads or filters (E57, PLY, text, EPT, reprojection, "
    "cropping, noise filters...).</p>")

OUTPUT_FILE = (
    "<p><b>COPC file</b>: the output, named <code>*.copc.laz</code>: a point-cloud layer that "
    "<i>Open output file after running algorithm</i> adds to the project, and that a model passes "
    "to any algorithm taking a point-cloud layer.</p>")

ADVANCED = (
    "<p><b>Memory budget</b> (advanced): memory for points before they spill to the temp folder, "
    "as bytes or with a unit: <code>512M</code>, <code>2G</code> (default " + DEFAULT_MEMORY_BUDGET + ").</p>"
    "<p><b>Temp folder</b> (advanced): where spilled points go (default: the system temp folder). "
    "Choose a fast disk with room for about the size of the uncompressed input.</p>"
    "<p><b>Threads</b> (advanced): worker threads; 0 uses every core.</p>"
    "<p><b>Scale</b> (advanced): the output's coordinate resolution, one value for x, y and z "
    "(<code>0.01</code>) or three (<code>0.01,0.01,0.001</code>). Empty: the inputs' own.</p>"
    "<p><b>Offset</b> (advanced): the output's coordinate offset, one or three values. Empty: the "
    "inputs' own.</p>"
    "<p><b>CRS</b> (advanced): assign this CRS to the output, overriding the inputs' (needed when "
    "they have none, or differ). Points are not reprojected (see <i>Reproject to</i>).</p>"
    "<p><b>Temporal index stride</b> (advanced): 0 for none; S adds the COPC temporal index "
    "(each node's GPS times at every S-th point), so clients skip nodes by time. 100 suits most "
    "files. Needs inputs with GPS time.</p>"
    "<p><b>Exact statistics for QGIS</b> (advanced, on by default): the file carries the "
    "statistics QGIS shows (min, max, mean, classes over every point), so the layer opens styled "
    "without QGIS sampling the file.</p>")

DASK = (
    "<p><b>Dask scheduler</b> (advanced): run the build on a Dask cluster: its scheduler's "
    "address (<code>tcp://host:8786</code>) or its scheduler file. <b>Local Dask workers</b> "
    "(advanced): N starts a cluster of N worker processes on this machine; 0 builds in this "
    "process. Give one or the other. The temp folder must be visible to every worker at the "
    "same path, and so must the input files; the output is the same bytes.</p>")

STORAGE = (
    "<p><b>Storage options</b> (advanced): the inputs may also be URLs, "
    "<code>s3://bucket/key.laz</code>, <code>s3://bucket/prefix/</code> (its LAS/LAZ objects) or "
    "<code>https://host/file.laz</code>, read by range requests, and the output "
    "<code>s3://bucket/key.copc.laz</code> (built in the temp folder, then uploaded; QGIS does not open "
    "it). Credentials and endpoint come from the AWS environment variables and profiles (AWS_PROFILE, "
    "AWS_ENDPOINT_URL...); here, KEY=VALUE lines add to them, such as <code>anon=true</code>, "
    "<code>region=eu-central-2</code>, <code>endpoint_url=https://minio.example</code>. The values of "
    "key, secret and token are kept out of the log and the history (as is an URL's user:password), but "
    "prefer the environment or a profile for them.</p>")

REPROJECT = (
    "<p><b>Reproject to</b>: transform every point into this CRS as it is read, each input from its own "
    "CRS (or <i>CRS</i>), so inputs in different CRSs merge. Heights are transformed too when both CRSs "
    "have a vertical part (a compound CRS, ellipsoidal heights, geocentric); the log says which "
    "transformation PROJ chose and which grids it lacked. A geographic CRS (degrees) makes a poor octree. "
    "Empty: coordinates are kept.</p>")

OUTPUTS = (
    "<h3>Outputs</h3>"
    "<p><b>COPC file</b>, <b>Points</b> (points written) and <b>Nodes</b> (octree nodes).</p>")

MORE = "<h3>More with other Python packages</h3>"

PDAL_MISSING = (
    "<p><b>PDAL pipelines</b>: with the <code>pdal</code> Python package in QGIS's Python, a "
    "<i>PDAL pipeline</i> parameter appears here, for anything PDAL reads or filters. The package "
    "needs PDAL itself, which pip does not bring: install PDAL's Python bindings with the package "
    "manager QGIS came from (conda-forge's <code>python-pdal</code>, say), then restart QGIS.</p>")

DASK_MISSING = (
    "<p><b>Dask cluster</b>: to spread a build over the cores of several machines (or several "
    "processes of this one), run <i>" + INSTALLER.strip('"') + "</i> with <i>Packages</i> "
    "<code>distributed</code>; the <i>Dask scheduler</i> and <i>Local Dask workers</i> parameters "
    "then appear here.</p>")

STORAGE_MISSING = (
    "<p><b>Object storage and HTTP</b>: to read inputs from <code>s3://</code> buckets or "
    "<code>https://</code> servers and write the COPC to a bucket, run <i>" + INSTALLER.strip('"') + "</i> "
    "with <i>Packages</i> <code>boto3</code>; the <i>Storage options</i> parameter then appears here.</p>")

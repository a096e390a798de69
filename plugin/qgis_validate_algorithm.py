"""Processing algorithm copcbuilder:validatecopc, "Validate COPC".

Checks a file against COPC 1.0 / LAS 1.4 with the core's validator and
reports the findings three ways: an HTML report, a table (one row per
finding) and plain outputs (VALID, POINTS, ...) a model can branch on.
"""
from __future__ import annotations

import datetime
import html
import os

from qgis.core import (
    Qgis,
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsFeatureSink,
    QgsField,
    QgsFields,
    QgsProcessingException,
    QgsProcessingOutputBoolean,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFileDestination,
)
from qgis.PyQt.QtCore import QCoreApplication, QMetaType

from .qgis_support import (VALIDATE_MODULES, CopcAlgorithm, FeedbackObserver, dependency_help,
                           dependency_problem)
from .qgis_parameters import CopcFileParameter, parameter_files


def _tr(text: str) -> str:
    return QCoreApplication.translate("ValidateCopcAlgorithm", text)


def findings_fields() -> QgsFields:
    fields = QgsFields()
    for name in ("severity", "check", "message"):
        fields.append(QgsField(name, QMetaType.Type.QString))
    return fields


class ValidateCopcAlgorithm(CopcAlgorithm):
    INPUT = "INPUT"
    FAIL_ON_ERROR = "FAIL_ON_ERROR"
    REPORT = "REPORT"
    FINDINGS = "FINDINGS"
    VALID = "VALID"
    POINTS = "POINTS"
    NODES = "NODES"
    ERRORS = "ERRORS"
    WARNINGS = "WARNINGS"

    def createInstance(self):  # noqa: N802
        return ValidateCopcAlgorithm()

    def name(self) -> str:
        return "validatecopc"

    def displayName(self) -> str:  # noqa: N802
        return _tr("Validate COPC")

    def tags(self):
        return _tr("copc,laz,lidar,point cloud,validate,check,conformance").split(",")

    def shortDescription(self) -> str:  # noqa: N802
        return _tr("Checks a COPC file against the COPC 1.0 and LAS 1.4 specifications.")

    def shortHelpString(self) -> str:  # noqa: N802
        return _tr(
            "<p>Checks a COPC file against the COPC 1.0 and LAS 1.4 specifications: header, COPC info "
            "VLR, LAZ VLR, hierarchy pages, chunk table, CRS, and every point (decoded node by node: "
            "counts, bounds, GPS time range, each point inside its node's cube).</p>"
            "<h3>Parameters</h3>"
            "<p><b>COPC file</b>: the file to check, or a point-cloud layer of the project (its file); "
            "a file QGIS cannot open is checked too.</p>"
            "<p><b>Fail when the file is not valid</b> (advanced): raise an error instead of reporting "
            "VALID = false, so a model stops there.</p>"
            "<h3>Outputs</h3>"
            "<p><b>Validation report</b>: an HTML page with the verdict and every finding.</p>"
            "<p><b>Findings</b>: a table with one row per finding (severity, check, message); skipped "
            "unless you choose where it goes (a file, or a temporary layer).</p>"
            "<p><b>Valid</b> (true when no finding is an error), <b>Points</b>, <b>Nodes</b>, "
            "<b>Errors</b> and <b>Warnings</b> (counts).</p>"
        ) + dependency_help(VALIDATE_MODULES)

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(CopcFileParameter(self.INPUT, _tr("COPC file")))
        fail = QgsProcessingParameterBoolean(self.FAIL_ON_ERROR, _tr("Fail when the file is not valid"),
                                             defaultValue=False)
        fail.setFlags(fail.flags() | Qgis.ProcessingParameterFlag.Advanced)
        self.addParameter(fail)
        self.addParameter(QgsProcessingParameterFileDestination(
            self.REPORT, _tr("Validation report"), fileFilter="HTML files (*.html)"))
        # Skipped unless asked: a temporary table added to every validation
        # made QGIS ask, on closing, to save temporary layers.
        self.addParameter(QgsProcessingParameterFeatureSink(
            self.FINDINGS, _tr("Findings"), type=Qgis.ProcessingSourceType.Vector, optional=True,
            createByDefault=False))
        self.addOutput(QgsProcessingOutputBoolean(self.VALID, _tr("Valid")))
        self.addOutput(QgsProcessingOutputNumber(self.POINTS, _tr("Points")))
        self.addOutput(QgsProcessingOutputNumber(self.NODES, _tr("Nodes")))
        self.addOutput(QgsProcessingOutputNumber(self.ERRORS, _tr("Errors")))
        self.addOutput(QgsProcessingOutputNumber(self.WARNINGS, _tr("Warnings")))

    def canExecute(self):  # noqa: N802
        problem = dependency_problem(VALIDATE_MODULES)
        return (False, problem) if problem else (True, "")

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        problem = dependency_problem(VALIDATE_MODULES)
        if problem:
            raise QgsProcessingException(problem)
        path = (parameter_files(self, parameters, self.INPUT, context) or [""])[0]
        if not path:
            raise QgsProcessingException(_tr("give a COPC file to check"))
        fail_on_error = self.parameterAsBool(parameters, self.FAIL_ON_ERROR, context)
        report_path = self.parameterAsFileOutput(parameters, self.REPORT, context)

        from copc_builder.algorithms.api import BuildCancelled
        from copc_builder.algorithms.api import format_report, validate_copc

        observer = FeedbackObserver(feedback, {"finish": _tr("Decoding and checking every node")})
        observer.start()
        feedback.pushInfo(_tr("Checking {}").format(path))
        try:
            report = validate_copc(path, observer=observer, cancel=feedback.isCanceled)
        except BuildCancelled:
            raise QgsProcessingException(_tr("Validation cancelled")) from None
        observer.finish()

        for finding in report.findings:
            text = str(finding)
            if finding.severity == "error":
                feedback.reportError(text, False)
            else:
                feedback.pushWarning(text)
        verdict = format_report(report).splitlines()[-1]
        feedback.pushInfo(verdict)

        results = {
            self.VALID: report.ok,
            self.POINTS: report.points,
            self.NODES: report.nodes,
            self.ERRORS: len(report.errors),
            self.WARNINGS: len(report.warnings),
        }
        if report_path:
            try:
                write_html_report(report, verdict, report_path)
            except OSError as exc:
                raise QgsProcessingException(f"{report_path}: cannot write the report ({exc.strerror})") from None
            results[self.REPORT] = report_path

        sink, dest_id = self.parameterAsSink(parameters, self.FINDINGS, context, findings_fields(),
                                             Qgis.WkbType.NoGeometry, QgsCoordinateReferenceSystem())
        if sink is not None:
            for finding in report.findings:
                feature = QgsFeature(findings_fields())
                feature.setAttributes([finding.severity, finding.check, finding.message])
                sink.addFeature(feature, QgsFeatureSink.Flag.FastInsert)
            results[self.FINDINGS] = dest_id

        if fail_on_error and not report.ok:
            raise QgsProcessingException(verdict)
        return results


def write_html_report(report, verdict: str, path: str) -> None:
    """A self-contained page: verdict, the file's numbers, one table row per finding."""
    esc = html.escape
    ok = report.ok
    rows = "\n".join(
        f'<tr class="{esc(f.severity)}"><td>{esc(f.severity)}</td><td><code>{esc(f.check)}</code></td>'
        f"<td>{esc(f.message)}</td></tr>" for f in report.findings)
    levels = "\n".join(
        f"<tr><td>{level}</td><td>{nodes:,}</td><td>{points:,}</td></tr>"
        for level, (nodes, points) in sorted(report.levels.items()))
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>COPC validation: {esc(os.path.basename(report.path))}</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; }}
.verdict {{ padding: 0.6em 1em; border-radius: 4px; font-weight: bold; }}
.valid {{ background: #dff0d8; color: #2d572c; }}
.invalid {{ background: #f2dede; color: #8a1f1f; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
td, th {{ border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }}
tr.error td:first-child {{ color: #a00; font-weight: bold; }}
tr.warning td:first-child {{ color: #a60; }}
</style>
</head>
<body>
<h1>COPC validation</h1>
<p>File: <code>{esc(report.path)}</code><br>
Checked: {esc(datetime.datetime.now().isoformat(timespec="seconds"))}</p>
<p class="verdict {'valid' if ok else 'invalid'}">{esc(verdict)}</p>
<table>
<tr><th>points (hierarchy)</th><td>{report.points:,}</td></tr>
<tr><th>points decoded</th><td>{report.decoded_points:,}</td></tr>
<tr><th>nodes</th><td>{report.nodes:,}</td></tr>
<tr><th>hierarchy pages</th><td>{report.pages:,}</td></tr>
<tr><th>levels</th><td>{report.depth:,}</td></tr>
<tr><th>errors</th><td>{len(report.errors):,}</td></tr>
<tr><th>warnings</th><td>{len(report.warnings):,}</td></tr>
</table>
<h2>Findings</h2>
{'<table><tr><th>severity</th><th>check</th><th>message</th></tr>' + rows + '</table>'
 if report.findings else '<p>None.</p>'}
<h2>Levels</h2>
{'<table><tr><th>level</th><th>nodes</th><th>points</th></tr>' + levels + '</table>'
 if report.levels else '<p>None read.</p>'}
</body>
</html>
"""
    with open(path, "w", encoding="utf-8") as f:
        f.write(page)

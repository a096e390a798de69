"""What the validator finds: findings, the sink that collects them (with a
limit per check), the report that holds them, and the report as text.
``num`` and ``xyz`` print numbers the way every check's message does.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple


ERROR = "error"
WARNING = "warning"

# Findings of one check beyond this many are summed up in one line, so a
# broken file gives a readable report rather than thousands of lines.
MAX_FINDINGS_PER_CHECK = 5


@dataclass(frozen=True)
class Finding:
    severity: str       # "error" | "warning"
    check: str          # dotted check name, see the module docstring
    message: str

    def __str__(self) -> str:
        return f"{self.severity.upper():7} {self.check}: {self.message}"


@dataclass
class ValidationReport:
    path: str
    findings: List[Finding] = field(default_factory=list)
    points: int = 0          # points the hierarchy lists (sum of node counts)
    decoded_points: int = 0  # points actually decoded and checked
    nodes: int = 0           # hierarchy node entries, empty nodes included
    pages: int = 0           # hierarchy pages reached from the root page
    depth: int = 0           # number of octree levels (deepest level + 1)
    levels: Dict[int, Tuple[int, int]] = field(default_factory=dict)  # level -> (nodes, points)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> List[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> List[Finding]:
        return [f for f in self.findings if f.severity == WARNING]

    def checks(self, severity: Optional[str] = None) -> set:
        """Names of the checks with findings (of that severity, if given)."""
        return {f.check for f in self.findings if severity is None or f.severity == severity}


class FindingSink:
    """Collects findings into a report: past ``MAX_FINDINGS_PER_CHECK`` of one
    check, findings are counted, and ``close`` sums them up in one line each."""

    def __init__(self, report: ValidationReport):
        self.report = report
        self._per_check: Dict[str, int] = {}
        self._suppressed: Dict[Tuple[str, str], int] = {}

    def add(self, severity: str, check: str, message: str) -> None:
        n = self._per_check.get(check, 0) + 1
        self._per_check[check] = n
        if n > MAX_FINDINGS_PER_CHECK:
            key = (severity, check)
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return
        self.report.findings.append(Finding(severity, check, message))

    def add_always(self, severity: str, check: str, message: str) -> None:
        """A finding shown whatever the limit (a total over many findings)."""
        self.report.findings.append(Finding(severity, check, message))

    def error(self, check: str, message: str) -> None:
        self.add(ERROR, check, message)

    def warning(self, check: str, message: str) -> None:
        self.add(WARNING, check, message)

    def close(self) -> None:
        """One line per check whose findings went past the limit."""
        for (severity, check), n in self._suppressed.items():
            self.add_always(severity, check, f"... and {n} more finding{'s' if n != 1 else ''} "
                            "of this check not shown")


def format_report(report: ValidationReport) -> str:
    """One line per finding, then a verdict line."""
    lines = [str(f) for f in report.findings]
    if report.ok and report.path.lower().endswith(".vpc"):
        lines.append(f"{report.path}: valid virtual point cloud, every file valid COPC 1.0 ("
                     f"{_count(report.points, 'point')} in {_count(report.nodes, 'node')}; "
                     f"{_count(len(report.warnings), 'warning')})")
    elif report.ok:
        lines.append(f"{report.path}: valid COPC 1.0 ({_count(report.points, 'point')} in "
                     f"{_count(report.nodes, 'node')}, {_count(report.depth, 'level')}; "
                     f"{_count(len(report.warnings), 'warning')})")
    else:
        what = "virtual point cloud" if report.path.lower().endswith(".vpc") else "COPC 1.0 file"
        lines.append(f"{report.path}: NOT a valid {what} ({_count(len(report.errors), 'error')}, "
                     f"{_count(len(report.warnings), 'warning')})")
    return "\n".join(lines)


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def num(value: float) -> str:
    """Shortest exact text of a float: differences of 1e-13 stay visible."""
    return repr(float(value))


def xyz(values) -> str:
    """A point or a size as ``(x, y, z)``, each number as ``num`` prints it."""
    return "(" + ", ".join(num(v) for v in values) + ")"

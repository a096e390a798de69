"""What the validator finds: findings, the report that holds them, and the
report as text.  ``_num`` and ``_xyz`` print numbers the way every check's
message does.
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



def format_report(report: ValidationReport) -> str:
    """One line per finding, then a verdict line."""
    lines = [str(f) for f in report.findings]
    if report.ok:
        lines.append(f"{report.path}: valid COPC 1.0 ({_count(report.points, 'point')} in "
                     f"{_count(report.nodes, 'node')}, {_count(report.depth, 'level')}; "
                     f"{_count(len(report.warnings), 'warning')})")
    else:
        lines.append(f"{report.path}: NOT a valid COPC 1.0 file ({_count(len(report.errors), 'error')}, "
                     f"{_count(len(report.warnings), 'warning')})")
    return "\n".join(lines)


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _num(value: float) -> str:
    """Shortest exact text of a float: differences of 1e-13 stay visible."""
    return repr(float(value))


def _xyz(values) -> str:
    return "(" + ", ".join(_num(v) for v in values) + ")"

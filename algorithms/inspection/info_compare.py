"""Two files' ``copc_info`` side by side: totals, then per level nodes,
points, compressed bytes and bytes per point, so a user can hold one
writer's output against another's (untwine's, PDAL's, ours).

    print(format_compare(copc_info("ours.copc.laz"), copc_info("theirs.copc.laz")))
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

Row = Sequence[str]


def _n(value: Optional[int]) -> str:
    return "-" if value is None else f"{value:,}"


def _per_point(size: Optional[int], points: Optional[int]) -> str:
    return f"{size / points:.2f}" if size is not None and points else "-"


def _ratio(a: Optional[float], b: Optional[float]) -> str:
    return f"{b / a:.3f}" if a and b is not None else "-"


def level_table(info: Dict[str, Any]) -> Dict[int, Dict[str, Any]]:
    """level -> its row of ``info["copc"]["levels"]`` (empty for a non-COPC file)."""
    copc = info.get("copc") or {}
    return {row["level"]: row for row in copc.get("levels") or []}


def totals(info: Dict[str, Any]) -> Dict[str, Optional[int]]:
    copc = info.get("copc") or {}
    return {"file_size": info["file_size"], "points": info["point_count"], "nodes": copc.get("nodes"),
            "levels": copc.get("depth"), "node_bytes": copc.get("node_bytes")}


def compare_infos(a: Dict[str, Any], b: Dict[str, Any]) -> Dict[str, Any]:
    """The comparison as plain data (JSON-serialisable): totals of each, and
    per level each file's row (None where a file has no such level)."""
    la, lb = level_table(a), level_table(b)
    return {"a": {"path": a["path"], "is_copc": a["is_copc"], **totals(a)},
            "b": {"path": b["path"], "is_copc": b["is_copc"], **totals(b)},
            "levels": [{"level": lv, "a": la.get(lv), "b": lb.get(lv)} for lv in sorted(set(la) | set(lb))]}


def _total_rows(ta: Dict[str, Any], tb: Dict[str, Any]) -> List[Row]:
    rows: List[Row] = []
    for label, key in (("file bytes", "file_size"), ("points", "points"), ("nodes", "nodes"),
                       ("levels", "levels"), ("point data bytes", "node_bytes")):
        rows.append((label, _n(ta[key]), _n(tb[key]), _ratio(ta[key], tb[key])))
    rows.append(("bytes/point", _per_point(ta["node_bytes"], ta["points"]),
                 _per_point(tb["node_bytes"], tb["points"]), ""))
    return rows


def _level_rows(levels: List[Dict[str, Any]]) -> List[Row]:
    rows: List[Row] = [("level", "nodes A", "nodes B", "points A", "points B", "bytes A", "bytes B",
                        "B/pt A", "B/pt B")]
    for item in levels:
        a, b = item["a"] or {}, item["b"] or {}
        rows.append((str(item["level"]), _n(a.get("nodes")), _n(b.get("nodes")), _n(a.get("points")),
                     _n(b.get("points")), _n(a.get("bytes")), _n(b.get("bytes")),
                     _per_point(a.get("bytes"), a.get("points")), _per_point(b.get("bytes"), b.get("points"))))
    return rows


def _aligned(rows: List[Row]) -> List[str]:
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) if c == 0 else cell.rjust(w) for c, (cell, w) in enumerate(zip(r, widths)))
            .rstrip() for r in rows]


def format_compare(a: Dict[str, Any], b: Dict[str, Any]) -> str:
    """Two ``copc_info`` dicts as a side-by-side text table."""
    data = compare_infos(a, b)
    lines = [f"A: {a['path']}" + ("" if a["is_copc"] else "  (not a COPC file)"),
             f"B: {b['path']}" + ("" if b["is_copc"] else "  (not a COPC file)"), ""]
    lines += _aligned([("", "A", "B", "B/A"), *_total_rows(data["a"], data["b"])])
    if data["levels"]:
        lines += ["", *_aligned(_level_rows(data["levels"]))]
    return "\n".join(lines)

"""QGIS's point-cloud statistics EVLR (user id "qgis", record id 0).

QGIS 3.x writes and reads it in ``QgsPointCloudStatistics::toStatisticsJson``
/ ``fromStatisticsJson`` (src/core/pointcloud/qgspointcloudstatistics.cpp) and
looks for it in ``QgsCopcPointCloudIndex::readStatistics``
(src/core/providers/copc/qgscopcpointcloudindex.cpp).  The data is compact
JSON, keys sorted as QJsonObject keeps them::

    {"sampled-points": N,
     "stats": {"<attribute>": {"class-count": {"<value>": count, ...},
                               "maximum": x, "mean": x, "minimum": x,
                               "standard-deviation": x}, ...}}

QGIS reads ``sampled-points`` and every class count with ``QJsonValue::toInt``,
which gives 0 for a number beyond a 32-bit int; a layer whose file says 0
sampled points computes its own statistics instead.  So both are written at
most INT32_MAX.  ``standard-deviation`` is optional (QGIS leaves it out when
it has none); ``class-count`` is empty for attributes QGIS does not classify.
Newer QGIS (after 3.40) also writes and reads a per-attribute ``count``
(``QgsPointCloudAttributeStatistics::toStatisticsJson``); 3.40 ignores it, so
it is written too, clamped the same way.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Dict, Optional

INT32_MAX = (1 << 31) - 1
QGIS_STATISTICS_DESCRIPTION = "Contains calculated statistics"   # what QGIS itself writes


@dataclass
class AttributeStatistics:
    minimum: float
    maximum: float
    mean: float
    standard_deviation: Optional[float] = None
    class_count: Dict[int, int] = field(default_factory=dict)
    count: Optional[int] = None     # points counted (newer QGIS reads it; 3.40 ignores it)

    def to_json(self) -> dict:
        out = {"minimum": _number(self.minimum), "maximum": _number(self.maximum), "mean": _number(self.mean),
               "class-count": {str(k): min(int(v), INT32_MAX) for k, v in sorted(self.class_count.items())}}
        if self.standard_deviation is not None:
            out["standard-deviation"] = _number(self.standard_deviation)
        if self.count is not None:
            out["count"] = min(int(self.count), INT32_MAX)
        return out

    @classmethod
    def from_json(cls, obj: dict) -> "AttributeStatistics":
        std, count = obj.get("standard-deviation"), obj.get("count")
        return cls(minimum=float(obj["minimum"]), maximum=float(obj["maximum"]), mean=float(obj["mean"]),
                   standard_deviation=None if std is None else float(std),
                   class_count={int(k): int(v) for k, v in obj.get("class-count", {}).items()},
                   count=None if count is None else int(count))


@dataclass
class QgisStatistics:
    """Statistics of every point: ``sampled_points`` is the true count (clamped when written)."""

    sampled_points: int
    attributes: Dict[str, AttributeStatistics] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        doc = {"sampled-points": min(int(self.sampled_points), INT32_MAX),
               "stats": {name: stats.to_json() for name, stats in self.attributes.items()}}
        return json.dumps(doc, sort_keys=True, separators=(",", ":"), allow_nan=False).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> "QgisStatistics":
        doc = json.loads(bytes(data).decode("utf-8"))
        return cls(sampled_points=int(doc["sampled-points"]),
                   attributes={name: AttributeStatistics.from_json(obj) for name, obj in doc.get("stats", {}).items()})


def _number(value: float):
    """A finite number as JSON writes it best: whole values as integers, as Qt does."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"statistics must be finite, got {value}")
    if value.is_integer() and abs(value) < 2 ** 53:
        return int(value)
    return value

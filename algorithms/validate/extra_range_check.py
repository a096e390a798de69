"""extra_bytes.range: the values the points hold lie within the min and max
their Extra Bytes descriptor declares, where its min_bit or max_bit is set.

Read as LAS 1.4 R15 says (``algorithms/extra_ranges.py`` quotes it): raw
stored values, no scale or offset, min and max upcast to uint64, int64 or
double by the data type, one per element for the deprecated array types.
NaNs of float dimensions are skipped.  A declared range wider than the
values is allowed; one the values leave is an error.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from ..format import MAX_BIT, MIN_BIT, RECORD_SIZE
from ..writer.extra_ranges import ExtraRanges
from .context import ValidationContext


def extra_ranges_to_check(ctx: ValidationContext) -> Optional[ExtraRanges]:
    """A fold for the points' extra-bytes ranges, or None when no typed
    descriptor declares a min or max (or the descriptors are unusable)."""
    fields = ctx.extra_fields
    if not fields or not any(f.storage_type is not None and f.options & (MIN_BIT | MAX_BIT) for f in fields):
        return None
    return ExtraRanges([f.to_bytes() for f in fields], [f.size for f in fields],
                       RECORD_SIZE[ctx.header.point_format])


def check_extra_ranges(ctx: ValidationContext, ranges: ExtraRanges) -> None:
    for field, found in zip(ranges.fields, ranges.ranges()):
        if found is None:
            continue
        lo, hi = found
        declared_min, declared_max = field.typed("min"), field.typed("max")
        below = declared_min is not None and bool(np.any(lo < declared_min))
        above = declared_max is not None and bool(np.any(hi > declared_max))
        if below or above:
            ctx.error("extra_bytes.range", f"extra dimension {field.name!r}: the points' raw values run from "
                      f"{_text(lo)} to {_text(hi)}, outside the descriptor's min {_text(declared_min)} "
                      f"and max {_text(declared_max)}")


def _text(values: Optional[np.ndarray]) -> str:
    if values is None:
        return "(not set)"
    items = [str(v) for v in values.tolist()]
    return items[0] if len(items) == 1 else "[" + ", ".join(items) + "]"

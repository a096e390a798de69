"""The real minimum and maximum of each extra-bytes dimension, as written.

The Extra Bytes VLR's ``min`` and ``max`` are set from the values the output
holds (merged over every input), in the convention of LAS 1.4 R15: doubles,
"fully transformed with any applicable scale or offset".  NaNs of float
dimensions are skipped; undocumented bytes (type 0) get no range.  Min and
max do not depend on the order points arrive in, so the bytes stay the same
whatever the thread count or memory budget.
"""
from __future__ import annotations

import struct
from typing import List, Optional, Tuple

import numpy as np

from ..format import ExtraBytesField
from ..kernels.point_formats import RECORD_SIZE
from ..points.point_layout import PointLayout

MIN_BIT, MAX_BIT, SCALE_BIT, OFFSET_BIT = 0x02, 0x04, 0x08, 0x10
_doubles = struct.Struct("<3d")


class ExtraRanges:
    """Running min/max of every typed extra dimension of a layout."""

    def __init__(self, layout: PointLayout):
        self.descriptors_given = [dim.struct for dim in layout.extra]
        self.fields: List[ExtraBytesField] = []
        self._columns: List[Optional[Tuple[int, np.dtype, int]]] = []   # record offset, element type, count
        at = RECORD_SIZE[layout.point_format]
        for dim in layout.extra:
            field = ExtraBytesField.from_bytes(dim.struct)
            base = field.base_type
            typed = base is not None and field.size == dim.size
            self.fields.append(field)
            self._columns.append((at, np.dtype("<" + base), field.count) if typed else None)
            at += dim.size
        n = len(self.fields)
        self._lo = [np.full(3, np.inf) for _ in range(n)]
        self._hi = [np.full(3, -np.inf) for _ in range(n)]

    def fold(self, records: np.ndarray) -> None:
        """Take the extra-bytes values of these records (n x record size, uint8) into the ranges."""
        if not len(records):
            return
        for k, column in enumerate(self._columns):
            if column is None:
                continue
            at, dtype, count = column
            raw = np.ascontiguousarray(records[:, at:at + dtype.itemsize * count])
            values = raw.view(dtype).reshape(len(records), count).astype(np.float64)
            with np.errstate(invalid="ignore"):
                lo, hi = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
            self._lo[k][:count] = np.fmin(self._lo[k][:count], lo)
            self._hi[k][:count] = np.fmax(self._hi[k][:count], hi)

    def merge(self, other: "ExtraRanges") -> None:
        """Take another fold's ranges (of the same layout) into these."""
        for k in range(len(self.fields)):
            self._lo[k] = np.fmin(self._lo[k], other._lo[k])
            self._hi[k] = np.fmax(self._hi[k], other._hi[k])

    def descriptors(self) -> bytes:
        """The Extra Bytes VLR's data: every descriptor as the input gave it, min and max set."""
        out = b""
        for given, field, column, lo, hi in zip(self.descriptors_given, self.fields, self._columns, self._lo,
                                                self._hi):
            if column is None or not np.all(np.isfinite(lo[:column[2]])):
                out += given          # no range to set: the descriptor exactly as the input gave it
                continue
            count = column[2]
            lo, hi = self._transformed(field, lo[:count], hi[:count])
            field.min = _doubles.pack(*lo, *[0.0] * (3 - count))
            field.max = _doubles.pack(*hi, *[0.0] * (3 - count))
            field.options |= MIN_BIT | MAX_BIT
            out += field.to_bytes()
        return out

    @staticmethod
    def _transformed(field: ExtraBytesField, lo: np.ndarray, hi: np.ndarray):
        """Raw min/max -> actual values (scale before offset); a negative scale swaps them."""
        count = len(lo)
        if field.options & SCALE_BIT:
            scale = np.array(field.scale[:count])
            lo, hi = lo * scale, hi * scale
        if field.options & OFFSET_BIT:
            offset = np.array(field.offset[:count])
            lo, hi = lo + offset, hi + offset
        return np.fmin(lo, hi).tolist(), np.fmax(lo, hi).tolist()

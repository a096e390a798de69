"""The real minimum and maximum of each extra-bytes dimension, as written.

The Extra Bytes VLR's ``min`` and ``max`` are set from the values the output
holds (merged over every input), as LAS 1.4 R15 (section "Extra Bytes")
says: "If used, the min and max fields reflect the actual minimum and
maximum values of the attribute in the LAS file, in its raw form, without
any scale or offset values applied." (R16: "as computed from the raw value
stored in the LAS point record, without any scale or offset values
applied").  They are stored upcast by type: "for any uint8_t, uint16_t, or
uint32_t they would be upcast to a uint64_t and for any int8_t, int16_t, or
int32_t, they would be upcast to a int64_t", floats to a double
(``ExtraBytesField.storage_type``).  Integers stay integers all the way, so
64-bit values keep every digit; the deprecated array types 11-30 get one
value per element.  NaNs of float dimensions are skipped; undocumented bytes
(type 0) get no range.  Every other byte of a descriptor stays as the input
gave it.  Values equal to a set ``no_data`` are no part of the range (they
mean "no value"; laspy's writer leaves them out too).  Min and max do not
depend on the order points arrive in, so the bytes stay the same whatever
the thread count or memory budget.
"""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import numpy as np

from ..format import MAX_AT, MAX_BIT, MIN_AT, MIN_BIT, ExtraBytesField
from ..kernels.point_formats import RECORD_SIZE
from ..points.point_layout import PointLayout


class ExtraRanges:
    """Running raw min/max of every typed extra dimension of a record."""

    def __init__(self, descriptors: Sequence[bytes], sizes: Sequence[int], record_offset: int):
        """``descriptors``: the 192-byte descriptors, ``sizes``: each
        dimension's bytes per point, ``record_offset``: where the first one
        starts in a record."""
        self.descriptors_given = [bytes(d) for d in descriptors]
        self.fields: List[ExtraBytesField] = [ExtraBytesField.from_bytes(d) for d in self.descriptors_given]
        self._columns: List[Optional[_Column]] = []
        at = record_offset
        for field, size in zip(self.fields, sizes):
            typed = field.storage_type is not None and field.size == size
            self._columns.append(_Column(at, field) if typed else None)
            at += size

    @classmethod
    def for_layout(cls, layout: PointLayout) -> "ExtraRanges":
        return cls([d.struct for d in layout.extra], [d.size for d in layout.extra],
                   RECORD_SIZE[layout.point_format])

    def fold(self, records: np.ndarray) -> None:
        """Take the extra-bytes values of these records (n x record size, uint8) into the ranges."""
        if len(records):
            for column in self._columns:
                if column is not None:
                    column.fold(records)

    def merge(self, other: "ExtraRanges") -> None:
        """Take another fold's ranges (of the same layout) into these."""
        for mine, theirs in zip(self._columns, other._columns):
            if mine is not None:
                mine.merge(theirs)

    def ranges(self) -> List[Optional[Tuple[np.ndarray, np.ndarray]]]:
        """Per dimension (min, max), ``count`` values of the storage type,
        or None when it has none (untyped, or an element with no value)."""
        return [c.range() if c is not None else None for c in self._columns]

    def descriptors(self) -> bytes:
        """The Extra Bytes VLR's data: every descriptor as the input gave it, min and max set."""
        out = b""
        for given, field, found in zip(self.descriptors_given, self.fields, self.ranges()):
            if found is None:
                out += given          # no range to set: the descriptor exactly as the input gave it
                continue
            lo, hi = found
            patched = bytearray(given)
            patched[3] |= MIN_BIT | MAX_BIT          # options
            patched[MIN_AT:MIN_AT + 8 * len(lo)] = lo.tobytes()
            patched[MAX_AT:MAX_AT + 8 * len(hi)] = hi.tobytes()
            out += bytes(patched)
        return out


class _Column:
    """One typed dimension: where it lies in a record, and its running range
    per element in the storage type (uint64 and int64 stay exact)."""

    def __init__(self, at: int, field: ExtraBytesField):
        self.at, self.count = at, field.count
        self.dtype = np.dtype("<" + field.base_type)
        self.storage = field.storage_type
        limits = np.finfo(self.storage) if self.storage.kind == "f" else np.iinfo(self.storage)
        self.lo = np.full(self.count, np.inf if self.storage.kind == "f" else limits.max, self.storage)
        self.hi = np.full(self.count, -np.inf if self.storage.kind == "f" else limits.min, self.storage)
        self.seen = np.zeros(self.count, bool)
        # A no_data value marks "no value": it is no part of the range (as laspy's writer has it).
        no_data = field.typed("no_data")
        self.no_data = None if no_data is None else (
            no_data.astype(self.dtype) if self.dtype.kind == "f" else no_data)

    def fold(self, records: np.ndarray) -> None:
        raw = np.ascontiguousarray(records[:, self.at:self.at + self.dtype.itemsize * self.count])
        values = raw.view(self.dtype).reshape(len(records), self.count)
        floats = self.dtype.kind == "f"
        for e in range(self.count):
            v = values[:, e]
            keep = ~np.isnan(v) if floats else None
            if self.no_data is not None:    # floats compared as stored, integers upcast
                other = (v if floats else v.astype(self.storage)) != self.no_data[e]
                keep = other if keep is None else keep & other
            if keep is not None:
                v = v[keep]
            if len(v):
                self.lo[e] = min(self.lo[e], v.min().astype(self.storage))
                self.hi[e] = max(self.hi[e], v.max().astype(self.storage))
                self.seen[e] = True

    def merge(self, other: "_Column") -> None:
        np.minimum(self.lo, other.lo, out=self.lo)
        np.maximum(self.hi, other.hi, out=self.hi)
        self.seen |= other.seen

    def range(self) -> Optional[Tuple[np.ndarray, np.ndarray]]:
        return (self.lo.copy(), self.hi.copy()) if self.seen.all() else None

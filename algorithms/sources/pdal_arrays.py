"""Points as numpy structured arrays named as PDAL names its dimensions.

This is the builder's input contract for everything that is not a LAS file:
a user's own arrays, or the arrays of a PDAL pipeline.  Known dimensions land
in their LAS 1.4 fields; any other dimension becomes an extra-bytes
dimension with its own name and type.
"""
from __future__ import annotations

import itertools
from typing import Iterator, Optional, Sequence

import numpy as np

from ..common.errors import InputError
from ..points.columns import Columns
from ..points.point_layout import (REST_CLASS, REST_FLAGS, REST_INTENSITY, REST_RETURN,
                                   REST_RGB, REST_SCAN_ANGLE, REST_SOURCE_ID, REST_USER, ExtraDim,
                                   PointLayout)
from ..points.quantize import quantize
from ..points.reprojection import Reprojection
from .reprojected import TransformedCoordinates
from .source_info import SourceInfo

# PDAL dimension name -> its type in PDAL (what the LAS readers produce).
PDAL_TYPES = {
    "X": "f8", "Y": "f8", "Z": "f8", "Intensity": "u2", "ReturnNumber": "u1",
    "NumberOfReturns": "u1", "ScanDirectionFlag": "u1", "EdgeOfFlightLine": "u1",
    "Classification": "u1", "Synthetic": "u1", "KeyPoint": "u1", "Withheld": "u1",
    "Overlap": "u1", "ScanChannel": "u1", "ScanAngleRank": "f4", "UserData": "u1",
    "PointSourceId": "u2", "GpsTime": "f8", "Red": "u2", "Green": "u2", "Blue": "u2",
    "Infrared": "u2",
}
# Dimensions PDAL has that LAS 1.4 stores nowhere: never written as extra bytes.
DROPPED = {"ClassFlags"}   # PDAL's packed copy of Synthetic/KeyPoint/Withheld/Overlap
# LAS extra-bytes data type of each numpy scalar type.
EB_TYPE = {"u1": 1, "i1": 2, "u2": 3, "i2": 4, "u4": 5, "i4": 6, "u8": 7, "i8": 8, "f4": 9, "f8": 10}


def extra_dim_for(name: str, dtype: np.dtype) -> ExtraDim:
    """An extra-bytes dimension keeping a PDAL dimension's name and type."""
    from laspy.vlrs.known import ExtraBytesStruct

    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        dtype = np.dtype("u1")   # PDAL has no bool; numpy arrays may
    code = f"{dtype.kind}{dtype.itemsize}"
    if dtype.shape == () and code in EB_TYPE:
        struct = ExtraBytesStruct(name=name.encode()[:32], data_type=EB_TYPE[code],
                                  description=b"from a PDAL dimension")
        kind = dtype.newbyteorder("<").str
    else:
        struct = ExtraBytesStruct(name=name.encode()[:32], data_type=(0, dtype.itemsize),
                                  description=b"from a PDAL dimension")
        kind = f"{dtype.itemsize}u1"
    return ExtraDim(name=name, size=dtype.itemsize, dtype=kind, struct=bytes(struct))


def require_xyz(name: str, names, subject: str = "has") -> None:
    """An InputError naming ``name`` unless ``names`` hold X, Y and Z."""
    names = tuple(names or ())
    missing = [d for d in "XYZ" if d not in names]
    if missing:
        raise InputError(name, f"{subject} no {', '.join(missing)} dimension "
                               f"(dimensions: {', '.join(names) or 'none'})")


def schema_info(name: str, dtype: np.dtype, count: int, mins=None, maxs=None,
                bounds_kind: Optional[str] = None, scales=None, offsets=None,
                crs_wkt: Optional[str] = None, crs_note: Optional[str] = None) -> SourceInfo:
    """The SourceInfo of PDAL-named arrays of this dtype."""
    names = dtype.names or ()
    require_xyz(name, names)
    point_format = 8 if "Infrared" in names else 7 if {"Red", "Green", "Blue"} & set(names) else 6
    extra = tuple(extra_dim_for(n, dtype[n]) for n in names
                  if n not in PDAL_TYPES and n not in DROPPED)
    seen = {}
    for dim in extra:   # LAS extra-bytes names hold 32 bytes
        key = dim.name.encode()[:32]
        if key in seen:
            raise InputError(name, f"dimensions '{seen[key]}' and '{dim.name}' have the same first 32 "
                                   f"bytes, all a LAS extra-bytes name holds; rename one")
        seen[key] = dim.name
    return SourceInfo(
        path=name, point_format=point_format, point_count=count,
        scales=None if scales is None else np.asarray(scales, np.float64),
        offsets=None if offsets is None else np.asarray(offsets, np.float64),
        mins=mins, maxs=maxs, extra=extra, crs_wkt=crs_wkt,
        crs_note=crs_note or "arrays carry no CRS", bounds_kind=bounds_kind or "exact")


def array_bounds(arrays: Sequence[np.ndarray], name: str):
    """(mins, maxs) of X, Y, Z over the arrays; an InputError naming ``name``
    for NaN or infinite coordinates."""
    mins = np.full(3, np.inf)
    maxs = np.full(3, -np.inf)
    seen = 0
    for a in arrays:
        if len(a) == 0:
            continue
        for k, dim in enumerate("XYZ"):
            v = np.asarray(a[dim], np.float64)
            lo, hi = v.min(), v.max()
            if not (np.isfinite(lo) and np.isfinite(hi)):
                raise InputError(name, non_finite_message(dim, v, seen))
            mins[k] = min(mins[k], lo)
            maxs[k] = max(maxs[k], hi)
        seen += len(a)
    return mins, maxs


def non_finite_message(dim: str, values: np.ndarray, first: int = 0) -> str:
    bad = np.flatnonzero(~np.isfinite(values))
    what = "NaN" if np.isnan(values[bad[0]]) else "infinite values"
    return (f"dimension {dim} holds {what} ({len(bad):,} point{'s' if len(bad) != 1 else ''}, the first at point "
            f"{first + int(bad[0]):,}); remove them first (e.g. PDAL filters.range "
            f"'{dim}[-1e300:1e300]')")


class ArraySource:
    """A cloud given as one array, a list of arrays, or any iterable of arrays
    (a ``PointSource``)."""

    warnings: Sequence[str] = ()

    def __init__(self, arrays, name: str = "<arrays>", scale=None, offset=None,
                 crs_wkt: Optional[str] = None):
        self.path = name
        if isinstance(arrays, np.ndarray):
            arrays = [arrays]
        if isinstance(arrays, (list, tuple)):
            self._list = [self._check(a) for a in arrays]
            self._stream = None
            first = self._list[0] if self._list else None
            count = sum(len(a) for a in self._list)
            mins, maxs = array_bounds(self._list, name) if count else (None, None)
            kind = "exact"
        else:
            self._list = None
            stream = iter(arrays)
            first = next(stream, None)
            if first is not None:
                first = self._check(first)
            self._stream = itertools.chain([first], stream) if first is not None else iter(())
            count = 0
            mins, maxs = array_bounds([first], name) if first is not None and len(first) else (None, None)
            kind = "partial"
        if first is None:
            raise InputError(name, "holds no points (no arrays)")
        self.dtype = first.dtype
        self.info = schema_info(name, first.dtype, count, mins, maxs, kind, scale, offset, crs_wkt)

    def _check(self, a) -> np.ndarray:
        if not isinstance(a, np.ndarray) or a.dtype.names is None:
            raise InputError(self.path, f"expected numpy structured arrays with PDAL dimension "
                                        f"names, got {type(a).__name__}")
        require_xyz(self.path, a.dtype.names)
        return a

    @property
    def point_count(self) -> int:
        return self.info.point_count

    def converter(self, layout: PointLayout, scales, offsets, reprojection=None) -> "ArrayPacker":
        return ArrayPacker(self.path, self.dtype, layout, scales, offsets, reprojection)

    def chunks(self, chunk_points: int) -> Iterator[np.ndarray]:
        source = self._list if self._list is not None else self._stream
        for a in source:
            a = self._check(a)
            if a.dtype != self.dtype:
                raise InputError(self.path, f"arrays change their dimensions midway "
                                            f"({self.dtype.names} then {a.dtype.names})")
            for start in range(0, len(a), chunk_points):
                yield a[start:start + chunk_points]

    def close(self) -> None:
        """Nothing is held open: the arrays are the caller's."""


class ArrayPacker:
    """PDAL-named structured arrays -> the node store's columns (a ``Converter``)."""

    writes_in_place = False   # it builds its columns field by field, then copies

    def __init__(self, name: str, dtype: np.dtype, layout: PointLayout, scales, offsets,
                 reprojection: Optional[Reprojection] = None):
        self.name = name
        self.names = set(dtype.names)
        self.layout = layout
        self.scales = np.asarray(scales, np.float64)
        self.offsets = np.asarray(offsets, np.float64)
        self.moved = TransformedCoordinates(reprojection, self.offsets)
        self.seen = 0

    def _get(self, a, dim, dtype):
        if dim not in self.names:
            return None
        return np.asarray(a[dim]).astype(dtype, copy=False)

    def _int(self, a, dim, lo, hi):
        """A dimension of any numeric type as int64 in [lo, hi]: floats
        rounded (NaN as 0), out-of-range values clipped."""
        v = np.asarray(a[dim])
        if v.dtype.kind == "f":
            v = np.nan_to_num(np.rint(v), nan=0.0, posinf=hi, neginf=lo)
        elif v.dtype.kind == "b":
            v = v.astype(np.int64)
        return np.clip(v, lo, hi).astype(np.int64)

    def convert(self, a: np.ndarray, out: Optional[Columns] = None) -> Columns:
        """Columns of the arrays' points; written into ``out`` (zeroed) when given."""
        n = len(a)
        xyz = self._xyz(a)
        gps = np.zeros(n, np.float64)
        g = self._get(a, "GpsTime", np.float64)
        if g is not None:
            gps[:] = g
        rest = np.zeros((n, self.layout.rest_size), np.uint8)
        self._core_fields(a, rest)
        self._extra_fields(a, rest)
        self.seen += n
        if out is None:
            return Columns(xyz, gps, rest)
        out.xyz[:] = xyz
        out.gps[:] = gps
        out.rest[:] = rest
        return out

    def _xyz(self, a: np.ndarray) -> np.ndarray:
        real = np.empty((len(a), 3), np.float64)
        for k, dim in enumerate("XYZ"):
            v = np.asarray(a[dim], np.float64)
            if not np.all(np.isfinite(v)):
                raise InputError(self.name, non_finite_message(dim, v, self.seen))
            real[:, k] = v
        real = self.moved.apply(real)
        xyz = np.empty((len(a), 3), np.int32)
        for k, dim in enumerate("XYZ"):
            xyz[:, k] = quantize(self.name, dim, real[:, k], self.scales[k], self.offsets[k])
        return xyz

    @staticmethod
    def _put(rest: np.ndarray, offset: int, values, dtype) -> None:
        v = np.ascontiguousarray(values.astype(dtype, copy=False))
        rest[:, offset:offset + v.itemsize] = v.view(np.uint8).reshape(len(rest), v.itemsize)

    def _bits(self, a, dim, mask, shift):
        # Counts and the channel keep their low bits; a 1-bit flag is set by any non-zero value.
        if dim not in self.names:
            return np.zeros(len(a), np.int64)
        v = self._int(a, dim, 0, 255)
        return (((v != 0) if mask == 1 else (v & mask)).astype(np.int64)) << shift

    def _core_fields(self, a: np.ndarray, rest: np.ndarray) -> None:
        """The LAS 1.4 fields PDAL names (intensity, returns, flags, colours...)."""
        put, bits = self._put, self._bits
        if "Intensity" in self.names:
            put(rest, REST_INTENSITY, self._int(a, "Intensity", 0, 65535), "<u2")
        rest[:, REST_RETURN] = bits(a, "ReturnNumber", 15, 0) | bits(a, "NumberOfReturns", 15, 4)
        flags = (bits(a, "Synthetic", 1, 0) | bits(a, "KeyPoint", 1, 1) | bits(a, "Withheld", 1, 2)
                 | bits(a, "Overlap", 1, 3) | bits(a, "ScanChannel", 3, 4)
                 | bits(a, "ScanDirectionFlag", 1, 6) | bits(a, "EdgeOfFlightLine", 1, 7))
        if "ClassFlags" in self.names and not ({"Synthetic", "KeyPoint", "Withheld", "Overlap"} & self.names):
            flags |= bits(a, "ClassFlags", 15, 0)   # older PDAL: the four flags packed in one
        rest[:, REST_FLAGS] = flags
        if "Classification" in self.names:
            rest[:, REST_CLASS] = self._int(a, "Classification", 0, 255)
        if "UserData" in self.names:
            rest[:, REST_USER] = self._int(a, "UserData", 0, 255)
        if "ScanAngleRank" in self.names:
            # PDAL gives degrees (readers.las: rank for formats 0-5, units x 0.006
            # for 6-10); LAS 1.4 stores 0.006 degree units.
            deg = self._get(a, "ScanAngleRank", np.float64)
            units = np.nan_to_num(np.rint(deg / 0.006), nan=0.0, posinf=30000, neginf=-30000)
            put(rest, REST_SCAN_ANGLE, np.clip(units, -30000, 30000), "<i2")
        if "PointSourceId" in self.names:
            put(rest, REST_SOURCE_ID, self._int(a, "PointSourceId", 0, 65535), "<u2")
        if self.layout.has_rgb:
            for k, dim in enumerate(("Red", "Green", "Blue")):
                if dim in self.names:
                    put(rest, REST_RGB + 2 * k, self._int(a, dim, 0, 65535), "<u2")
        if self.layout.has_nir and "Infrared" in self.names:
            put(rest, REST_RGB + 6, self._int(a, "Infrared", 0, 65535), "<u2")

    def _extra_fields(self, a: np.ndarray, rest: np.ndarray) -> None:
        """Every other dimension, as the extra bytes of its name."""
        n = len(a)
        for dim in self.layout.extra:
            if dim.name in self.names:
                raw = np.asarray(a[dim.name])
                if raw.dtype.shape == () and raw.dtype.kind in "iufb":
                    raw = raw.astype(np.dtype(dim.dtype), copy=False)   # little-endian
                raw = np.ascontiguousarray(raw)
                off = self.layout.extra_rest_offset(dim.name)
                rest[:, off:off + dim.size] = raw.view(np.uint8).reshape(n, dim.size)

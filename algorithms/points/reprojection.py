"""Real coordinates of one input into the output CRS, chunk by chunk.

A ``Reprojection`` is plain data (the two CRSs as given, whether heights are
transformed, the lattice's cell size and the error it accepts), so the plan
can carry it and Dask can pickle it to its read tasks; the pyproj
``Transformer`` is made where it is used, one per thread (pyproj's are not
thread-safe), and never leaves this module.

PROJ costs 0.5 to 0.8 microseconds of CPU a point for a projection and a
datum shift (LV03 to LV95, WGS 84, UTM), as much as the rest of a build.  So, like GDAL's approximate transformer
(gdalwarp's ``-et``), PROJ transforms the corners of a lattice of small
cells (a few metres) and the points inside a cell are interpolated
trilinearly; each cell's centre is transformed too, and a cell whose
interpolated centre is off by more than ``tolerance`` (a thousandth of the
output's scale) has its points transformed by PROJ one by one.  Cells sit at
whole multiples of the cell size, so a point's value does not depend on the
chunk it came in: the output is the same whatever the threads, budget or
Dask workers.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from ..kernels.distribute import int_bounds
from ..kernels.lattice import (CORNERS, cell_differences, int_lattice_bounds, interpolate_in_cells, interpolate_ints,
                               lattice_cells, number_int_cells, rank_cells)

Triple = Tuple[float, float, float]

# A chunk whose cells' box holds more than this many cells per point is
# numbered by sorting instead of through a box-sized table.
DENSE_CELLS_PER_POINT = 8
# Each thread's transformers, by (source CRS, target CRS).
_THREAD = threading.local()


def make_transformer(source_crs: str, target_crs: str):
    """PROJ's transformation between two CRSs (x = easting or longitude first),
    chosen as ``cs2cs`` chooses it: per point, the best operation whose area
    of use holds the point and whose grids are installed."""
    import pyproj

    return pyproj.Transformer.from_crs(pyproj.CRS.from_user_input(source_crs),
                                       pyproj.CRS.from_user_input(target_crs), always_xy=True)


@dataclass
class Reprojection:
    """How one input's real coordinates reach the output CRS."""

    name: str             # the input, for messages
    source_crs: str       # the input's CRS (its own WKT, or --a-srs as given)
    target_crs: str       # the output's CRS (--t-srs as given)
    heights: bool         # Z transformed too; else Z is kept as read
    steps: Triple         # lattice cell size, in the input's units
    tolerance: Triple = (0.0, 0.0, 0.0)   # largest interpolation error, per output axis
    source_name: str = ""   # the CRSs' names, for messages
    target_name: str = ""

    def transformer(self):
        """This thread's pyproj Transformer for the two CRSs (made once a
        thread, whatever the number of inputs sharing them)."""
        cache = getattr(_THREAD, "transformers", None)
        if cache is None:
            cache = _THREAD.transformers = {}
        key = (self.source_crs, self.target_crs)
        if key not in cache:
            cache[key] = make_transformer(*key)
        return cache[key]

    def exact(self, real: np.ndarray) -> np.ndarray:
        """(n, 3) coordinates transformed by PROJ point by point (inf where it cannot)."""
        out = np.array(real, np.float64, copy=True, order="F")
        if len(out):
            self.transformer().transform(out[:, 0], out[:, 1], out[:, 2], inplace=True)
        return out

    def transform(self, real: np.ndarray, exact: bool = False) -> np.ndarray:
        """(n, 3) real coordinates in the input's CRS -> the output's; Z kept
        as read unless ``heights``.  Points PROJ cannot transform come back
        as NaN (see ``unusable``).  ``exact``: every point through PROJ."""
        real = np.ascontiguousarray(real, np.float64)
        if exact or not len(real):
            return self._exact_or_nan(real)
        out = np.empty_like(real)
        by_proj = self._interpolate(real, out)
        if by_proj.any():
            out[by_proj] = self._exact_or_nan(real[by_proj])
        return out

    def _exact_or_nan(self, real: np.ndarray) -> np.ndarray:
        out = self.exact(real)
        if not self.heights:
            out[:, 2] = real[:, 2]
        out[~np.isfinite(out).all(axis=1)] = np.nan
        return out

    def _interpolate(self, real: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Fill ``out`` by interpolation in the lattice; True where a point
        still needs PROJ itself (its cell failed the check)."""
        steps = np.asarray(self.steps, np.float64)
        cell_of, origins = cells_of(real, steps)
        corners, values, bad = self._checked_cells(origins, steps)
        exact = np.zeros(len(real), np.bool_)
        interpolate_in_cells(real, steps, cell_of, origins, corners, values, bad, not self.heights, out, exact)
        return exact

    def quantized(self, xyz: np.ndarray, frame, out_frame) -> Optional[Tuple[np.ndarray, np.ndarray]]:
        """``transform`` of the points whose integer coordinates in ``frame``
        (scales, offsets) are ``xyz``, quantized to ``out_frame``, by the lattice
        without real coordinates in between (the same arithmetic, so the same
        values): (int32 coordinates, the indices of the points PROJ must
        transform itself, 0 in the first).  None when this does not apply (a
        box of cells too big for a table, or a value that does not fit an
        int32): ``transform`` and quantize instead."""
        n = len(xyz)
        if n == 0:
            return None
        scales, offsets = (np.asarray(v, np.float64) for v in frame)
        steps = np.asarray(self.steps, np.float64)
        lo = np.empty(3, np.int64)
        hi = np.empty(3, np.int64)
        int_lattice_bounds(xyz, scales, offsets, steps, lo, hi)
        dims = hi - lo + 1
        if float(np.prod(dims.astype(np.float64))) > max(DENSE_CELLS_PER_POINT * n, 1 << 16):
            return None
        rank = np.zeros(int(np.prod(dims)), np.int64)
        origins = np.empty((min(n, len(rank)), 3), np.int64)
        m = number_int_cells(xyz, scales, offsets, steps, lo, dims, rank, origins)
        origins = origins[:m]
        corners, values, bad = self._checked_cells(origins, steps)
        out = np.empty((n, 3), np.int32)
        exact = np.zeros(n, np.bool_)
        table = cell_differences(corners, values)
        if interpolate_ints(xyz, scales, offsets, steps, lo, dims, rank, table, bad, not self.heights,
                            *(np.asarray(v, np.float64) for v in out_frame), out, exact):
            return None
        return out, np.flatnonzero(exact)

    def _checked_cells(self, origins: np.ndarray, steps: np.ndarray):
        """(each cell's 8 corner nodes, the nodes transformed by PROJ, True for
        a cell whose interpolated centre is off by more than the tolerance or
        that has a corner PROJ cannot transform)."""
        m = len(origins)
        nodes, corners = corner_nodes(origins)
        values = self.exact(nodes * steps)
        centres = (origins + 0.5) * steps
        expected = self.exact(centres)
        at_centre = np.empty_like(centres)
        interpolate_in_cells(centres, steps, np.arange(m, dtype=np.int64), origins, corners, values,
                             np.zeros(m, np.bool_), not self.heights, at_centre, np.zeros(m, np.bool_))
        error = np.abs(at_centre - expected)
        if not self.heights:
            error[:, 2] = 0.0
        bad = ~(error <= np.asarray(self.tolerance)).all(axis=1)   # NaN and inf fail too
        bad |= ~np.isfinite(values[corners]).reshape(m, -1).all(axis=1)
        return corners, values, bad


def corner_nodes(origins: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """(the lattice nodes at the cells' corners (k, 3), each cell's 8 of them (m, 8))."""
    m = len(origins)
    corner_cells = (origins[:, None, :] + CORNERS[None]).reshape(-1, 3)
    lo = origins.min(axis=0)
    dims = origins.max(axis=0) - lo + 2
    if float(np.prod(dims.astype(np.float64))) < 2.0 ** 62:
        rel = corner_cells - lo
        codes = (rel[:, 2] * dims[1] + rel[:, 1]) * dims[0] + rel[:, 0]
        unique, inverse = np.unique(codes, return_inverse=True)
        nodes = np.stack([unique % dims[0], unique // dims[0] % dims[1], unique // (dims[0] * dims[1])], axis=1) + lo
    else:
        nodes, inverse = np.unique(corner_cells, axis=0, return_inverse=True)
    return np.ascontiguousarray(nodes), np.ascontiguousarray(inverse.reshape(m, 8))


def cells_of(real: np.ndarray, steps: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """(each point's cell number, the cells as int64 (m, 3)): through a table
    over the chunk's box of cells when it is small, else by sorting."""
    n = len(real)
    cells = np.empty((n, 3), np.int64)
    lo = np.full(3, np.iinfo(np.int64).max, np.int64)
    hi = np.full(3, np.iinfo(np.int64).min, np.int64)
    lattice_cells(real, steps, cells)
    int_bounds(cells, lo, hi)
    dims = hi - lo + 1
    if float(np.prod(dims.astype(np.float64))) <= max(DENSE_CELLS_PER_POINT * n, 1 << 16):
        rank = np.full(int(np.prod(dims)), -1, np.int64)
        origins = np.empty((n, 3), np.int64)
        cell_of = np.empty(n, np.int64)
        m = rank_cells(cells, lo, dims, rank, origins, cell_of)
        return cell_of, origins[:m].copy()
    origins, inverse = np.unique(cells, axis=0, return_inverse=True)
    return inverse.reshape(-1).astype(np.int64), np.ascontiguousarray(origins)


def unusable(out: np.ndarray) -> np.ndarray:
    """Points ``Reprojection.transform`` could not transform."""
    return np.isnan(out[:, 0])


def failure_message(reprojection: Reprojection, count: int, first: Optional[np.ndarray]) -> str:
    """What an InputError says of points PROJ could not transform."""
    where = "" if first is None else (f"; the first at x={first[0]:.10g}, y={first[1]:.10g}, "
                                      f"z={first[2]:.10g}")
    return (f"{count:,} of its points cannot be transformed from {reprojection.source_name or 'its CRS'} to "
            f"{reprojection.target_name or 'the target CRS'}: PROJ gives no finite coordinates for them "
            f"(outside the area the transformation covers{where}); remove them first or choose another "
            f"target CRS")

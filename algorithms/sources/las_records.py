"""Raw LAS records of any point format -> the node store's columns."""
from __future__ import annotations

from typing import Optional

import numpy as np

from ..kernels.lattice import dequantize, quantize_xyz
from ..kernels.point_formats import GPS_OFFSET, LEGACY_FORMATS, NIR_OFFSET, RGB_OFFSET
from ..kernels.records import split_records
from ..points.columns import Columns
from ..points.point_layout import (CORE_SIZE, REST_RGB, REST_SOURCE_ID, REST_USER, PointLayout)
from ..points.quantize import quantize
from ..points.reprojection import Reprojection
from .reprojected import TransformedCoordinates
from .source_info import SourceInfo


class RecordConverter:
    """Converts one input file's records into columns of the output layout
    (a ``Converter``)."""

    writes_in_place = True   # the kernel fills claimed store pages directly

    def __init__(self, info: SourceInfo, layout: PointLayout, scales, offsets,
                 reprojection: Optional[Reprojection] = None):
        self.info = info
        self.layout = layout
        self.scales = np.asarray(scales, np.float64)
        self.offsets = np.asarray(offsets, np.float64)
        self.moved = TransformedCoordinates(reprojection, self.offsets)
        pf = info.point_format
        self.same_frame = reprojection is None and bool(np.all(info.scales == self.scales)
                                                        and np.all(info.offsets == self.offsets))
        self.legacy = pf in LEGACY_FORMATS
        rest = []
        if self.legacy:
            rest += [(12, 0, 2), (17, REST_USER, 1), (18, REST_SOURCE_ID, 2)]
        else:
            rest += [(12, 0, CORE_SIZE)]
        if layout.has_rgb and pf in RGB_OFFSET:
            rest.append((RGB_OFFSET[pf], REST_RGB, 6))
        if layout.has_nir and pf in NIR_OFFSET:
            rest.append((NIR_OFFSET[pf], REST_RGB + 6, 2))
        for dim, offset in zip(info.extra, info.extra_offsets):
            rest.append((offset, layout.extra_rest_offset(dim.name), dim.size))
        self._rest_plan = np.array(rest, np.int64).reshape(-1, 3)
        self._gps_at = GPS_OFFSET.get(pf, -1)

    def convert(self, raw: np.ndarray, out: Optional[Columns] = None) -> Columns:
        """Columns of the records; written into ``out`` (zeroed) when given."""
        n = raw.shape[0]
        if out is None:
            out = Columns(np.empty((n, 3), np.int32), np.zeros(n, np.float64),
                          np.zeros((n, self.layout.rest_size), np.uint8))
        split_records(np.ascontiguousarray(raw), out.xyz, out.gps.view(np.uint64), out.rest,
                      self._gps_at, self._rest_plan, self.legacy)
        if not self.same_frame:
            out.xyz[:] = self._reframe(out.xyz)
        return out

    def _reframe(self, xyz: np.ndarray) -> np.ndarray:
        """Re-quantize from the input's scale/offset to the output's
        (reprojected on the way with --t-srs)."""
        if self.moved.reprojection is None:
            real = xyz * self.info.scales + self.info.offsets
        else:
            out = self.moved.apply_quantized(xyz, (self.info.scales, self.info.offsets),
                                             (self.scales, self.offsets))
            if out is not None:
                return out
            real = np.empty(xyz.shape, np.float64)
            dequantize(xyz, self.info.scales, self.info.offsets, real)
            real = self.moved.apply(real)
        out = np.empty_like(xyz)
        if quantize_xyz(np.ascontiguousarray(real), np.asarray(self.scales, np.float64),
                        np.asarray(self.offsets, np.float64), out):
            for k, dim in enumerate("XYZ"):   # the one that does not fit, named
                out[:, k] = quantize(self.info.path, dim, real[:, k], self.scales[k], self.offsets[k])
        return out

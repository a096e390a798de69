"""The reprojection step of a converter: real coordinates in, the output
CRS's out, and a count of the points PROJ could not transform.

Those points are counted, not raised at once, so the error names how many
of the input's points fail; meanwhile they stand at the offset (a finite
placeholder) and the read stage stops the build once the input is read
(``raise_if_failed``), before anything is written.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from ..common.errors import InputError
from ..common.timing import TIMINGS
from ..kernels.lattice import quantize_xyz
from ..points.reprojection import Reprojection, failure_message, unusable


class TransformedCoordinates:
    """One converter's reprojection (or none: coordinates pass unchanged)."""

    def __init__(self, reprojection: Optional[Reprojection], placeholder):
        self.reprojection = reprojection
        self.placeholder = np.asarray(placeholder, np.float64)
        self.failed = 0
        self.first_failed: Optional[np.ndarray] = None

    def apply(self, real: np.ndarray) -> np.ndarray:
        if self.reprojection is None:
            return real
        with TIMINGS("read.reproject"):
            out = self.reprojection.transform(real)
        bad = unusable(out)
        self._count_failed(real, bad)
        out[bad] = self.placeholder
        return out

    def apply_quantized(self, xyz: np.ndarray, frame, out_frame) -> Optional[np.ndarray]:
        """The points of integer coordinates ``xyz`` in ``frame`` (scales,
        offsets) as int32 coordinates in ``out_frame``, the same values as
        ``apply`` and quantizing gives, without real coordinates for most
        points (``Reprojection.quantized``); None when that path does not
        apply: then ``apply`` and quantize."""
        with TIMINGS("read.reproject"):
            got = self.reprojection.quantized(xyz, frame, out_frame)
            if got is None:
                return None
            out, by_proj = got
            if not len(by_proj):
                return out
            scales, offsets = frame
            real = xyz[by_proj] * np.asarray(scales, np.float64) + np.asarray(offsets, np.float64)
            moved = self.reprojection.transform(real, exact=True)
            bad = unusable(moved)
            moved[bad] = self.placeholder
            fitted = np.empty((len(by_proj), 3), np.int32)
            if quantize_xyz(moved, *(np.asarray(v, np.float64) for v in out_frame), fitted):
                return None
        self._count_failed(real, bad)
        out[by_proj] = fitted
        return out

    def _count_failed(self, real: np.ndarray, bad: np.ndarray) -> None:
        if bad.any():
            if self.first_failed is None:
                self.first_failed = np.asarray(real)[bad][0].copy()
            self.failed += int(np.count_nonzero(bad))

    def raise_if_failed(self, path: str) -> None:
        if self.failed:
            raise InputError(path, failure_message(self.reprojection, self.failed, self.first_failed))

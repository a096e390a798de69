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
        if bad.any():
            if self.first_failed is None:
                self.first_failed = np.asarray(real)[bad][0].copy()
            self.failed += int(np.count_nonzero(bad))
            out[bad] = self.placeholder
        return out

    def raise_if_failed(self, path: str) -> None:
        if self.failed:
            raise InputError(path, failure_message(self.reprojection, self.failed, self.first_failed))

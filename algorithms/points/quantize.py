"""Real coordinates onto the output's integer grid (LAS stores int32)."""
from __future__ import annotations

import numpy as np

from ..common.errors import InputError

INT32_MIN = -(2 ** 31)
INT32_MAX = 2 ** 31 - 1


def quantize(name: str, dim: str, real: np.ndarray, scale: float, offset: float) -> np.ndarray:
    """rint((real - offset) / scale) as int32; an InputError naming ``name``
    and the dimension when a value does not fit."""
    q = np.rint((real - offset) / scale)
    if len(q) and (q.min() < INT32_MIN or q.max() > INT32_MAX):
        raise InputError(name, f"{dim} values from {real.min():.3f} to {real.max():.3f} do not fit "
                               f"a 32-bit integer at scale {scale} and offset {offset}; "
                               f"give a coarser scale or another offset")
    return q.astype(np.int32)

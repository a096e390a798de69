"""kernels.prefetch: a hint that changes no value, for any array and index type."""
from __future__ import annotations

import numpy as np
from numba import njit

from copc_builder.algorithms.kernels.prefetch import AHEAD, prefetch


@njit(cache=False)
def gathered_sum(values, index):
    total = 0.0
    for j in range(index.shape[0]):
        if j + AHEAD < index.shape[0]:
            prefetch(values, index[j + AHEAD])
        total += values[index[j]]
    return total


@njit(cache=False)
def prefetch_far(values, rows):
    """Rows outside the array, even far outside: a prefetch never faults."""
    for r in rows:
        prefetch(values, r)
    return values.shape[0]


def test_a_gather_with_prefetches_gives_the_same_values():
    rng = np.random.default_rng(0)
    values = rng.random(10_000)
    for dtype in (np.int32, np.int64, np.uint32):
        index = rng.integers(0, len(values), 5_000).astype(dtype)
        assert gathered_sum(values, index) == sum(values[index].tolist())


def test_rows_of_two_dimensional_and_strided_arrays():
    rows = np.arange(60, dtype=np.uint8).reshape(12, 5)
    for array in (rows, rows[::2], rows[:, 1:]):
        assert prefetch_far(array, np.array([0, 3, -1, 10 ** 9, -(10 ** 9)], np.int64)) == len(array)

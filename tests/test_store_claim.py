"""A node's own page, written in place (claim_page / claim), and the builder
claiming one only for the LAS records that can be converted into it."""
from __future__ import annotations

import laspy
import numpy as np

from copc_builder import build_copc
from copc_builder.algorithms.store import PointStore
from fixtures import write_las

REST = 5


def test_claimed_points_come_back_in_order():
    store = PointStore(REST, 1 << 30, None, 64)
    store.claim_page(7, 100)
    first, second = store.claim(7, 60), store.claim(7, 40)
    assert store.claim(7, 1) is None, "the page is full"
    for k, view in enumerate((first, second)):
        view.xyz[:] = np.arange(len(view) * 3).reshape(-1, 3) + 1000 * k
        view.gps[:] = np.arange(len(view)) + 1000 * k
        view.rest[:] = k + 1
    got = store.take(7)
    assert np.array_equal(got.xyz, np.concatenate([first.xyz, second.xyz]))
    assert np.array_equal(got.gps, np.concatenate([np.arange(60), np.arange(40) + 1000]))
    assert np.array_equal(got.rest[:, 0], np.repeat([1, 2], [60, 40]))


def test_a_claimed_page_never_written_is_freed_by_take():
    store = PointStore(REST, 1 << 30, None, 64)
    before = store.resident_bytes
    store.claim_page(7, 10_000)
    assert store.resident_bytes > before
    assert len(store.take(7)) == 0
    assert store.resident_bytes == before
    assert store.claim(7, 1) is None, "the claim is gone with the take"


def test_arrays_do_not_claim_a_page_they_cannot_fill(tmp_path):
    """The same points from a LAS file (converted in place) and from arrays
    (appended): the arrays must not also hold an unused page of every point."""
    path = write_las(tmp_path / "in.las", n=200_000, point_format=6, seed=3)
    las = laspy.read(path)
    arr = np.zeros(len(las.points), [("X", "f8"), ("Y", "f8"), ("Z", "f8"), ("GpsTime", "f8")])
    arr["X"], arr["Y"], arr["Z"], arr["GpsTime"] = las.x, las.y, las.z, las.gps_time
    from_file = build_copc([str(path)], tmp_path / "file.copc.laz")
    from_arrays = build_copc(arr, tmp_path / "arrays.copc.laz", scale=0.01)
    assert from_file.stats["bucket_level"] == from_arrays.stats["bucket_level"] == 0
    assert from_arrays.stats["peak_store_bytes"] <= 1.5 * from_file.stats["peak_store_bytes"]

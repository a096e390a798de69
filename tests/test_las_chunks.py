"""LasFile.chunks: a chunked LAZ is decoded into one buffer, chunk after
chunk, with the records laspy reads."""
from __future__ import annotations

import laspy
import numpy as np
import pytest

from copc_builder.algorithms.sources.las_file import LasFile

from fixtures import write_las, write_rich


def laspy_records(path) -> np.ndarray:
    points = laspy.read(str(path)).points.array
    return points.view(np.uint8).reshape(len(points), -1)


@pytest.mark.parametrize("point_format", [3, 7])
def test_laz_chunks_are_laspys_records_in_one_buffer(tmp_path, point_format):
    path = write_rich(tmp_path / "a.laz", point_format=point_format, n=25_000)
    las = LasFile(str(path))
    assert las.info.laz_backend == "parallel"
    want = laspy_records(path)
    got, buffers = [], set()
    for raw in las.chunks(10_000):
        got.append(raw.copy())
        buffers.add(raw.__array_interface__["data"][0])
    assert [len(g) for g in got] == [10_000, 10_000, 5_000]
    assert np.array_equal(np.concatenate(got), want)
    assert len(buffers) == 1   # decoded into the same memory each time, not a new bytearray


def test_laz_chunks_of_a_range(tmp_path):
    """The cluster's read tasks take a range of the points."""
    path = write_rich(tmp_path / "a.laz", point_format=6, n=30_000)
    want = laspy_records(path)
    got = [raw.copy() for raw in LasFile(str(path)).chunks(4_000, 5_000, 17_000)]
    assert [len(g) for g in got] == [4_000, 4_000, 4_000]
    assert np.array_equal(np.concatenate(got), want[5_000:17_000])


def test_las_chunks_are_laspys_records(tmp_path):
    path = write_las(tmp_path / "a.las", n=12_345, point_format=1)
    got = [raw.copy() for raw in LasFile(str(path)).chunks(5_000)]
    assert np.array_equal(np.concatenate(got), laspy_records(path))

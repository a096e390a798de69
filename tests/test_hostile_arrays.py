"""Hostile arrays given to the API (issue 6): empty in every shape, not
structured, missing a coordinate, changing dimensions midway, a stream that
raises.  Refused with one InputError naming the problem, nothing left."""
from __future__ import annotations

import numpy as np
import pytest

from copc_builder import InputError, build_copc
from hostile_helpers import api_refused, assert_holds_arrays, folders, listing, pdal_array

EMPTY = pdal_array(0)


@pytest.mark.parametrize("shape", ["array", "list", "list_of_empty", "iterator", "iterator_of_empty"])
def test_empty_arrays(tmp_path, shape):
    inputs = {"array": EMPTY, "list": [], "list_of_empty": [EMPTY, EMPTY], "iterator": iter([]),
              "iterator_of_empty": iter([EMPTY, EMPTY])}[shape]
    api_refused(tmp_path, inputs, InputError, ("no points", "at least one input"))


def test_empty_arrays_then_points(tmp_path):
    """Empty arrays at the head of a stream are skipped, not taken for the end."""
    a = pdal_array(500, seed=1)
    out_dir, tmp_dir = folders(tmp_path)
    out = out_dir / "x.copc.laz"
    summary = build_copc(iter([EMPTY, EMPTY, a, EMPTY]), out, temp_dir=tmp_dir)
    assert summary.points == 500
    assert_holds_arrays(out, [a])
    assert listing(tmp_dir) == []


def test_not_structured(tmp_path):
    api_refused(tmp_path, np.zeros((10, 3)), InputError, "structured arrays")


def test_missing_z(tmp_path):
    a = np.zeros(10, [("X", "f8"), ("Y", "f8"), ("Intensity", "u2")])
    api_refused(tmp_path, a, InputError, "has no Z dimension", names=["Intensity"])


def test_dimensions_change_midway(tmp_path):
    def stream():
        yield pdal_array(5000, seed=1)
        yield pdal_array(5000, seed=2, extra=[("foo", "f4")])

    api_refused(tmp_path, stream(), InputError, "change their dimensions", names=["foo"],
                memory_budget="1M", page_points=64)


def test_stream_that_raises(tmp_path):
    """The caller's own error comes through as it is; nothing is left behind."""
    def stream():
        yield pdal_array(5000, seed=1)
        raise RuntimeError("the caller's generator broke")

    api_refused(tmp_path, stream(), RuntimeError, "generator broke", memory_budget="1M",
                page_points=64)


def test_unknown_input_type(tmp_path):
    api_refused(tmp_path, [pdal_array(10), 42], InputError, "cannot read a int")

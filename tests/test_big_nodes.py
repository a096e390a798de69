"""Leaves too big for memory (points piled on one spot) go through the
external merge sort and streaming; the bytes equal the in-memory build's."""
from __future__ import annotations

import numpy as np

from copc_builder import build_copc, validate_copc
from hostile_helpers import assert_holds_arrays


def pile(n: int, spots=(1000.0,)) -> np.ndarray:
    rng = np.random.default_rng(7)
    a = np.zeros(n, [("X", "f8"), ("Y", "f8"), ("Z", "f8"), ("Intensity", "u2"), ("GpsTime", "f8"),
                     ("Classification", "u1")])
    a["X"] = np.repeat(spots, -(-n // len(spots)))[:n]
    a["Y"] = 2000.0
    a["Z"] = 10.0
    a["Intensity"] = rng.integers(0, 50, n)
    a["GpsTime"] = rng.integers(0, 1000, n) / 10.0    # many ties, on purpose
    a["Classification"] = rng.integers(0, 3, n)
    return a


def test_one_spot_root_streamed(tmp_path):
    a = pile(200_000)
    small, big = tmp_path / "mem.copc.laz", tmp_path / "stream.copc.laz"
    build_copc(a, small, scale=0.01)
    summary = build_copc(a, big, scale=0.01, memory_budget="2M", page_points=2048)
    assert summary.nodes == 1 and summary.points == 200_000
    assert big.read_bytes() == small.read_bytes()
    assert validate_copc(big).ok
    assert_holds_arrays(big, [a], scale=0.01)


def test_two_spots_big_leaves_below_the_root(tmp_path):
    a = pile(200_000, spots=(1000.0, 1000.02))
    small, big = tmp_path / "mem.copc.laz", tmp_path / "stream.copc.laz"
    build_copc(a, small, scale=0.01)
    build_copc(a, big, scale=0.01, memory_budget="2M", page_points=2048)
    assert big.read_bytes() == small.read_bytes()
    # every point once, each inside its node's cube
    assert_holds_arrays(big, [a], scale=0.01)

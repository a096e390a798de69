"""The build's declared seams: the source protocol, one converter signature,
the plan's frame policy, the memory budget's shares and the store's keys."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from copc_builder.algorithms.points.columns import Columns
from copc_builder.algorithms.points.cube import Cube
from copc_builder.algorithms.build.memory_budget import MemoryBudget
from copc_builder.algorithms.format.node_key import MAX_LEVEL, ROOT
from copc_builder.algorithms.common.options import DEFAULT_BUDGET, DEFAULT_MEMORY_BUDGET, parse_size
from copc_builder.algorithms.build.plan import DEFAULT_ARRAY_SCALE, GEOGRAPHIC_SCALE, settle_frame
from copc_builder.algorithms.points.point_layout import PointLayout
from copc_builder.algorithms.sources.las_file import LasFile
from copc_builder.algorithms.sources.pdal_arrays import ArraySource, schema_info
from copc_builder.algorithms.sources.resolve import is_source, open_sources
from copc_builder.algorithms.sources.source import Converter, PointSource
from copc_builder.algorithms.store.keys import RAW_KEY, RUN_KEY_BASE, key_kind, run_key
from fixtures import write_las


def cloud(n=1000, seed=0):
    rng = np.random.default_rng(seed)
    a = np.zeros(n, [("X", "f8"), ("Y", "f8"), ("Z", "f8"), ("Intensity", "u2"), ("Red", "u2"),
                     ("GpsTime", "f8"), ("Amp", "f4")])
    a["X"] = rng.uniform(0, 100, n)
    a["Y"] = rng.uniform(0, 100, n)
    a["Z"] = rng.uniform(0, 10, n)
    a["Intensity"] = rng.integers(0, 5000, n)
    a["Red"] = rng.integers(0, 65535, n)
    a["GpsTime"] = rng.uniform(0, 1000, n)
    a["Amp"] = rng.normal(size=n)
    return a


# -- sources -------------------------------------------------------------------------
def test_every_source_implements_the_protocol(tmp_path):
    las = LasFile(str(write_las(tmp_path / "a.las", n=300)))
    arrays = ArraySource([cloud()])
    for source in (las, arrays):
        assert isinstance(source, PointSource) and is_source(source)
        assert list(source.warnings) == []
        source.close()
    assert not is_source(str(tmp_path / "a.las")) and not is_source(cloud())
    assert [type(s) for s in open_sources([las, arrays])] == [LasFile, ArraySource]


def test_converters_share_one_signature(tmp_path):
    las = LasFile(str(write_las(tmp_path / "a.las", n=300)))
    arrays = ArraySource([cloud()])
    layout = PointLayout(7, arrays.info.extra)
    frame = ((0.01, 0.01, 0.01), (0.0, 0.0, 0.0))
    for source, in_place in ((las, True), (arrays, False)):
        conv = source.converter(layout, *frame)
        assert isinstance(conv, Converter) and conv.writes_in_place is in_place
        chunk = next(source.chunks(10_000))
        own = conv.convert(chunk)
        room = Columns(np.zeros((len(chunk), 3), np.int32), np.zeros(len(chunk)),
                       np.zeros((len(chunk), layout.rest_size), np.uint8))
        into = conv.convert(chunk, room)
        assert into is room
        for a, b in ((own.xyz, into.xyz), (own.gps, into.gps), (own.rest, into.rest)):
            np.testing.assert_array_equal(a, b)


# -- the plan's frame policy -------------------------------------------------------------
def frameless(**facts):
    info = schema_info("<pipeline>", cloud().dtype, 0, np.array([10.0, 20.0, 0.0]),
                       np.array([30.0, 60.0, 6.0]), "partial")
    return dataclasses.replace(info, **facts)


def test_settle_frame_keeps_an_own_frame_and_leaves_arrays_to_the_plan():
    own = dataclasses.replace(frameless(frame_from_crs=True), scales=np.array([0.5] * 3),
                              offsets=np.array([1.0] * 3))
    assert settle_frame(own) is own
    arrays = frameless(crs_wkt="EPSG:4326")     # an array source: frame_from_crs False
    assert settle_frame(arrays).scales is None
    projected = frameless(frame_from_crs=True, crs_wkt="EPSG:2056")
    assert settle_frame(projected).scales is None   # the plan's DEFAULT_ARRAY_SCALE applies
    assert DEFAULT_ARRAY_SCALE == 0.001


def test_settle_frame_takes_degrees_for_a_geographic_pipeline():
    info = settle_frame(frameless(frame_from_crs=True, crs_wkt="EPSG:4326"))
    assert tuple(info.scales) == GEOGRAPHIC_SCALE
    assert tuple(info.offsets) == (20.0, 40.0, 3.0)   # centred, whole units


def test_settle_frame_from_the_readers_frames():
    a = (np.array([0.01] * 3), np.array([5.0, 5.0, 0.0]))
    same = settle_frame(frameless(reader_frames=(a, a)))
    assert tuple(same.scales) == (0.01,) * 3 and tuple(same.offsets) == (5.0, 5.0, 0.0)
    b = (np.array([0.001, 0.01, 0.01]), np.array([7.0, 5.0, 0.0]))
    mixed = settle_frame(frameless(reader_frames=(a, b), frame_from_crs=True, crs_wkt="EPSG:4326"))
    assert tuple(mixed.scales) == (0.001, 0.01, 0.01)       # the finest; readers before the CRS
    assert tuple(mixed.offsets) == (20.0, 40.0, 3.0)


# -- memory budget -------------------------------------------------------------------------
def test_memory_budget_shares():
    budget = MemoryBudget(1_000_000)
    assert budget.unit_points(30) == 700_000 // (2 * 30 + 50)
    assert budget.read_store_bytes(30, 1000) == 650_000 - 1000 * (3 * 30 + 64)
    assert budget.read_store_bytes(30, 10_000) == 0
    assert budget.build_store_bytes() == 150_000
    assert budget.bucket_level(10, 100, None) == 1
    assert budget.bucket_level(10 ** 12, 4, None) == budget.max_bucket_level
    shallow = Cube.enclosing(np.zeros(3, np.int64), np.full(3, 3, np.int64), (1.0,) * 3, (0.0,) * 3)
    assert budget.bucket_level(10 ** 12, 4, shallow) == max(shallow.max_depth, 1)


def test_one_default_memory_budget():
    assert DEFAULT_BUDGET == parse_size(DEFAULT_MEMORY_BUDGET)
    import inspect

    from copc_builder.algorithms.api import build_copc
    assert inspect.signature(build_copc).parameters["memory_budget"].default == DEFAULT_MEMORY_BUDGET


# -- store keys ----------------------------------------------------------------------------
def test_store_key_kinds():
    deepest = (1 << (3 * MAX_LEVEL)) | ((1 << (3 * MAX_LEVEL)) - 1)
    assert key_kind(RAW_KEY) == "raw"
    assert key_kind(ROOT) == key_kind(deepest) == "node"
    assert key_kind(run_key(0)) == key_kind(run_key(12345)) == "run"
    assert run_key(3) == RUN_KEY_BASE + 3
    with pytest.raises(ValueError):
        key_kind(deepest + 1)

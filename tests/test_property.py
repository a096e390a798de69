"""Property-based (issue 6): random PDAL-named clouds (1 to 5,000 points;
uniform, clustered, gridded with duplicates, or degenerate), random formats
(with or without RGB, NIR, extra dimensions), scales, leaf limits, read chunk
sizes and memory budgets down to 16-point pages.  Every build keeps every point exactly once,
is a valid COPC, and a tiny budget gives the same bytes as the default one."""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from copc_builder import build_copc
from hostile_helpers import assert_holds_arrays, listing

EXTRA = [("height", "f4"), ("ring", "u1"), ("label", "i8"), ("weight", "f8"), ("quality", "i2"),
         ("Amplitude", "u4")]
SHAPES = ["uniform", "clustered", "grid", "identical", "plane_z", "plane_x", "line"]


@st.composite
def clouds(draw):
    n = draw(st.one_of(st.integers(1, 10), st.integers(11, 500), st.integers(501, 5000)))
    shape = draw(st.sampled_from(SHAPES))
    colour = draw(st.sampled_from(["none", "rgb", "rgb+nir", "nir only"]))
    extra = draw(st.lists(st.sampled_from(EXTRA), unique_by=lambda e: e[0], max_size=3))
    optional = draw(st.lists(st.sampled_from(["GpsTime", "UserData", "PointSourceId", "Classification"]),
                             unique=True))
    extent = draw(st.sampled_from([0.05, 3.0, 250.0, 20_000.0, 1_500_000.0]))
    origin = draw(st.sampled_from([(0.0, 0.0, 0.0), (500_000.0, 4_000_000.0, 300.0),
                                   (-1234.5, 98_765.25, -50.0)]))
    parts = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2 ** 32 - 1))

    fields = [("X", "f8"), ("Y", "f8"), ("Z", "f8"), ("Intensity", "u2"), ("ReturnNumber", "u1"),
              ("NumberOfReturns", "u1")]
    fields += [(name, {"GpsTime": "f8", "UserData": "u1", "PointSourceId": "u2",
                       "Classification": "u1"}[name]) for name in optional]
    if colour in ("rgb", "rgb+nir"):
        fields += [("Red", "u2"), ("Green", "u2"), ("Blue", "u2")]
    if colour in ("rgb+nir", "nir only"):
        fields += [("Infrared", "u2")]
    fields += extra
    rng = np.random.default_rng(seed)
    a = np.zeros(n, fields)
    if shape == "clustered":
        centres = origin + rng.uniform(0, extent, (rng.integers(1, 6), 3))
        pick = centres[rng.integers(0, len(centres), n)]
        xyz = pick + rng.normal(0, extent / 1000, (n, 3))
    elif shape == "grid":
        xyz = origin + rng.integers(0, 8, (n, 3)) * (extent / 8)
    else:
        xyz = origin + rng.uniform(0, extent, (n, 3))
        if shape == "identical":
            xyz[:] = xyz[0]
        elif shape == "plane_z":
            xyz[:, 2] = xyz[0, 2]
        elif shape == "plane_x":
            xyz[:, 0] = xyz[0, 0]
        elif shape == "line":
            xyz[:, 0] = xyz[0, 0]
            xyz[:, 2] = xyz[0, 2]
    a["X"], a["Y"], a["Z"] = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    a["Intensity"] = rng.integers(0, 65536, n)
    a["NumberOfReturns"] = rng.integers(1, 16, n)
    a["ReturnNumber"] = rng.integers(0, 16, n)
    for name, dtype in fields[6:]:
        dt = np.dtype(dtype)
        if name == "GpsTime":
            a[name] = np.round(rng.uniform(0, 1000, n), 1)     # ties on purpose
        elif dt.kind == "f":
            a[name] = rng.normal(0, 1000, n)
        else:
            a[name] = rng.integers(np.iinfo(dt).min, np.iinfo(dt).max, n, dtype=dt, endpoint=True)
    cuts = sorted(rng.integers(0, n + 1, parts - 1))
    return [part for part in np.split(a, cuts)] if parts > 1 else a


@settings(max_examples=25, deadline=None, database=None)
@given(cloud=clouds(),
       scale=st.sampled_from([None, 0.001, 0.01, 0.25, (0.01, 0.01, 0.001), (0.003, 0.005, 0.002)]),
       leaf_limit=st.sampled_from([50, 700, 100_000]),
       tiny=st.sampled_from([("1M", 16), ("2M", 64), ("8M", 1024)]),
       chunk_points=st.sampled_from([1_000_000, 1000, 37]))
def test_random_clouds_conserved_valid_and_budget_independent(cloud, scale, leaf_limit, tiny,
                                                               chunk_points):
    arrays = cloud if isinstance(cloud, list) else [cloud]
    with tempfile.TemporaryDirectory(prefix="copc-property-") as tmp:
        tmp = Path(tmp)
        temp = tmp / "temp"
        temp.mkdir()
        big, small = tmp / "default.copc.laz", tmp / "tiny.copc.laz"
        options = dict(scale=scale, leaf_limit=leaf_limit, temp_dir=temp)
        summary = build_copc(cloud, big, **options)
        assert summary.points == sum(len(a) for a in arrays)
        assert listing(temp) == []
        assert_holds_arrays(big, arrays, scale=scale)
        budget, page_points = tiny
        build_copc(cloud, small, memory_budget=budget, page_points=page_points,
                   chunk_points=chunk_points, **options)
        assert listing(temp) == []
        assert small.read_bytes() == big.read_bytes(), "a tiny budget changed the bytes"

"""points.reprojection: the lattice path against PROJ point by point, its
independence of chunking, pickling, and points PROJ cannot transform."""
import pickle

import numpy as np
import pytest

pyproj = pytest.importorskip("pyproj")

from copc_builder.algorithms.kernels.lattice import quantize_xyz  # noqa: E402
from copc_builder.algorithms.points.reprojection import Reprojection, cells_of, unusable  # noqa: E402
from copc_builder.algorithms.sources.reprojected import TransformedCoordinates  # noqa: E402


def reprojection(src, dst, steps, tolerance, heights=False):
    return Reprojection("test", src, dst, heights, steps, tolerance)


def cloud(n, origin, extent, seed=0):
    rng = np.random.default_rng(seed)
    return np.asarray(origin, np.float64) + rng.uniform(0, 1, (n, 3)) * np.asarray(extent, np.float64)


def proj(src, dst, real):
    tr = pyproj.Transformer.from_crs(src, dst, always_xy=True)
    return np.stack(tr.transform(real[:, 0], real[:, 1], real[:, 2]), axis=1)


CASES = [   # source, target, origin, extent, steps, tolerance, heights
    ("EPSG:21781", "EPSG:4326", (676_000, 245_000, 400), (3000, 2000, 300), (2.0, 2.0, 64.0),
     (1e-10, 1e-10, 1e-5), False),
    ("EPSG:21781", "EPSG:2056", (676_000, 245_000, 400), (3000, 2000, 300), (4.0, 4.0, 64.0), (1e-5,) * 3, False),
    ("EPSG:2994", "EPSG:32610", (1_200_000, 850_000, 300), (5000, 5000, 500), (16.0, 16.0, 256.0), (1e-6,) * 3, False),
    ("EPSG:32632", "EPSG:4978", (500_000, 5_200_000, 0), (2000, 2000, 800), (4.0, 4.0, 64.0), (1e-5,) * 3, True),
    ("EPSG:4326", "EPSG:32633", (14.9, 52.1, 30), (0.02, 0.02, 50), (2.0 ** -15,) * 2 + (64.0,), (1e-6,) * 3, False),
]


@pytest.mark.parametrize("src, dst, origin, extent, steps, tolerance, heights", CASES)
def test_lattice_agrees_with_proj_within_its_tolerance(src, dst, origin, extent, steps, tolerance, heights):
    real = cloud(20_000, origin, extent)
    rep = reprojection(src, dst, steps, tolerance, heights)
    got = rep.transform(real)
    want = proj(src, dst, real)
    if not heights:
        want[:, 2] = real[:, 2]     # heights kept as read
    assert np.all(np.isfinite(got))
    assert np.all(np.abs(got - want) <= np.asarray(tolerance)), np.abs(got - want).max(axis=0)
    assert np.array_equal(rep.transform(real, exact=True), want)


def test_result_does_not_depend_on_the_chunking():
    real = cloud(30_000, (676_000, 245_000, 400), (2000, 2000, 200), seed=4)
    rep = reprojection("EPSG:21781", "EPSG:4326", (2.0, 2.0, 64.0), (1e-10, 1e-10, 1e-5))
    whole = rep.transform(real)
    parts = np.concatenate([rep.transform(real[a:a + 977]) for a in range(0, len(real), 977)])
    shuffled = np.random.default_rng(0).permutation(len(real))
    assert whole.tobytes() == parts.tobytes()
    assert whole[shuffled].tobytes() == rep.transform(real[shuffled]).tobytes()


def test_sparse_chunks_number_cells_by_sorting_to_the_same_values():
    """Points far apart (a box of cells too big for a table) take the sorting path."""
    near = cloud(500, (676_000, 245_000, 400), (50, 50, 10))
    far = cloud(500, (500_000, 80_000, 400), (50, 50, 10))
    real = np.concatenate([near, far])
    steps = np.array([0.5, 0.5, 64.0])
    cell_of, origins = cells_of(real, steps)
    assert np.array_equal(origins[cell_of], np.floor(real / steps).astype(np.int64))
    rep = reprojection("EPSG:21781", "EPSG:2056", tuple(steps), (1e-5,) * 3)
    assert rep.transform(real)[:500].tobytes() == rep.transform(near).tobytes()


def test_zero_tolerance_sends_every_point_to_proj():
    real = cloud(2_000, (676_000, 245_000, 400), (500, 500, 50))
    rep = reprojection("EPSG:21781", "EPSG:4326", (2.0, 2.0, 64.0), (0.0, 0.0, 0.0))
    want = proj("EPSG:21781", "EPSG:4326", real)
    want[:, 2] = real[:, 2]
    assert np.array_equal(rep.transform(real), want)


def test_pickles_without_its_transformer_and_works_after():
    rep = reprojection("EPSG:21781", "EPSG:2056", (4.0, 4.0, 64.0), (1e-5,) * 3)
    real = cloud(1_000, (676_000, 245_000, 400), (300, 300, 30))
    before = rep.transform(real)
    again = pickle.loads(pickle.dumps(rep))
    assert again == rep
    assert again.transform(real).tobytes() == before.tobytes()


def test_points_proj_cannot_transform_come_back_as_nan():
    """Latitudes beyond the pole: PROJ gives inf; they are flagged, the others kept."""
    real = np.array([[8.5, 47.3, 500.0], [8.5, 95.0, 500.0], [8.6, 47.4, 510.0]])
    rep = reprojection("EPSG:4326", "EPSG:2056", (2.0 ** -15,) * 2 + (64.0,), (1e-5,) * 3)
    out = rep.transform(real)
    assert unusable(out).tolist() == [False, True, False]
    assert np.all(np.isfinite(out[[0, 2]]))


def quantized_the_long_way(rep, xyz, frame, out_frame):
    """transform of the dequantized points, quantized: what ``quantized`` must equal."""
    real = xyz * np.asarray(frame[0]) + np.asarray(frame[1])
    want = np.empty(xyz.shape, np.int32)
    assert quantize_xyz(rep.transform(real), *(np.asarray(v, np.float64) for v in out_frame), want) == 0
    return want


@pytest.mark.parametrize("src, dst, origin, extent, steps, tolerance, heights", CASES)
def test_quantized_equals_transform_then_quantize(src, dst, origin, extent, steps, tolerance, heights):
    frame = ((0.01, 0.01, 0.01), origin)
    if src == "EPSG:4326":
        frame = ((1e-7, 1e-7, 0.01), origin)
    rng = np.random.default_rng(3)
    extent = np.asarray(extent) / 10          # a box of cells the chunk's table holds
    span = (extent / np.asarray(frame[0])).astype(np.int64)
    xyz = (rng.integers(0, span, (20_000, 3))).astype(np.int32)
    rep = reprojection(src, dst, steps, tolerance, heights)
    centre = rep.exact(np.array([np.asarray(origin) + extent / 2]))[0]
    out_frame = ((1e-7, 1e-7, 0.01) if dst == "EPSG:4326" else (0.01, 0.01, 0.01), centre)
    want = quantized_the_long_way(rep, xyz, frame, out_frame)
    got, by_proj = rep.quantized(xyz, frame, out_frame)
    keep = np.ones(len(xyz), bool)
    keep[by_proj] = False
    assert np.array_equal(got[keep], want[keep])
    moved = TransformedCoordinates(rep, out_frame[1])
    assert np.array_equal(moved.apply_quantized(xyz, frame, out_frame), want)
    assert moved.failed == 0


def test_quantized_declines_sparse_chunks_and_values_that_do_not_fit():
    rep = reprojection("EPSG:21781", "EPSG:2056", (0.5, 0.5, 64.0), (1e-5,) * 3)
    frame = ((0.01, 0.01, 0.01), (500_000.0, 80_000.0, 0.0))
    far_apart = np.array([[0, 0, 40_000], [17_600_000, 16_500_000, 40_000]], np.int32)
    assert rep.quantized(far_apart, frame, ((0.01,) * 3, (2.6e6, 1.2e6, 0.0))) is None
    near = np.array([[17_600_000, 16_500_000, 40_000], [17_600_100, 16_500_100, 40_000]], np.int32)
    assert rep.quantized(near, frame, ((0.01,) * 3, (2.6e6, 1.2e6, 0.0))) is not None
    assert rep.quantized(near, frame, ((1e-9,) * 3, (2.6e6, 1.2e6, 0.0))) is None   # 0.4 m / 1e-9: no int32


def test_quantized_counts_what_proj_cannot_transform_as_apply_does():
    """Latitudes just beyond the pole in a chunk: the same count, first point
    and coordinates (the placeholder, the offset: 0) by both paths."""
    rep = reprojection("EPSG:4326", "EPSG:2056", (2.0 ** -15,) * 2 + (64.0,), (1e-5,) * 3)
    frame = ((1e-7, 1e-7, 0.01), (8.0, 89.99, 0.0))
    xyz = np.array([[5_000, 30_000, 50_000], [5_000, 200_000, 50_000],
                    [6_000, 40_000, 51_000], [5_001, 200_001, 50_000]], np.int32)
    out_frame = ((0.01,) * 3, (2.6e6, 1.2e6, 0.0))
    fast, slow = TransformedCoordinates(rep, out_frame[1]), TransformedCoordinates(rep, out_frame[1])
    got = fast.apply_quantized(xyz, frame, out_frame)
    real = slow.apply(xyz * np.asarray(frame[0]) + np.asarray(frame[1]))
    want = np.empty(xyz.shape, np.int32)
    quantize_xyz(real, np.asarray(out_frame[0]), np.asarray(out_frame[1]), want)
    assert np.array_equal(got, want) and np.all(got[[1, 3]] == 0)
    assert fast.failed == slow.failed == 2
    assert np.array_equal(fast.first_failed, slow.first_failed)

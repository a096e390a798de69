"""points.reprojection: the lattice path against PROJ point by point, its
independence of chunking, pickling, and points PROJ cannot transform."""
import pickle

import numpy as np
import pytest

pyproj = pytest.importorskip("pyproj")

from copc_builder.algorithms.points.reprojection import Reprojection, cells_of, unusable  # noqa: E402


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

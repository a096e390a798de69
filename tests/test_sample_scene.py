"""The built-in sample survey: a LAZ a real airborne scanner could have made."""

import hashlib

import numpy as np
import pytest

laspy = pytest.importorskip("laspy")
pytest.importorskip("lazrs")
pytest.importorskip("pyproj")

from copc_builder.algorithms.common.errors import OptionError, OutputError  # noqa: E402
from copc_builder.demo import ORIGIN, SIZE, write_sample_scene  # noqa: E402

POINTS = 50_000


@pytest.fixture(scope="module")
def scene_path(tmp_path_factory):
    return write_sample_scene(tmp_path_factory.mktemp("sample") / "scene.laz", points=POINTS, seed=0)


@pytest.fixture(scope="module")
def las(scene_path):
    return laspy.read(scene_path)


def _col(las, name):
    return np.asarray(las[name])


def test_returns_path_and_leaves_nothing_else(scene_path):
    assert scene_path.name == "scene.laz"
    assert scene_path.is_file()
    assert sorted(p.name for p in scene_path.parent.iterdir()) == ["scene.laz"]


def test_header_format_and_count(las, scene_path):
    h = las.header
    assert str(h.version) == "1.4"
    assert h.point_format.id == 7
    assert h.are_points_compressed
    assert len(las.points) == h.point_count
    assert abs(h.point_count - POINTS) <= 0.03 * POINTS
    assert np.allclose(h.scales, 0.01)
    assert np.allclose(h.offsets, [ORIGIN[0], ORIGIN[1], 0.0])
    # Header bounds are those of the points.
    assert np.allclose(h.mins, [las.x.min(), las.y.min(), las.z.min()])
    assert np.allclose(h.maxs, [las.x.max(), las.y.max(), las.z.max()])
    by_return = np.bincount(_col(las, "return_number"), minlength=16)[1:]
    assert list(h.number_of_points_by_return) == list(by_return)


def test_crs_is_utm32n(las):
    assert las.header.global_encoding.wkt
    assert las.header.parse_crs().to_epsg() == 25832


def test_points_lie_in_the_square(las):
    x, y = np.asarray(las.x) - ORIGIN[0], np.asarray(las.y) - ORIGIN[1]
    # Returns below a crown drift along the slanted beam, a few metres at most.
    assert x.min() > -15 and x.max() < SIZE + 15
    assert y.min() > -15 and y.max() < SIZE + 15
    assert x.max() - x.min() > 0.95 * SIZE and y.max() - y.min() > 0.95 * SIZE


def test_class_mix(las):
    cls = _col(las, "classification")
    share = {c: np.mean(cls == c) for c in np.unique(cls)}
    assert 0.3 < share[2] < 0.8  # ground
    assert 0.15 < share[5] < 0.6  # high vegetation
    assert 0.005 < share[6] < 0.1  # buildings
    assert share.get(3, 0) > 0 and share.get(4, 0) > 0  # low, medium vegetation
    assert share.get(9, 0) > 0  # the lake
    assert set(share) <= {2, 3, 4, 5, 6, 7, 9, 18}
    assert share.get(7, 0) + share.get(18, 0) < 0.002  # a few noise points


def test_noise_lies_off_the_surface(las):
    cls, z = _col(las, "classification"), np.asarray(las.z)
    ground = z[cls == 2]
    if np.any(cls == 7):
        assert z[cls == 7].max() < ground.max()
    if np.any(cls == 18):
        assert z[cls == 18].min() > ground.min() + 30


def test_return_numbers(las):
    rn, nr = _col(las, "return_number"), _col(las, "number_of_returns")
    assert rn.min() >= 1
    assert np.all(rn <= nr)
    assert nr.max() <= 5
    assert np.mean(nr > 1) > 0.1  # crowns split pulses


def _pulses(las):
    """Start index and length of each run of equal GPS time (one pulse)."""
    t = _col(las, "gps_time")
    starts = np.flatnonzero(np.r_[True, t[1:] != t[:-1]])
    lengths = np.diff(np.r_[starts, t.size])
    return starts, lengths


def test_returns_of_a_pulse_share_time_and_come_in_order(las):
    rn, nr = _col(las, "return_number"), _col(las, "number_of_returns")
    starts, lengths = _pulses(las)
    # Every run of one GPS time is one whole pulse: n points numbered 1..n of n.
    pulse = np.repeat(np.arange(starts.size), lengths)
    assert np.all(nr == lengths[pulse])
    assert np.all(rn == np.arange(rn.size) - starts[pulse] + 1)
    for name in ("point_source_id", "scan_angle", "scan_direction_flag", "edge_of_flight_line"):
        col = _col(las, name)
        assert np.all(col == col[starts][pulse]), name


def test_later_returns_are_lower(las):
    rn, z = _col(las, "return_number"), np.asarray(las.z)
    later = np.flatnonzero(rn > 1)
    assert later.size > 0
    assert np.all(z[later] < z[later - 1])


def test_ground_seen_through_crowns(las):
    cls, rn, nr = _col(las, "classification"), _col(las, "return_number"), _col(las, "number_of_returns")
    last_of_many = (rn == nr) & (nr > 1)
    assert np.sum(last_of_many & (cls == 2)) > 0
    assert np.all(cls[(rn == 1) & (nr > 1)] != 2)  # first echo of a split pulse is never ground


def test_gps_time_in_acquisition_order(las):
    t = _col(las, "gps_time")
    assert np.all(np.diff(t) >= 0)
    assert 2e8 < t.min() < t.max() < 5e8  # adjusted standard GPS time
    assert las.header.global_encoding.gps_time_type == laspy.header.GpsTimeType.STANDARD


def test_flight_lines(las):
    psid, t = _col(las, "point_source_id"), _col(las, "gps_time")
    lines = np.unique(psid)
    assert lines.size >= 3
    # Each line is flown in one go, one after the other.
    changes = np.count_nonzero(psid[1:] != psid[:-1])
    assert changes == lines.size - 1
    ends = [t[psid == p].max() for p in lines]
    starts = [t[psid == p].min() for p in lines]
    assert all(ends[i] < starts[i + 1] for i in range(lines.size - 1))
    overlap = _col(las, "overlap").astype(bool)
    assert 0.05 < overlap.mean() < 0.6
    # Overlap points carry the ids of lines whose strips are shared.
    assert np.unique(psid[overlap]).size >= 2


def test_scan_pattern(las):
    angle = _col(las, "scan_angle").astype(np.float64) * 0.006  # degrees
    assert angle.min() < -15 and angle.max() > 15
    assert np.abs(angle).max() <= 20.01
    sdf = _col(las, "scan_direction_flag")
    assert 0.3 < sdf.mean() < 0.7
    edge = _col(las, "edge_of_flight_line").astype(bool)
    assert 0 < edge.sum() < 0.02 * edge.size
    assert np.abs(angle[edge]).min() > 19  # a sweep ends at the edge of the swath


def test_colours_from_the_orthophoto(las):
    red, green, blue = (_col(las, c).astype(np.int64) for c in ("red", "green", "blue"))
    for c in (red, green, blue):
        assert np.all(c % 257 == 0)  # 8-bit values scaled to 16 bits
        assert c.std() > 10 * 257
    cls = _col(las, "classification")
    roofs, crowns = cls == 6, (cls == 5) & (_col(las, "return_number") == 1)
    assert green[crowns].mean() > red[crowns].mean() and green[crowns].mean() > blue[crowns].mean()
    assert red[roofs].mean() > red[crowns].mean()


def test_intensity(las):
    intensity, cls = _col(las, "intensity"), _col(las, "classification")
    assert intensity.std() > 1000
    assert np.median(intensity[cls == 9]) < np.median(intensity[cls == 2])  # water is dark


def test_same_seed_same_bytes_other_seed_other_points(scene_path, tmp_path):
    again = write_sample_scene(tmp_path / "again.laz", points=POINTS, seed=0)
    assert hashlib.sha256(again.read_bytes()).digest() == hashlib.sha256(scene_path.read_bytes()).digest()
    other = laspy.read(write_sample_scene(tmp_path / "other.laz", points=POINTS, seed=1))
    first = laspy.read(scene_path)
    assert abs(len(other.points) - POINTS) <= 0.03 * POINTS
    n = min(len(first.points), len(other.points))
    assert not np.array_equal(np.asarray(first.X)[:n], np.asarray(other.X)[:n])
    assert first.header.uuid != other.header.uuid


def test_las_suffix_writes_uncompressed(tmp_path):
    path = write_sample_scene(tmp_path / "small.las", points=5_000, seed=3)
    las = laspy.read(path)
    assert not las.header.are_points_compressed
    assert abs(len(las.points) - 5_000) <= 0.05 * 5_000


def test_tiny_scene(tmp_path):
    las = laspy.read(write_sample_scene(tmp_path / "tiny.laz", points=100, seed=0))
    assert 50 <= len(las.points) <= 150


def test_unwritable_path(tmp_path):
    target = tmp_path / "missing" / "scene.laz"
    with pytest.raises(OutputError, match="scene.laz"):
        write_sample_scene(target, points=1_000)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("points", [0, 99, -5, 2.5, True])
def test_bad_point_count(tmp_path, points):
    with pytest.raises(OptionError, match="points"):
        write_sample_scene(tmp_path / "x.laz", points=points)
    assert list(tmp_path.iterdir()) == []

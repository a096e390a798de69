"""PDAL-named arrays -> LAS 1.4 fields, as PDAL's readers.las/writers.las name
and scale them (no pdal needed: the arrays are made here)."""
from __future__ import annotations

import laspy
import numpy as np
import pytest

from copc_builder import InputError, build_copc, validate_copc

N = 5_000
SCALE = 0.001
OFFSET = (2_600_000.0, 1_200_000.0, 0.0)


def pdal_cloud(n: int = N, seed: int = 0, extra: bool = True) -> np.ndarray:
    """Every dimension PDAL gives for LAS 1.4 format 8, typed as PDAL types
    them, plus dimensions LAS has no field for."""
    rng = np.random.default_rng(seed)
    fields = [("X", "f8"), ("Y", "f8"), ("Z", "f8"), ("Intensity", "u2"), ("ReturnNumber", "u1"),
              ("NumberOfReturns", "u1"), ("ScanDirectionFlag", "u1"), ("EdgeOfFlightLine", "u1"),
              ("Classification", "u1"), ("Synthetic", "u1"), ("KeyPoint", "u1"), ("Withheld", "u1"),
              ("Overlap", "u1"), ("ScanAngleRank", "f4"), ("UserData", "u1"), ("PointSourceId", "u2"),
              ("GpsTime", "f8"), ("ScanChannel", "u1"), ("Red", "u2"), ("Green", "u2"), ("Blue", "u2"),
              ("Infrared", "u2")]
    if extra:
        fields += [("Amplitude", "f4"), ("Deviation", "i2"), ("EchoId", "u4"), ("Tick", "i8"),
                   ("HeightAboveGround", "f8"), ("Flag8", "i1")]
    a = np.zeros(n, fields)
    for k, dim in enumerate("XYZ"):
        a[dim] = OFFSET[k] + np.round(rng.uniform(0, 300, n) / SCALE) * SCALE
    nr = rng.integers(1, 16, n)
    a["NumberOfReturns"] = nr
    a["ReturnNumber"] = rng.integers(1, 16, n) % (nr + 1)
    for dim in ("ScanDirectionFlag", "EdgeOfFlightLine", "Synthetic", "KeyPoint", "Withheld", "Overlap"):
        a[dim] = rng.integers(0, 2, n)
    a["ScanChannel"] = rng.integers(0, 4, n)
    a["Classification"] = rng.integers(0, 256, n)
    a["ScanAngleRank"] = (rng.integers(-30000, 30001, n) * 0.006).astype(np.float32)
    a["UserData"] = rng.integers(0, 256, n)
    a["PointSourceId"] = rng.integers(0, 65536, n)
    a["GpsTime"] = rng.uniform(3e8, 3e8 + 1000, n)
    for dim in ("Intensity", "Red", "Green", "Blue", "Infrared"):
        a[dim] = rng.integers(0, 65536, n)
    if extra:
        a["Amplitude"] = rng.normal(0, 10, n)
        a["Deviation"] = rng.integers(-32768, 32768, n)
        a["EchoId"] = rng.integers(0, 2 ** 32, n, dtype=np.uint64)
        a["Tick"] = rng.integers(-2 ** 62, 2 ** 62, n)
        a["HeightAboveGround"] = rng.normal(5, 3, n)
        a["Flag8"] = rng.integers(-128, 128, n)
    return a


def build(tmp_path, cloud, name="out.copc.laz", offset=OFFSET, **options):
    out = tmp_path / name
    build_copc(cloud, out, scale=SCALE, offset=offset, **options)
    return out


def by_position(las: laspy.LasData, cloud: np.ndarray):
    """Output points reordered to the cloud's order (matched on X, Y, Z, GPS time)."""
    def order(x, y, z, t):
        return np.lexsort((t, z, y, x))
    src = order(cloud["X"], cloud["Y"], cloud["Z"], cloud["GpsTime"])
    out = order(np.asarray(las.x), np.asarray(las.y), np.asarray(las.z), np.asarray(las.gps_time))
    inverse = np.empty_like(src)
    inverse[src] = np.arange(len(src))
    return out[inverse]


def test_every_las_dimension_lands_in_its_field(tmp_path):
    cloud = pdal_cloud()
    out = build(tmp_path, cloud)
    assert validate_copc(out).ok
    las = laspy.read(out)
    assert las.header.point_format.id == 8
    assert len(las.points) == N
    idx = by_position(las, cloud)
    p = las.points[idx]
    expect = {
        "intensity": cloud["Intensity"], "return_number": cloud["ReturnNumber"],
        "number_of_returns": cloud["NumberOfReturns"], "scan_direction_flag": cloud["ScanDirectionFlag"],
        "edge_of_flight_line": cloud["EdgeOfFlightLine"], "classification": cloud["Classification"],
        "synthetic": cloud["Synthetic"], "key_point": cloud["KeyPoint"], "withheld": cloud["Withheld"],
        "overlap": cloud["Overlap"], "scanner_channel": cloud["ScanChannel"],
        "user_data": cloud["UserData"], "point_source_id": cloud["PointSourceId"],
        "gps_time": cloud["GpsTime"], "red": cloud["Red"], "green": cloud["Green"],
        "blue": cloud["Blue"], "nir": cloud["Infrared"],
        # PDAL's degrees -> LAS 1.4 units of 0.006 degree
        "scan_angle": np.rint(cloud["ScanAngleRank"].astype(np.float64) / 0.006),
    }
    for field, values in expect.items():
        np.testing.assert_array_equal(np.asarray(p[field]), values, err_msg=field)
    for k, dim in enumerate("xyz"):
        np.testing.assert_array_equal(np.asarray(p[dim.upper()]),
                                      np.rint((cloud[dim.upper()] - OFFSET[k]) / SCALE), err_msg=dim)


def test_other_dimensions_become_typed_extra_bytes(tmp_path):
    cloud = pdal_cloud()
    out = build(tmp_path, cloud)
    las = laspy.read(out)
    types = {d.name: np.dtype(d.dtype) for d in las.point_format.extra_dimensions}
    assert types == {"Amplitude": np.dtype("f4"), "Deviation": np.dtype("i2"),
                     "EchoId": np.dtype("u4"), "Tick": np.dtype("i8"),
                     "HeightAboveGround": np.dtype("f8"), "Flag8": np.dtype("i1")}
    idx = by_position(las, cloud)
    for name in types:
        np.testing.assert_array_equal(np.asarray(las.points[idx][name]), cloud[name], err_msg=name)


def test_packed_class_flags_of_older_pdal(tmp_path):
    cloud = pdal_cloud(n=500, extra=False)
    flags = (cloud["Synthetic"] | cloud["KeyPoint"] << 1 | cloud["Withheld"] << 2 | cloud["Overlap"] << 3)
    names = [n for n in cloud.dtype.names if n not in ("Synthetic", "KeyPoint", "Withheld", "Overlap")]
    packed = np.zeros(len(cloud), [(n, cloud.dtype[n]) for n in names] + [("ClassFlags", "u1")])
    for n in names:
        packed[n] = cloud[n]
    packed["ClassFlags"] = flags
    las = laspy.read(build(tmp_path, packed))
    assert not list(las.point_format.extra_dimension_names)   # ClassFlags is no extra dimension
    p = las.points[by_position(las, cloud)]
    for field, dim in (("synthetic", "Synthetic"), ("key_point", "KeyPoint"),
                       ("withheld", "Withheld"), ("overlap", "Overlap")):
        np.testing.assert_array_equal(np.asarray(p[field]), cloud[dim], err_msg=field)


def test_float_fields_rounded_clipped_nan_as_zero(tmp_path):
    a = np.zeros(4, [("X", "f8"), ("Y", "f8"), ("Z", "f8"), ("Intensity", "f8"), ("ScanAngleRank", "f8"),
                     ("Classification", "f4"), ("GpsTime", "f8")])
    a["X"] = [0, 1, 2, 3]
    a["Intensity"] = [70000.0, -5.0, np.nan, 10.6]
    a["ScanAngleRank"] = [200.0, -200.0, np.nan, 0.0061]
    a["Classification"] = [2.4, 300, np.nan, 6.6]
    a["GpsTime"] = [0, 1, 2, 3]
    las = laspy.read(build(tmp_path, a, offset=(0, 0, 0)))
    p = las.points[np.argsort(np.asarray(las.x))]
    assert list(p.intensity) == [65535, 0, 0, 11]
    assert list(p.scan_angle) == [30000, -30000, 0, 1]
    assert list(p.classification) == [2, 255, 0, 7]


def test_bool_dimension_is_one_byte_extra(tmp_path):
    a = np.zeros(3, [("X", "f8"), ("Y", "f8"), ("Z", "f8"), ("IsGround", "?")])
    a["X"] = [0, 1, 2]
    a["IsGround"] = [True, False, True]
    las = laspy.read(build(tmp_path, a, offset=(0, 0, 0)))
    dims = {d.name: np.dtype(d.dtype) for d in las.point_format.extra_dimensions}
    assert dims == {"IsGround": np.dtype("u1")}
    assert list(las.points[np.argsort(np.asarray(las.x))]["IsGround"]) == [1, 0, 1]


@pytest.mark.parametrize("dim,value,what", [("Z", np.nan, "NaN"), ("X", np.inf, "infinite"),
                                            ("Y", -np.inf, "infinite")])
def test_non_finite_coordinates_named(tmp_path, dim, value, what):
    a = pdal_cloud(n=100, extra=False)
    a[dim][[7, 40]] = value
    with pytest.raises(InputError) as err:
        build(tmp_path, a)
    assert f"dimension {dim} holds {what}" in str(err.value)
    assert "2 points, the first at point 7" in str(err.value)
    assert not (tmp_path / "out.copc.laz").exists()


def test_non_finite_coordinates_in_a_later_chunk(tmp_path):
    first = pdal_cloud(n=100, extra=False, seed=1)
    second = pdal_cloud(n=100, extra=False, seed=2)
    second["Z"][3] = np.nan
    with pytest.raises(InputError) as err:
        build(tmp_path, iter([first, second]))
    assert "dimension Z holds NaN" in str(err.value)
    assert "at point 103" in str(err.value)


def test_extra_names_equal_in_their_first_32_bytes_refused(tmp_path):
    long = "A" * 32
    a = np.zeros(2, [("X", "f8"), ("Y", "f8"), ("Z", "f8"), (long + "_one", "u1"), (long + "_two", "u1")])
    with pytest.raises(InputError) as err:
        build(tmp_path, a, offset=(0, 0, 0))
    assert "same first 32 bytes" in str(err.value)

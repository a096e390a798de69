"""Small LAS/LAZ inputs the tests make themselves (no ../shared needed)."""
from __future__ import annotations

import struct
from pathlib import Path
from typing import Optional

import laspy
import numpy as np


def write_las(path, n: int = 2_000, point_format: int = 3, seed: int = 0, scale: float = 0.01,
              offset=(500_000.0, 4_000_000.0, 0.0), extent: float = 500.0, crs: Optional[str] = None,
              version: Optional[str] = None) -> Path:
    """A random cloud over ``extent`` metres, in any point format; LAZ when path ends in .laz."""
    rng = np.random.default_rng(seed)
    version = version or ("1.4" if point_format >= 6 else "1.2")
    header = laspy.LasHeader(point_format=point_format, version=version)
    header.scales = np.array([scale] * 3)
    header.offsets = np.array(offset)
    if crs:
        import pyproj

        header.add_crs(pyproj.CRS.from_user_input(crs))
    las = laspy.LasData(header)
    if n:
        las.x = offset[0] + rng.uniform(0, extent, n)
        las.y = offset[1] + rng.uniform(0, extent, n)
        las.z = offset[2] + rng.uniform(0, 50, n)
        las.intensity = rng.integers(0, 65535, n)
        nr = rng.integers(1, 6, n)
        las.number_of_returns = nr
        las.return_number = np.minimum(rng.integers(1, 6, n), nr)
        las.classification = rng.integers(0, 19 if point_format >= 6 else 31, n)
        if "gps_time" in las.point_format.dimension_names:
            las.gps_time = np.sort(rng.uniform(3e8, 3e8 + 100, n))
        if "red" in las.point_format.dimension_names:
            las.red = rng.integers(0, 65535, n)
            las.green = rng.integers(0, 65535, n)
            las.blue = rng.integers(0, 65535, n)
    las.write(str(path))
    return Path(path)


def write_rich(path, point_format: int = 8, n: int = 3000, seed: int = 0, version: Optional[str] = None,
               extra=(), crs: Optional[str] = None, offset=(500_000.0, 4_000_000.0, 0.0),
               scales=(0.01, 0.01, 0.01), origin=None, extent=(400.0, 400.0, 40.0),
               legacy_class_12: bool = True) -> Path:
    """A LAS/LAZ with every field of its point format set (return numbers,
    flags, scan angle, user data, source id, GPS time, colours, NIR) and the
    typed extra dimensions ``extra`` [(name, numpy type)], over ``extent``
    metres from ``origin`` (default: the offset).

    legacy_class_12=False keeps class 12 out of formats 0-5: PDAL reads it as
    the overlap flag over class 0, where a LAS reader keeps 12.
    """
    rng = np.random.default_rng(seed)
    legacy = point_format < 6
    version = version or ("1.4" if not legacy else "1.3" if point_format in (4, 5) else "1.2")
    header = laspy.LasHeader(point_format=point_format, version=version)
    header.scales = np.array(scales, np.float64)
    header.offsets = np.array(offset, np.float64)
    if extra:
        header.add_extra_dims([laspy.ExtraBytesParams(name, dtype) for name, dtype in extra])
    if crs:
        import pyproj

        header.add_crs(pyproj.CRS.from_user_input(crs))
    las = laspy.LasData(header)
    origin = offset if origin is None else origin
    las.x = origin[0] + rng.uniform(0, extent[0], n)
    las.y = origin[1] + rng.uniform(0, extent[1], n)
    las.z = origin[2] + rng.uniform(0, extent[2], n)
    las.intensity = rng.integers(0, 65536, n)
    top = 7 if legacy else 15
    nr = rng.integers(1, top + 1, n)
    las.number_of_returns = nr
    las.return_number = np.minimum(rng.integers(1, top + 1, n), nr)
    classes = rng.integers(0, 32 if legacy else 256, n)
    if legacy and not legacy_class_12:
        classes[classes == 12] = 13
    las.classification = classes
    las.synthetic = rng.integers(0, 2, n)
    las.key_point = rng.integers(0, 2, n)
    las.withheld = rng.integers(0, 2, n)
    las.scan_direction_flag = rng.integers(0, 2, n)
    las.edge_of_flight_line = rng.integers(0, 2, n)
    if legacy:
        las.scan_angle_rank = rng.integers(-90, 91, n)
    else:
        las.overlap = rng.integers(0, 2, n)
        las.scanner_channel = rng.integers(0, 4, n)
        las.scan_angle = rng.integers(-30000, 30001, n)
    las.user_data = rng.integers(0, 256, n)
    las.point_source_id = rng.integers(0, 65536, n)
    dims = las.point_format.dimension_names
    if "gps_time" in dims:
        las.gps_time = rng.uniform(3e8, 3e8 + 1000, n)
    for dim in ("red", "green", "blue", "nir"):
        if dim in dims:
            las[dim] = rng.integers(0, 65536, n)
    for name, dtype in extra:
        dt = np.dtype(dtype)
        las[name] = (rng.normal(0, 1000, n) if dt.kind == "f"
                     else rng.integers(np.iinfo(dt).min, np.iinfo(dt).max, n, endpoint=True)).astype(dt)
    las.write(str(path))
    return Path(path)


def patch(path, offset: int, fmt: str, *values) -> Path:
    """Overwrite bytes of a file in place: ``values`` packed little-endian as
    ``fmt`` (struct format) at ``offset``."""
    path = Path(path)
    data = bytearray(path.read_bytes())
    struct.pack_into("<" + fmt, data, offset, *values)
    path.write_bytes(bytes(data))
    return path


def copy_with_child_page(src, folder):
    """A writable copy of the COPC ``src`` (one with paged hierarchy) in
    ``folder``, its independent parse, and the file offset of the root page's
    first page-pointer entry (point count -1)."""
    import shutil

    from copc_parse import parse_copc

    path = Path(folder) / Path(src).name
    shutil.copyfile(src, path)
    path.chmod(0o644)
    parsed = parse_copc(path, decode=False)
    root, size = parsed.info["root_hier_offset"], parsed.info["root_hier_size"]
    data = path.read_bytes()
    pointer = next(at for at in range(root, root + size, 32)
                   if struct.unpack_from("<i", data, at + 28)[0] == -1)   # 28: the entry's point count
    return path, parsed, pointer


# Extra dimensions of every kind write_typed_extra writes: (name, numpy type, laspy params).
TYPED_EXTRA = [("u1v", "u1", {}), ("u2v", "u2", {"no_data": [0]}), ("u4v", "u4", {}), ("u8v", "u8", {}),
               ("i1v", "i1", {}), ("i2v", "i2", {}), ("i4v", "i4", {}), ("i8v", "i8", {}),
               ("scaled", "i4", {"scales": [0.01], "offsets": [100.0]}),
               ("f4v", "f4", {"no_data": [-9999.5]}), ("f8v", "f8", {}),
               ("pair", "2f8", {}), ("triple", "3u2", {"no_data": [1, 2, 3]})]
# Bytes the spec says must be zero, set here to see them pass through: the
# descriptor's "unused" field and the deprecated tails of min and max.
UNUSUAL_BYTES = {36: b"\x01\x02\x03\x04", 72: b"\x05" * 16, 96: b"\x06" * 16}


def write_typed_extra(path, n: int = 4_000, seed: int = 0, shift: int = 0) -> Path:
    """A LAS 1.4 format-6 file with an extra dimension of every kind
    (TYPED_EXTRA): unsigned and signed 8 to 64 bits with values reaching both
    ends of the 64-bit types, a scaled one, floats with NaNs, no_data values
    the points hold, and the deprecated array types 20 (2 doubles) and 23
    (3 uint16).  ``shift`` (small, nonzero) puts the integers in the middle
    half of their type moved by ``shift`` and the floats around ``shift``:
    another range, for a merge.
    Scalar descriptors get the UNUSUAL_BYTES."""
    rng = np.random.default_rng(seed)
    header = laspy.LasHeader(point_format=6, version="1.4")
    header.scales = np.array([0.01] * 3)
    header.offsets = np.array([500_000.0, 4_000_000.0, 0.0])
    header.add_extra_dims([laspy.ExtraBytesParams(name, t, **params) for name, t, params in TYPED_EXTRA])
    import pyproj

    header.add_crs(pyproj.CRS.from_epsg(32631))
    las = laspy.LasData(header)
    las.return_number = np.ones(n, np.uint8)
    las.number_of_returns = np.ones(n, np.uint8)
    las.x = 500_000.0 + rng.uniform(0, 300, n)
    las.y = 4_000_000.0 + rng.uniform(0, 300, n)
    las.z = rng.uniform(0, 30, n)
    las.gps_time = rng.uniform(3e8, 3e8 + 100, n)
    for name, t, _ in TYPED_EXTRA:
        dt = np.dtype(t)
        shape = (n,) + dt.shape
        if dt.base.kind == "f":
            values = rng.normal(shift, 1000, shape).astype(dt.base)
            values[rng.random(shape) < 0.1] = np.nan
        else:
            info = np.iinfo(dt.base)
            mid, span = (int(info.min) + int(info.max)) // 2, (int(info.max) - int(info.min)) // 4
            lo, hi = (info.min, info.max) if shift == 0 else (mid - span + shift, mid + span + shift)
            values = rng.integers(lo, hi, shape, dtype=dt.base, endpoint=True)
        if dt.base.kind != "f" and shift == 0 and dt.base.itemsize == 8:
            values[:2] = [np.iinfo(dt.base).min, np.iinfo(dt.base).max]    # both ends of the 64-bit type
        las.points.array[name] = values
    las.points.array["u2v"][:5] = 0                   # its no_data: no part of the range
    las.points.array["f4v"][5:10] = -9999.5
    las.points.array["triple"][10:12] = [1, 2, 3]
    las.write(str(path))
    data = bytearray(Path(path).read_bytes())
    eb = data.find(b"LASF_Spec\0\0\0\0\0\0\0\x04\x00") - 2 + 54    # the VLR header starts 2 bytes before its user id
    for k, (_, t, _) in enumerate(TYPED_EXTRA):
        if np.dtype(t).shape == ():
            for at, raw in UNUSUAL_BYTES.items():
                data[eb + 192 * k + at:eb + 192 * k + at + len(raw)] = raw
    Path(path).write_bytes(bytes(data))
    return Path(path)


def split_extra_bytes_vlr(path) -> Path:
    """Rewrite an uncompressed LAS file so that its one Extra Bytes VLR
    becomes one VLR per descriptor, in the same order (as PDAL writes them);
    the header's VLR count and point data offset follow, the points do not
    move in any other way."""
    data = Path(path).read_bytes()
    header_size, data_offset, count = struct.unpack_from("<HII", data, 94)
    vlrs, at = [], header_size
    for _ in range(count):
        user, record, length = data[at + 2:at + 18], *struct.unpack_from("<HH", data, at + 18)
        body = data[at + 54:at + 54 + length]
        if user.rstrip(b"\0") == b"LASF_Spec" and record == 4:
            vlrs += [data[at:at + 20] + struct.pack("<H", 192) + data[at + 22:at + 54] + body[i:i + 192]
                     for i in range(0, length, 192)]
        else:
            vlrs.append(data[at:at + 54 + length])
        at += 54 + length
    head = bytearray(data[:header_size])
    grown = sum(map(len, vlrs)) - (at - header_size)
    struct.pack_into("<II", head, 96, data_offset + grown, len(vlrs))
    if header_size >= 375 and struct.unpack_from("<Q", head, 235)[0]:
        struct.pack_into("<Q", head, 235, struct.unpack_from("<Q", head, 235)[0] + grown)
    Path(path).write_bytes(bytes(head) + b"".join(vlrs) + data[at:])
    return Path(path)

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

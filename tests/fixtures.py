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


def patch(path, offset: int, fmt: str, *values) -> Path:
    """Overwrite bytes of a file in place: ``values`` packed little-endian as
    ``fmt`` (struct format) at ``offset``."""
    path = Path(path)
    data = bytearray(path.read_bytes())
    struct.pack_into("<" + fmt, data, offset, *values)
    path.write_bytes(bytes(data))
    return path

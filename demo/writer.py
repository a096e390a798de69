"""The LAS/LAZ file: ``write_sample_scene``, its fixed header, and the
point records made from the survey's blocks.
"""

from __future__ import annotations

import os
import pathlib
import uuid
from typing import Dict

import numpy as np

from ..algorithms.common.errors import OptionError, OutputError
from .constants import (
    _GUID_NAMESPACE,
    CREATION_DATE,
    EPSG,
    GENERATING_SOFTWARE,
    MIN_POINTS,
    ORIGIN,
    SCALE,
    SYSTEM_IDENTIFIER,
)
from .flight import _plan_flight
from .survey import _acquire, _calibrate_pulse_area
from .terrain import _build_scene


def write_sample_scene(path, points: int = 1_000_000, seed: int = 0) -> pathlib.Path:
    """Write the synthetic survey to ``path`` and return it as a Path.

    ``points`` (at least MIN_POINTS) is a target: the file holds within
    about 1 % of it from 10 000 points up (the header says exactly how
    many).  The same ``seed`` gives the same bytes; another seed gives
    another village, forest and lake.  A ``.las`` suffix
    writes uncompressed LAS, anything else LAZ.  The file appears only
    complete: it is written beside ``path`` under a temporary name first.
    """
    import laspy

    path = pathlib.Path(path)
    if isinstance(points, bool) or int(points) != points or points < MIN_POINTS:
        raise OptionError(f"sample scene: points must be a whole number >= {MIN_POINTS}, got {points!r}")
    if isinstance(seed, bool) or int(seed) != seed or seed < 0:
        raise OptionError(f"sample scene: seed must be a whole number >= 0, got {seed!r}")
    points, seed = int(points), int(seed)

    scene = _build_scene(seed)
    plan = _plan_flight(scene, _calibrate_pulse_area(scene, points, seed))
    header = _header(seed)
    compress = path.suffix.lower() != ".las"
    backends = (laspy.LazBackend.LazrsParallel, laspy.LazBackend.Lazrs)

    tmp = path.with_name(path.name + ".part")
    try:
        with open(tmp, "wb") as stream:
            writer = laspy.LasWriter(
                stream,
                header,
                do_compress=compress,
                laz_backend=backends if compress else None,
                closefd=False,
            )
            with writer:
                for chunk in _acquire(scene, plan, seed, stream_id=0):
                    writer.write_points(_point_record(chunk, header))
        os.replace(tmp, path)
    except OSError as error:
        tmp.unlink(missing_ok=True)
        raise OutputError(str(path), f"cannot write the sample scene: {error.strerror or error}") from error
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path



def _header(seed: int):
    import laspy
    import pyproj
    from laspy.header import GpsTimeType

    header = laspy.LasHeader(point_format=7, version="1.4")
    header.offsets = np.array([ORIGIN[0], ORIGIN[1], 0.0])
    header.scales = np.array([SCALE, SCALE, SCALE])
    header.add_crs(pyproj.CRS.from_epsg(EPSG))
    header.global_encoding.gps_time_type = GpsTimeType.STANDARD
    header.system_identifier = SYSTEM_IDENTIFIER
    header.generating_software = GENERATING_SOFTWARE
    header.creation_date = CREATION_DATE
    header.uuid = uuid.uuid5(_GUID_NAMESPACE, f"sample-scene-{seed}")
    header.file_source_id = 0
    return header



def _point_record(chunk: Dict[str, np.ndarray], header):
    import laspy

    rec = laspy.ScaleAwarePointRecord.zeros(chunk["x"].size, header=header)
    # Offsets are the local origin and 0, so the integers are local cm.
    rec["X"] = np.round(chunk["x"] / SCALE).astype(np.int32)
    rec["Y"] = np.round(chunk["y"] / SCALE).astype(np.int32)
    rec["Z"] = np.round(chunk["z"] / SCALE).astype(np.int32)
    for name in (
        "intensity",
        "return_number",
        "number_of_returns",
        "scan_direction_flag",
        "edge_of_flight_line",
        "overlap",
        "classification",
        "scan_angle",
        "point_source_id",
        "gps_time",
        "red",
        "green",
        "blue",
    ):
        rec[name] = chunk[name]
    return rec

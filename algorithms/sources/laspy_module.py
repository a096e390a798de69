"""laspy, loaded without the optional packages it needs only for what we do not ask of it.

``import laspy`` imports two optional packages at module level when they are
installed: pyproj (``laspy.vlrs.geotiff``, for a type annotation; every laspy
function that uses pyproj imports it itself) and requests (``laspy.copc``,
for laspy's own HTTP reader).  With Debian's Python, ``python -X importtime``
puts them at 0.11 s and 0.06 s of a cold build's start, on one core; without
them the build's scan ends 0.08-0.09 s sooner (benchmarks/results/floor_gap.md,
fifth round), for a build that reads a local file whose CRS, if any, is WKT1.
Our remote files go through ``algorithms.storage``, never laspy's reader.
"""
from __future__ import annotations

import sys

from ..kernels.numba_target import hidden_modules

# What laspy may load without: laspy's HTTP reader then says requests is missing.
OPTIONAL_FOR_LASPY = ("pyproj", "requests")


def load_laspy(alone: bool = False) -> None:
    """Import laspy now.  ``alone``: the process is all ours (the command
    line; not a host such as QGIS, where other plugins may use laspy's HTTP
    reader), so laspy loads without OPTIONAL_FOR_LASPY (hidden_modules:
    laspy catches the ModuleNotFoundError)."""
    if "laspy" in sys.modules:
        return
    with hidden_modules(OPTIONAL_FOR_LASPY if alone else ()):
        import laspy  # noqa: F401

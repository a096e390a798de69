"""CRS helpers (pyproj imported lazily)."""
from __future__ import annotations

from .errors import OptionError


def crs_to_wkt(user_input: str) -> str:
    """'EPSG:2056', a WKT string or anything pyproj understands -> WKT."""
    try:
        import pyproj
    except ImportError:
        raise OptionError("assigning a CRS needs the pyproj package (pip install pyproj)") from None
    try:
        crs = pyproj.CRS.from_user_input(user_input)
    except Exception as exc:
        raise OptionError(f"cannot read {user_input!r} as a CRS ({exc})") from None
    text = wkt_of(crs)
    if not text:
        raise OptionError(f"cannot write {user_input!r} as WKT")
    return text


def wkt_of(crs) -> str:
    """WKT1 (what most LAS readers expect) when it can express the CRS, else WKT2."""
    from pyproj.enums import WktVersion

    for version in (WktVersion.WKT1_GDAL, WktVersion.WKT2_2019):
        try:
            text = crs.to_wkt(version)
        except Exception:
            text = None
        if text:
            return text
    return ""


def same_crs(wkt_a: str, wkt_b: str) -> bool:
    if wkt_a == wkt_b:
        return True
    try:
        import pyproj

        a = pyproj.CRS.from_wkt(wkt_a)
        b = pyproj.CRS.from_wkt(wkt_b)
        return a.equals(b, ignore_axis_order=True)
    except Exception:
        return False

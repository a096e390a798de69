"""CRS helpers (pyproj imported lazily)."""
from __future__ import annotations

from typing import Optional, Tuple

from ..common.errors import OptionError


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
    return _to_wkt(crs, ("WKT1_GDAL", "WKT2_2019"))


# WKT1 that is neither compound (COMPD_CS) nor geocentric (GEOCCS): written as it is.
WKT1_KEPT = ("PROJCS[", "GEOGCS[", "VERT_CS[", "LOCAL_CS[")


def writable_wkt(text: str) -> Tuple[str, Optional[str]]:
    """(WKT to write, name of a vertical CRS left out, or None).

    proj4js-based readers (copc.js, copc-validator, web viewers) parse WKT1
    projected and geographic CRSs, but neither WKT1 nor WKT2 compound CRSs
    and no WKT1 geocentric one.  So: a compound CRS is written as its
    horizontal part (the vertical one is named, for a warning); a geocentric
    one as WKT2 (2019); any other CRS as WKT1 (GDAL's flavour): an input's
    WKT1 text verbatim, a WKT2 one converted.  Text pyproj cannot read is
    kept as it is.
    """
    head = text.lstrip().upper()
    if head.startswith("COMPD_CS["):
        return _compd_cs_parts(text.strip())
    if head.startswith(WKT1_KEPT):   # verbatim, so pyproj is not loaded for it
        return text, None
    try:
        import pyproj

        crs = pyproj.CRS.from_wkt(text)
    except Exception:
        return text, None
    dropped = None
    if crs.is_compound and crs.sub_crs_list:
        dropped = ", ".join(sub.name for sub in crs.sub_crs_list[1:]) or None
        crs, text = crs.sub_crs_list[0], ""
    if crs.is_geocentric:
        return _to_wkt(crs, ("WKT2_2019",)) or text, dropped
    return _to_wkt(crs, ("WKT1_GDAL", "WKT2_2019")) or text, dropped


def _compd_cs_parts(text: str) -> Tuple[str, Optional[str]]:
    """A WKT1 COMPD_CS["name", HORIZONTAL[...], VERT_CS["vname", ...]] -> (HORIZONTAL[...] verbatim, vname)."""
    children, depth, start, quoted = [], 0, None, False
    for i, ch in enumerate(text):
        if ch == '"':
            quoted = not quoted
        elif quoted:
            continue
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth == 1 and start is not None:
                children.append(text[start:i + 1])
                start = None
        elif depth == 1 and ch not in ", " and start is None and text[i - 1] in ",[ ":
            start = i
    nodes = [c for c in children if "[" in c]
    if len(nodes) < 2:
        return text, None
    vertical = nodes[1]
    name = vertical.split('"')[1] if vertical.count('"') >= 2 else vertical.split("[", 1)[0]
    return nodes[0], name


def _to_wkt(crs, versions) -> str:
    from pyproj.enums import WktVersion

    for version in versions:
        try:
            text = crs.to_wkt(getattr(WktVersion, version))
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

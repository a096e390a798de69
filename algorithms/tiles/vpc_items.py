"""The STAC items of a tiled build's .vpc: each tile's count, native bounds,
WGS 84 footprint (pyproj), CRS, dimensions and overview.

vpc-spec.md: "The format requires that boundaries of referenced files are
defined in WGS 84 (since GeoJSON requires that) ... the "projection" STAC
extension allows that the bounding box or boundary geometry can be specified
in native coordinate reference system - this is strongly recommended", and
"It is also strongly recommended to provide bounding box in 3D".
"""
from __future__ import annotations

import datetime
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..common.errors import OptionError
from ..format.vpc_record import VpcItem
from ..points.point_layout import PointLayout
from ..writer.output_header import HeaderTemplate

EDGE_POINTS = 4          # points between corners along each edge of a footprint
DEGREE_DECIMALS = 9      # about 0.1 mm

# PDAL's dimension names and types for LAS 1.4 point formats 6-8 (pc:schemas).
_CORE = [("X", 8, "floating"), ("Y", 8, "floating"), ("Z", 8, "floating"), ("Intensity", 2, "unsigned"),
         ("ReturnNumber", 1, "unsigned"), ("NumberOfReturns", 1, "unsigned"), ("ScanChannel", 1, "unsigned"),
         ("ScanDirectionFlag", 1, "unsigned"), ("EdgeOfFlightLine", 1, "unsigned"),
         ("Classification", 1, "unsigned"), ("Synthetic", 1, "unsigned"), ("KeyPoint", 1, "unsigned"),
         ("Withheld", 1, "unsigned"), ("Overlap", 1, "unsigned"), ("ScanAngleRank", 4, "floating"),
         ("UserData", 1, "unsigned"), ("PointSourceId", 2, "unsigned"), ("GpsTime", 8, "floating")]
_RGB = [("Red", 2, "unsigned"), ("Green", 2, "unsigned"), ("Blue", 2, "unsigned")]
_KINDS = {"u": "unsigned", "i": "signed", "f": "floating"}


def pc_schemas(layout: PointLayout) -> List[Dict[str, Any]]:
    """The dimensions of the output records, as PDAL names them."""
    dims = list(_CORE) + (_RGB if layout.has_rgb else []) + ([("Infrared", 2, "unsigned")] if layout.has_nir else [])
    for extra in layout.extra:
        dtype = np.dtype(extra.dtype)
        base = dtype.base if dtype.subdtype else dtype
        dims.append((extra.name, extra.size, _KINDS.get(base.kind, "unsigned")))
    return [{"name": n, "size": s, "type": t} for n, s, t in dims]


class Footprints:
    """Native rectangles to WGS 84 polygons, with one pyproj transformer."""

    def __init__(self, wkt: str):
        import pyproj

        try:
            crs = pyproj.CRS.from_wkt(wkt)
        except Exception as exc:   # pyproj.exceptions.CRSError
            raise OptionError(f"cannot read the output CRS to place the tiles in WGS 84 ({exc})") from None
        self.wkt2 = crs.to_wkt("WKT2_2019")
        self.epsg = crs.to_epsg(min_confidence=100)
        self.transformer = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)

    def polygon(self, x0: float, y0: float, x1: float, y1: float) -> List[List[float]]:
        """The rectangle's outline in WGS 84 (lon, lat), corners and EDGE_POINTS points between
        them, counter-clockwise (GeoJSON's right-hand rule), closed."""
        t = np.linspace(0.0, 1.0, EDGE_POINTS + 2)[:-1]
        xs = np.concatenate([x0 + (x1 - x0) * t, np.full_like(t, x1), x1 - (x1 - x0) * t, np.full_like(t, x0)])
        ys = np.concatenate([np.full_like(t, y0), y0 + (y1 - y0) * t, np.full_like(t, y1), y1 - (y1 - y0) * t])
        lon, lat = self.transformer.transform(xs, ys)
        if not (np.all(np.isfinite(lon)) and np.all(np.isfinite(lat))):
            raise OptionError(f"the tile ({x0}, {y0}) - ({x1}, {y1}) cannot be placed in WGS 84")
        ring = [[round(float(a), DEGREE_DECIMALS), round(float(b), DEGREE_DECIMALS)] for a, b in zip(lon, lat)]
        return ring + [ring[0]]


def creation_datetime(header: HeaderTemplate) -> str:
    """The files' creation date as their headers give it (no date: 1970-01-01), as RFC 3339."""
    day, year = header.creation
    date = datetime.date(1970, 1, 1) if not year else datetime.date(year, 1, 1) + datetime.timedelta(days=max(day, 1) - 1)
    return f"{date.isoformat()}T00:00:00Z"


def real_bounds(header: HeaderTemplate, imin, imax) -> Tuple[List[float], List[float]]:
    lo = [float(i) * s + o for i, s, o in zip(imin, header.scales, header.offsets)]
    hi = [float(i) * s + o for i, s, o in zip(imax, header.scales, header.offsets)]
    return lo, hi


def make_item(name: str, href: str, count: int, imin, imax, header: HeaderTemplate, footprints: Footprints,
              overview_hrefs: Sequence[str], schemas, statistics: Optional[list] = None) -> VpcItem:
    lo, hi = real_bounds(header, imin, imax)
    ring = footprints.polygon(lo[0], lo[1], hi[0], hi[1])
    lons = [p[0] for p in ring]
    lats = [p[1] for p in ring]
    return VpcItem(id=name, data_href=href, count=count, native_bbox=lo + hi, footprint=ring,
                   wgs84_bbox=[min(lons), min(lats), lo[2], max(lons), max(lats), hi[2]],
                   wkt2=footprints.wkt2, epsg=footprints.epsg, schemas=schemas,
                   datetime=creation_datetime(header), overview_hrefs=list(overview_hrefs),
                   statistics=list(statistics or []))

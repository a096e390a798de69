"""The virtual point cloud (.vpc) record: a STAC ItemCollection, one Item per
member file, as PDAL wrench's ``vpc-spec.md`` defines it and QGIS's ``vpc``
provider reads it.

vpc-spec.md: "We are using STAC API ItemCollection as the file format and
expecting these STAC extensions: pointcloud, projection."  "An
ItemCollection is essentially a single JSON file representing a GeoJSON
FeatureCollection containing STAC Items."

What QGIS 3.40 requires of each item (src/core/providers/vpc/
qgsvirtualpointcloudprovider.cpp, parseFile): ``type`` "Feature",
``stac_version`` exactly "1.0.0", objects ``assets``, ``properties`` and
``geometry``; the first asset with an ``href`` is the data (QGIS 3.42 and
later read the asset named "data"), and an href starting with "./" is
resolved against the .vpc's folder; ``pc:count``; the CRS from
``proj:epsg`` (read as an integer) or else ``proj:wkt2``; the extent from
``proj:bbox`` (4 or 6 numbers); the footprint ``geometry``, a Polygon or
MultiPolygon in WGS 84, transformed to the layer's CRS (the layer's extent is
the footprints' bounding box); attribute names from ``pc:schemas``.

Pure data: ``VpcItem.to_json`` / ``from_json`` and the collection's bytes;
footprints in WGS 84 are computed by the caller (tiles/vpc_items.py).
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence
from urllib.parse import urljoin

STAC_VERSION = "1.0.0"
POINTCLOUD_EXTENSION = "https://stac-extensions.github.io/pointcloud/v1.0.0/schema.json"
PROJECTION_EXTENSION = "https://stac-extensions.github.io/projection/v1.1.0/schema.json"
COPC_MEDIA_TYPE = "application/vnd.laszip+copc"
DATA_ASSET = "data"
OVERVIEW_ASSET = "overview"
_URL_SCHEME = re.compile(r"^(s3|https?)://", re.IGNORECASE)


@dataclass
class VpcItem:
    id: str
    data_href: str
    count: int
    native_bbox: List[float]            # proj:bbox: [minx, miny, minz, maxx, maxy, maxz], the CRS's units
    footprint: List[List[float]]        # closed ring of [lon, lat] in WGS 84
    wgs84_bbox: List[float]             # [minlon, minlat, minz, maxlon, maxlat, maxz]
    wkt2: Optional[str] = None
    epsg: Optional[int] = None
    schemas: List[Dict[str, Any]] = field(default_factory=list)
    datetime: Optional[str] = None
    overview_hrefs: List[str] = field(default_factory=list)
    statistics: List[Dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> Dict[str, Any]:
        x0, y0, _, x1, y1, _ = self.native_bbox
        properties: Dict[str, Any] = {
            # STAC Item: "datetime ... REQUIRED", null only beside start/end_datetime.
            "datetime": self.datetime,
            # pointcloud extension: "pc:count ... REQUIRED. The number of points in the Item."
            "pc:count": int(self.count),
            # "pc:type ... REQUIRED. Phenomenology type for the point cloud."
            "pc:type": "lidar",
            # "pc:encoding ... REQUIRED. Content encoding or format of the data."
            "pc:encoding": COPC_MEDIA_TYPE,
            # "pc:schemas ... REQUIRED. A sequential array of items that define the dimensions
            #  and their types."
            "pc:schemas": self.schemas,
        }
        if self.statistics:
            properties["pc:statistics"] = self.statistics
        # projection extension: EPSG code when the CRS has one (QGIS reads it first, as an
        # integer: never written null), and WKT2 always.
        if self.epsg is not None:
            properties["proj:epsg"] = int(self.epsg)
        if self.wkt2:
            properties["proj:wkt2"] = self.wkt2
        properties["proj:bbox"] = list(self.native_bbox)
        properties["proj:geometry"] = {"type": "Polygon",
                                       "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}
        # Assets: the data first (QGIS 3.40 takes the first asset with an href), then the
        # overview with role "overview" (vpc-spec.md: "it is expected that they have
        # `overview` role defined"; QGIS 3.42+ reads the asset named "overview").
        assets: Dict[str, Any] = {DATA_ASSET: {"href": self.data_href, "type": COPC_MEDIA_TYPE, "roles": ["data"]}}
        for i, href in enumerate(self.overview_hrefs):
            name = OVERVIEW_ASSET if i == 0 else f"{OVERVIEW_ASSET}-{i + 1}"
            assets[name] = {"href": href, "type": COPC_MEDIA_TYPE, "roles": ["overview"]}
        return {
            "type": "Feature",
            "stac_version": STAC_VERSION,
            "stac_extensions": [POINTCLOUD_EXTENSION, PROJECTION_EXTENSION],
            "id": self.id,
            "geometry": {"type": "Polygon", "coordinates": [self.footprint]},
            "bbox": list(self.wgs84_bbox),
            "properties": properties,
            "links": [],
            "assets": assets,
        }

    @classmethod
    def from_json(cls, item: Dict[str, Any]) -> "VpcItem":
        """An item as this module reads it back; ValueError names what is missing."""
        if not isinstance(item, dict) or item.get("type") != "Feature":
            raise ValueError("an item is not a GeoJSON Feature")
        name = str(item.get("id", "?"))
        props = item.get("properties")
        assets = item.get("assets")
        if not isinstance(props, dict) or not isinstance(assets, dict):
            raise ValueError(f"item {name} has no properties or assets")
        data = assets.get(DATA_ASSET) or next((a for a in assets.values() if isinstance(a, dict) and "href" in a),
                                              None)
        if not isinstance(data, dict) or not isinstance(data.get("href"), str):
            raise ValueError(f"item {name} has no data asset with an href")
        overviews = [a["href"] for k, a in assets.items() if isinstance(a, dict) and a is not data
                     and "overview" in (a.get("roles") or []) and isinstance(a.get("href"), str)]
        geometry = item.get("geometry") or {}
        ring = (geometry.get("coordinates") or [[]])[0] if geometry.get("type") == "Polygon" else []
        return cls(id=name, data_href=data["href"], count=int(props.get("pc:count", -1)),
                   native_bbox=list(props.get("proj:bbox") or []), footprint=ring,
                   wgs84_bbox=list(item.get("bbox") or []), wkt2=props.get("proj:wkt2"),
                   epsg=props.get("proj:epsg"), schemas=list(props.get("pc:schemas") or []),
                   datetime=props.get("datetime"), overview_hrefs=overviews,
                   statistics=list(props.get("pc:statistics") or []))


def collection_bytes(items: Sequence[VpcItem]) -> bytes:
    """The .vpc file: a FeatureCollection of the items, as JSON text."""
    doc = {"type": "FeatureCollection", "features": [item.to_json() for item in items]}
    return (json.dumps(doc, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def parse_collection(text: bytes) -> List[VpcItem]:
    """The items of a .vpc file's bytes; ValueError says what is wrong."""
    try:
        doc = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"is not JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise ValueError("is not a virtual point cloud (a GeoJSON FeatureCollection of STAC items)")
    if not doc["features"]:
        raise ValueError("lists no point cloud files (its FeatureCollection has no features)")
    return [VpcItem.from_json(f) for f in doc["features"]]


def resolve_href(vpc_path: str, href: str) -> str:
    """A member's path: relative hrefs ("./x.copc.laz", "x.copc.laz") are relative to the .vpc's folder,
    or, for a .vpc at an s3:// or http(s):// URL, to its URL (RFC 3986, as PDAL's readers.stac resolves
    them: "../", a root-relative "/x.laz", the .vpc's query not carried over)."""
    if "://" in href:
        return href
    remote = _URL_SCHEME.match(str(vpc_path))
    if remote:
        scheme = remote.group(1)
        # urljoin resolves only the schemes it knows; an s3:// URL joins as an http one would.
        joined = urljoin("http" + str(vpc_path)[len(scheme):] if scheme.lower() == "s3" else str(vpc_path), href)
        return scheme + joined[len("http"):] if scheme.lower() == "s3" else joined
    if href.startswith("file:"):
        href = href[len("file:"):]
    if os.path.isabs(href):
        return href
    return os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(vpc_path)), href))


def relative_href(vpc_path: str, member: str) -> str:
    """The href of a member as the .vpc writes it: "./" and the path relative to the .vpc's folder
    (QGIS resolves only hrefs that start with "./")."""
    rel = os.path.relpath(os.path.abspath(member), os.path.dirname(os.path.abspath(vpc_path)))
    return "./" + rel.replace(os.sep, "/")

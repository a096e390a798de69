"""What a virtual point cloud (.vpc) lists: its files, their points, bounds
and CRS, and its overviews, as the .vpc states them (no member is opened;
``validate`` checks them against the files)."""
from __future__ import annotations

import os
from typing import Any, Dict, List

from ..common.errors import InputError
from ..format.vpc_record import parse_collection, resolve_href


def vpc_info(path) -> Dict[str, Any]:
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            items = parse_collection(f.read())
    except OSError as exc:
        raise InputError(path, f"cannot read it ({exc.strerror})") from None
    except ValueError as exc:
        raise InputError(path, str(exc)) from None
    boxes = [i.native_bbox for i in items if len(i.native_bbox) == 6]
    members: List[Dict[str, Any]] = []
    for item in items:
        member = resolve_href(path, item.data_href)
        members.append({"id": item.id, "href": item.data_href, "path": member, "exists": os.path.isfile(member),
                        "points": item.count, "bbox": item.native_bbox, "overviews": item.overview_hrefs})
    overviews = sorted({h for i in items for h in i.overview_hrefs})
    first = items[0]
    return {
        "path": path, "is_vpc": True, "file_size": os.path.getsize(path),
        "members": members, "point_count": sum(max(i.count, 0) for i in items),
        "bounds": {"min": [min(b[a] for b in boxes) for a in range(3)] if boxes else None,
                   "max": [max(b[a + 3] for b in boxes) for a in range(3)] if boxes else None},
        "crs": {"epsg": first.epsg, "wkt2": first.wkt2,
                "same_for_all": len({(i.epsg, i.wkt2) for i in items}) == 1},
        "overviews": [{"href": h, "path": resolve_href(path, h), "exists": os.path.isfile(resolve_href(path, h))}
                      for h in overviews],
    }


def format_vpc_info(info: Dict[str, Any]) -> str:
    missing = [m for m in info["members"] if not m["exists"]]
    bounds = info["bounds"]
    crs = info["crs"]
    lines = [
        f"File        {info['path']} ({info['file_size']:,} bytes)",
        f"Format      virtual point cloud (STAC ItemCollection) of {len(info['members']):,} files"
        + (f", {len(missing)} missing" if missing else ""),
        f"Points      {info['point_count']:,}",
        f"Bounds      min {bounds['min']}  max {bounds['max']}" if bounds["min"] else "Bounds      not stated",
        "CRS         " + (f"EPSG:{crs['epsg']}" if crs["epsg"] else (crs["wkt2"] or "none").split("[")[0])
        + ("" if crs["same_for_all"] else " (the items differ)"),
        "Overviews   " + (", ".join(o["href"] + ("" if o["exists"] else " (missing)") for o in info["overviews"])
                          or "none"),
        "Files",
    ]
    for m in info["members"]:
        lines.append(f"  {m['href']}  {m['points']:,} points" + ("" if m["exists"] else "  (missing)"))
    return "\n".join(lines)

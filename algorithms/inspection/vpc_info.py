"""What a virtual point cloud (.vpc) lists: its files, their points, bounds
and CRS, and its overviews, as the .vpc states them (no member is opened;
``validate`` checks them against the files).  A .vpc at an s3:// or
http(s):// URL is read through the storage layer, and whether its members
are there is asked of the server (a HEAD each)."""
from __future__ import annotations

import os
from typing import Any, Dict, List

from ..format.vpc_record import resolve_href
from ..sources.input_paths import read_vpc
from ..storage.urls import is_url, shown_name


def vpc_info(path, storage=None) -> Dict[str, Any]:
    path = os.fspath(path)
    remote = is_url(path)
    if remote:
        from ..storage.transfers import TRANSFERS

        before = TRANSFERS.snapshot()
    items, size = read_vpc(path, storage)
    boxes = [i.native_bbox for i in items if len(i.native_bbox) == 6]
    overviews = sorted({h for i in items for h in i.overview_hrefs})
    found = _found([resolve_href(path, i.data_href) for i in items] + [resolve_href(path, h) for h in overviews],
                   storage)
    members: List[Dict[str, Any]] = []
    for item in items:
        member = resolve_href(path, item.data_href)
        members.append({"id": item.id, "href": item.data_href, "path": shown_name(member), "exists": found[member],
                        "points": item.count, "bbox": item.native_bbox, "overviews": item.overview_hrefs})
    first = items[0]
    info = {
        "path": shown_name(path), "is_vpc": True, "file_size": size,
        "members": members, "point_count": sum(max(i.count, 0) for i in items),
        "bounds": {"min": [min(b[a] for b in boxes) for a in range(3)] if boxes else None,
                   "max": [max(b[a + 3] for b in boxes) for a in range(3)] if boxes else None},
        "crs": {"epsg": first.epsg, "wkt2": first.wkt2,
                "same_for_all": len({(i.epsg, i.wkt2) for i in items}) == 1},
        "overviews": [{"href": h, "path": shown_name(resolve_href(path, h)), "exists": found[resolve_href(path, h)]}
                      for h in overviews],
    }
    if remote:
        after = TRANSFERS.snapshot()
        info["transfer"] = {"bytes_read": after.bytes_read - before.bytes_read,
                            "requests": after.requests - before.requests}
    return info


def _found(paths: List[str], storage) -> Dict[str, bool]:
    """Which members are there: files looked for, URLs asked of their server."""
    urls = [p for p in paths if is_url(p)]
    found = {p: os.path.isfile(p) for p in paths if not is_url(p)}
    if urls:
        from ..storage.remote import objects_exist
        from ..storage.storage_options import storage_options

        found.update(objects_exist(urls, storage_options(storage)))
    return found


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
    ]
    transfer = info.get("transfer")
    if transfer:
        lines.append(f"Read        {transfer['bytes_read']:,} bytes in {transfer['requests']:,} requests "
                     f"(the .vpc, and a HEAD of each file it lists)")
    lines.append("Files")
    for m in info["members"]:
        lines.append(f"  {m['href']}  {m['points']:,} points" + ("" if m["exists"] else "  (missing)"))
    return "\n".join(lines)

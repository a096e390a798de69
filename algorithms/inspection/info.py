"""What a COPC (or plain LAS/LAZ) file holds, for people and scripts.

    info = copc_info("out.copc.laz")     # plain dict, JSON-serialisable
    print(format_info(info))

Reads headers and records only (never the points), so it is instant on any
size of file.  On a plain LAS/LAZ file it reports the header and CRS part
and says "not a COPC file".  Parts that cannot be read are listed under
"problems" rather than raised: use ``validate_copc`` to judge a file.
"""
from __future__ import annotations

from typing import Any, Dict, List, Tuple

from ..common.errors import CopcBuilderError
from ..copc_file import CopcFile, HierarchyCounts, PageProblem, walk_pages
from ..format import (CopcInfo, GEOTIFF_RECORD, HIERARCHY_ENTRY_SIZE, HierarchyEntry, LAZ_RECORD, LAZ_USER,
                      LazVlr, OFFSET_BIT, PROJECTION_USER, SCALE_BIT)
from ..format import TEMPORAL_RECORD, TEMPORAL_USER, TemporalHeader, TemporalNodeEntry, walk_temporal_pages
from ..storage.urls import path_of
from .vpc_info import format_vpc_info, vpc_info



def copc_info(path, storage=None) -> Dict[str, Any]:
    """A dict describing the file (a path, or an s3:// or http(s):// URL read
    by ranges, with ``storage`` options); raises ``InputError`` only if it is
    not LAS at all.  A virtual point cloud (.vpc) is described by what it
    lists (vpc_info.py)."""
    if path_of(path).lower().endswith(".vpc"):
        return vpc_info(path, storage)
    with CopcFile(path, storage) as f:
        h = f.header
        info: Dict[str, Any] = {
            "path": f.path,
            "file_size": f.size,
            "is_copc": False,
            "las_version": h.version,
            "point_format": h.point_format,
            "compressed": h.compressed,
            "point_record_length": h.point_record_length,
            "point_count": h.point_count,
            "points_by_return": list(h.points_by_return if h.version_minor >= 4
                                     else h.legacy_points_by_return),
            "scale": list(h.scale),
            "offset": list(h.offset),
            "bounds": {"min": list(h.mins), "max": list(h.maxs)},
            "global_encoding": h.global_encoding,
            "file_source_id": h.file_source_id,
            "system_identifier": h.system_identifier,
            "generating_software": h.generating_software,
            "creation": {"day": h.creation_day, "year": h.creation_year},
            "vlrs": [],
            "evlrs": [],
            "crs": {"wkt": None, "name": None, "epsg": None, "error": None, "geotiff": False},
            "extra_dims": [],
            "laz": None,
            "copc": None,
            "problems": [],
        }
        # Each part reads what it shows; a part that cannot be read is a
        # problem, and without the (E)VLRs nothing else can be read.
        for add in (_add_vlrs, _add_crs, _add_extra_dims, _add_laz, _add_copc, _add_temporal_index):
            try:
                add(f, info)
            except CopcBuilderError as exc:
                info["problems"].append(exc.problem)
                if add is _add_vlrs:
                    break
        if f.transfers is not None:   # a remote file: what reading it took
            count = f.transfers.snapshot()
            info["transfer"] = {"bytes_read": count.bytes_read, "requests": count.requests}
        return info


def _add_vlrs(f: CopcFile, info: Dict[str, Any]) -> None:
    info["vlrs"] = [_vlr_dict(v) for v in f.vlrs]
    info["evlrs"] = [_vlr_dict(v) for v in f.evlrs]


def _vlr_dict(v) -> Dict[str, Any]:
    return {"user_id": v.user_id, "record_id": v.record_id, "description": v.description,
            "offset": v.header_offset, "size": v.data_size}


def _add_crs(f: CopcFile, info: Dict[str, Any]) -> None:
    crs = info["crs"]
    crs["geotiff"] = bool(f.find(PROJECTION_USER, GEOTIFF_RECORD))
    wkt = crs["wkt"] = f.read_wkt()
    if wkt:
        parsed = _parse_crs(lambda pyproj: pyproj.CRS.from_wkt(wkt), crs)
    elif crs["geotiff"]:
        # GeoTIFF keys are laspy's job; it turns them into a pyproj CRS.
        def from_geotiff(_pyproj):
            import laspy

            with laspy.open(f.raw_file(), closefd=False) as reader:
                return reader.header.parse_crs()

        parsed = _parse_crs(from_geotiff, crs)
    else:
        return
    if parsed is not None:
        crs["name"] = parsed.name
        try:
            crs["epsg"] = parsed.to_epsg()
        except Exception:  # to_epsg only guesses; a failure means "unknown"
            crs["epsg"] = None


def _parse_crs(make, crs: Dict[str, Any]):
    try:
        import pyproj
    except ImportError:
        crs["error"] = "pyproj is not installed"
        return None
    try:
        parsed = make(pyproj)
    except Exception as exc:  # CRSError, or laspy failing on odd GeoTIFF keys
        crs["error"] = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        return None
    if parsed is None:
        crs["error"] = "no CRS could be read from the GeoTIFF keys"
    return parsed


def _add_extra_dims(f: CopcFile, info: Dict[str, Any]) -> None:
    """Every Extra Bytes VLR's descriptors; no_data, min and max typed by
    data_type (raw values, LAS 1.4 R15), scale and offset where set."""
    for fld in f.read_extra_bytes():
        if fld.base_type is None:
            type_name = f"bytes[{fld.size}]" if fld.data_type == 0 else f"unknown type {fld.data_type}"
        else:
            type_name = fld.base_type + (f"[{fld.count}]" if fld.count > 1 else "")
        scale = list(fld.scale[:fld.count]) if fld.options & SCALE_BIT and fld.base_type else None
        offset = list(fld.offset[:fld.count]) if fld.options & OFFSET_BIT and fld.base_type else None
        info["extra_dims"].append({"name": fld.name, "type": type_name, "size": fld.size,
                                   "data_type": fld.data_type, "description": fld.description,
                                   "no_data": _plain(fld.typed("no_data")), "min": _plain(fld.typed("min")),
                                   "max": _plain(fld.typed("max")), "scale": scale, "offset": offset})


def _plain(values):
    """count values -> one Python number, a list of them (array types), or None."""
    if values is None:
        return None
    items = values.tolist()
    return items[0] if len(items) == 1 else items


def _add_laz(f: CopcFile, info: Dict[str, Any]) -> None:
    if not f.find(LAZ_USER, LAZ_RECORD, extended=False):
        return
    laz: LazVlr = f.read_laz_vlr()
    info["laz"] = {
        "compressor": laz.compressor,
        "compressor_name": laz.compressor_name,
        "coder": laz.coder,
        "version": f"{laz.version_major}.{laz.version_minor}r{laz.version_revision}",
        "options": laz.options,
        "chunk_size": laz.chunk_size,
        "variable_chunks": laz.variable_chunks,
        "num_special_evlrs": laz.num_special_evlrs,
        "items": [{"type": i.item_type, "name": i.name,
                   "size": i.size, "version": i.version} for i in laz.items],
    }


def _add_copc(f: CopcFile, info: Dict[str, Any]) -> None:
    if f.info_vlr is None:
        return
    copc = f.read_info()
    info["is_copc"] = True
    cube_min = [c - copc.halfsize for c in copc.center]
    cube_max = [c + copc.halfsize for c in copc.center]
    out: Dict[str, Any] = {
        "center": list(copc.center),
        "halfsize": copc.halfsize,
        "spacing": copc.spacing,
        "root_hier_offset": copc.root_hier_offset,
        "root_hier_size": copc.root_hier_size,
        "gpstime_minimum": copc.gpstime_minimum,
        "gpstime_maximum": copc.gpstime_maximum,
        "cube": {"min": cube_min, "max": cube_max},
        "info_vlr_first": bool(f.vlrs) and f.vlrs[0] is f.info_vlr,
        "pages": None, "nodes": None, "points": None, "depth": None, "node_bytes": None, "levels": [],
    }
    info["copc"] = out
    pages, entries = _read_hierarchy(f, copc)
    counts = HierarchyCounts.of(entries)
    out["pages"] = pages
    out["nodes"] = counts.nodes
    out["points"] = counts.points
    out["depth"] = counts.depth
    out["node_bytes"] = sum(counts.level_bytes.values())
    out["levels"] = [{"level": lv, "nodes": n, "points": p, "bytes": counts.level_bytes[lv],
                      "bytes_per_point": counts.level_bytes[lv] / p if p else None}
                     for lv, (n, p) in counts.levels.items()]


def _read_hierarchy(f: CopcFile, copc: CopcInfo) -> Tuple[int, List[HierarchyEntry]]:
    """The number of pages and the node entries; raises at the first page
    that cannot be read (judging the hierarchy is the validator's job)."""
    pages, entries = 0, []
    for page in walk_pages(f, copc.root_hier_offset, copc.root_hier_size):
        if page.problem is PageProblem.REACHED_TWICE:
            raise f.error(f"hierarchy page at byte {page.offset} is referenced twice")
        if page.problem is PageProblem.BAD_SIZE:
            raise f.error(f"hierarchy page at byte {page.offset} has size {page.size}, "
                          f"not a positive multiple of {HIERARCHY_ENTRY_SIZE}")
        if page.problem is PageProblem.PAST_END:
            raise f.error(f"hierarchy page at bytes {page.offset}..{page.end} lies outside the "
                          f"file ({f.size} bytes)")
        pages += 1
        entries += [e for e in page.entries if not e.is_page_pointer]
    return pages, entries


def _add_temporal_index(f: CopcFile, info: Dict[str, Any]) -> None:
    """The temporal index EVLR ("copc_temporal", 1000) summed up, or None."""
    info["temporal_index"] = None
    found = [v for v in f.evlrs if v.is_(TEMPORAL_USER, TEMPORAL_RECORD)]
    if not found:
        return
    try:
        h = TemporalHeader.from_bytes(f.read_at(found[0].data_offset, min(found[0].data_size, 32), "temporal index"))
        pages = walk_temporal_pages(h, lambda o, s: f.read_at(o, s, "temporal index page")) if h.version == 1 else []
    except ValueError as exc:
        raise f.error(f"temporal index: {exc}") from None
    nodes = [e for p in pages for e in p.entries if isinstance(e, TemporalNodeEntry)]
    info["temporal_index"] = {
        "version": h.version, "stride": h.stride, "nodes": len(nodes), "pages": len(pages),
        "root_page_size": h.root_page_size, "samples": sum(len(e.samples) for e in nodes),
        "bytes": found[0].data_size,
        "time_min": min((float(e.samples[0]) for e in nodes), default=None),
        "time_max": max((float(e.samples[-1]) for e in nodes), default=None)}


# --------------------------------------------------------------------------
# Text

def _g(value: float) -> str:
    return f"{value:.15g}"


def _xyz(values) -> str:
    return "(" + ", ".join(_g(v) for v in values) + ")"


def _number(value) -> str:
    """An int in full (uint64 values too), a float as _g; arrays in brackets."""
    if isinstance(value, list):
        return "[" + ", ".join(_number(v) for v in value) + "]"
    return str(value) if isinstance(value, int) else _g(value)


def _extra_dim_row(d: Dict[str, Any], add) -> None:
    """"  name: range 3 .. 90 (raw), scale 0.01, no data 0" for a dimension with any of them."""
    parts = []
    if d.get("min") is not None or d.get("max") is not None:
        lo, hi = (_number(d[k]) if d.get(k) is not None else "?" for k in ("min", "max"))
        parts.append(f"range {lo} .. {hi} (raw)")
    for key in ("scale", "offset"):
        if d.get(key) is not None:
            parts.append(f"{key} {_number(d[key] if len(d[key]) > 1 else d[key][0])}")
    if d.get("no_data") is not None:
        parts.append(f"no data {_number(d['no_data'])}")
    if parts:
        add(f"  {d['name']}", ", ".join(parts))


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def per_point(size: int, points: int) -> str:
    """" (12.34 B/point)", or nothing without points."""
    return f" ({size / points:.2f} B/point)" if points else ""


def _copc_rows(copc: Dict[str, Any], add) -> None:
    """The octree and hierarchy rows, per level nodes, points and bytes."""
    add("Octree", f"center {_xyz(copc['center'])}, halfsize {_g(copc['halfsize'])}, "
                  f"spacing {_g(copc['spacing'])}")
    add("GPS time", f"{_g(copc['gpstime_minimum'])} .. {_g(copc['gpstime_maximum'])}")
    if copc["nodes"] is not None:
        add("Hierarchy", f"{_plural(copc['nodes'], 'node')} in {_plural(copc['pages'], 'page')}, "
                         f"{_plural(copc['depth'], 'level')}, {copc['points']:,} points, "
                         f"{copc['node_bytes']:,} bytes of point data{per_point(copc['node_bytes'], copc['points'])}")
        for row in copc["levels"]:
            add(f"  level {row['level']}", f"{_plural(row['nodes'], 'node')}, "
                                           f"{_plural(row['points'], 'point')}, {row['bytes']:,} bytes"
                                           f"{per_point(row['bytes'], row['points'])}")


def format_info(info: Dict[str, Any]) -> str:
    """The dict from ``copc_info`` as aligned lines of text."""
    if info.get("is_vpc"):
        return format_vpc_info(info)
    rows: List[tuple] = []
    add = lambda label, text: rows.append((label, text))  # noqa: E731
    add("File", f"{info['path']} ({info['file_size']:,} bytes)")
    transfer = info.get("transfer")
    if transfer:
        share = transfer["bytes_read"] / max(info["file_size"], 1)
        add("Read", f"{transfer['bytes_read']:,} bytes ({share:.2%} of the file) in "
                    f"{_plural(transfer['requests'], 'request')}")
    kind = "COPC 1.0" if info["is_copc"] else "not a COPC file"
    packing = "LAZ" if info["compressed"] else "uncompressed"
    add("Format", f"{kind}; LAS {info['las_version']}, point format {info['point_format']} "
                  f"({packing}), {info['point_record_length']}-byte records")
    by_return = [c for c in info["points_by_return"]]
    while by_return and by_return[-1] == 0:
        by_return.pop()
    returns = "  ".join(f"{i + 1}: {c:,}" for i, c in enumerate(by_return))
    add("Points", f"{info['point_count']:,}" + (f"  (by return  {returns})" if returns else ""))
    add("Scale", " ".join(_g(s) for s in info["scale"]))
    add("Offset", " ".join(_g(o) for o in info["offset"]))
    add("Bounds", f"min {_xyz(info['bounds']['min'])}  max {_xyz(info['bounds']['max'])}")
    crs = info["crs"]
    if crs["name"]:
        add("CRS", crs["name"] + (f" (EPSG:{crs['epsg']})" if crs["epsg"] else ""))
    elif crs["wkt"] is not None or crs["geotiff"]:
        source = "WKT" if crs["wkt"] is not None else "GeoTIFF keys"
        add("CRS", f"{source} present but not understood: {crs['error'] or 'empty WKT'}")
    else:
        add("CRS", "none")
    if info["extra_dims"]:
        add("Extra dims", ", ".join(f"{d['name']} ({d['type']})" for d in info["extra_dims"]))
        for d in info["extra_dims"]:
            _extra_dim_row(d, add)
    software = " ".join(s for s in (info["generating_software"], info["system_identifier"]) if s)
    created = info["creation"]
    add("Written by", (software or "unknown") +
        (f", day {created['day']} of {created['year']}" if created["year"] else ""))
    laz = info["laz"]
    if laz:
        chunks = "variable" if laz["variable_chunks"] else f"{laz['chunk_size']:,} points"
        add("LAZ", f"{laz['compressor_name']} v{laz['version']}, chunks {chunks}, items "
                   + ", ".join(f"{i['name']}({i['size']})" for i in laz["items"]))
    if info["copc"]:
        _copc_rows(info["copc"], add)
    temporal = info.get("temporal_index")
    if temporal:
        add("Temporal index", f"stride {temporal['stride']}, {_plural(temporal['nodes'], 'node')} in "
                              f"{_plural(temporal['pages'], 'page')} (root page {temporal['root_page_size']:,} B), "
                              f"{_plural(temporal['samples'], 'sample')}, {temporal['bytes']:,} B")
    add("VLRs", "; ".join(f"{v['user_id']} {v['record_id']} ({v['size']:,} B)" for v in info["vlrs"]) or "none")
    if info["evlrs"]:
        add("EVLRs", "; ".join(f"{v['user_id']} {v['record_id']} ({v['size']:,} B)" for v in info["evlrs"]))
    for problem in info["problems"]:
        add("Problem", problem)
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label + ':':<{width + 1}} {text}" for label, text in rows)


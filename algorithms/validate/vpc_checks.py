"""Validation of a virtual point cloud (.vpc): the collection and its files.

    vpc            the file is not a .vpc (JSON, a FeatureCollection of items)
    vpc.member     a member (data asset) is missing or is not valid COPC
    vpc.count      an item's pc:count differs from its member's point count
    vpc.bounds     an item's proj:bbox differs from its member's header bounds
    vpc.crs        an item's proj:epsg / proj:wkt2 differs from its member's CRS
    vpc.overview   no overview; an overview missing or not valid COPC; points
                   of an overview that are in none of the members

Every member is validated as a COPC file (one decode of the collection);
a .vpc at an s3:// or http(s):// URL is read, with its members, through the
storage layer (members relative to its URL);
an overview's points are looked for in the member whose bounds hold them,
its nodes decoded coarsest first until every point is found (the overview a
tiled build writes is made of the members' root nodes, so this stops at the
roots).
"""
from __future__ import annotations

import os
from functools import partial
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

from ..common.errors import CopcBuilderError
from ..copc_file import CopcFile, walk_pages
from ..format.vpc_record import VpcItem, resolve_href
from ..sources.input_paths import read_vpc
from ..storage.urls import is_url, shown_name
from .report import FindingSink, ValidationReport, num


def validate_vpc(path, observer=None, cancel: Optional[Callable[[], bool]] = None, validate_member=None,
                 storage=None) -> ValidationReport:
    """Check a .vpc and every file it lists; never raises on a bad collection.
    A .vpc at an s3:// or http(s):// URL, and its members, are read through
    the storage layer with ``storage`` options."""
    findings = FindingSink(ValidationReport(path=shown_name(path)))
    try:
        items, _ = read_vpc(str(path), storage)
    except CopcBuilderError as exc:
        findings.error("vpc", getattr(exc, "problem", str(exc)))
        findings.close()
        return findings.report
    members: List[Tuple[VpcItem, str]] = []
    check = partial(validate_member, storage=storage)
    for item in items:
        member = resolve_href(str(path), item.data_href)
        if _check_member(findings, item, member, check, observer, cancel, storage):
            members.append((item, member))
    _check_overviews(findings, str(path), items, members, check, cancel, storage)
    findings.close()
    return findings.report


def _open_problem(href: str, member: str, checked: Optional[ValidationReport] = None) -> Optional[str]:
    """Why a member cannot be checked at all, or None: before it is opened, a
    file that is not there; once its check ran, a URL that could not be read."""
    if checked is None:
        if "://" in member and not is_url(member):
            return f"{href} is neither a file nor an s3:// or http(s):// URL"
        return None if is_url(member) or os.path.isfile(member) else f"{href} does not exist ({member})"
    opened = [f for f in checked.errors if f.check == "file"]
    return f"{href} cannot be read ({shown_name(member)}): {opened[0].message}" if opened and is_url(member) \
        else None


def _check_member(findings: FindingSink, item: VpcItem, member: str, validate_member, observer, cancel,
                  storage) -> bool:
    report = findings.report
    problem = _open_problem(item.data_href, member)
    checked = validate_member(member, observer, cancel) if not problem else None
    problem = problem or _open_problem(item.data_href, member, checked)
    if problem:
        findings.error("vpc.member", f"{item.id}: {problem}")
        return False
    shown = shown_name(member)
    report.points += checked.points
    report.nodes += checked.nodes
    report.depth = max(report.depth, checked.depth)
    if not checked.ok:
        findings.error("vpc.member", f"{item.id}: {shown} is not valid COPC: {checked.errors[0]}")
        return False
    if item.count != checked.points:
        findings.error("vpc.count", f"{item.id}: pc:count says {item.count:,} points, {shown} holds "
                                    f"{checked.points:,}")
    with CopcFile(member, storage) as f:
        h = f.header
        bounds = list(h.mins) + list(h.maxs)
        wkt = f.read_wkt()
    if len(item.native_bbox) != 6 or not np.allclose(item.native_bbox, bounds, rtol=0,
                                                     atol=max(h.scale) / 2):
        findings.error("vpc.bounds", f"{item.id}: proj:bbox {item.native_bbox} differs from the bounds of "
                                     f"{shown} ({', '.join(num(b) for b in bounds)})")
    problem = _crs_problem(item, wkt)
    if problem:
        findings.error("vpc.crs", f"{item.id}: {problem}")
    return True


def _crs_problem(item: VpcItem, wkt: Optional[str]) -> Optional[str]:
    if item.epsg is None and not item.wkt2:
        return "the item gives no CRS (proj:epsg or proj:wkt2)"
    if not wkt:
        return "its member has no CRS"
    try:
        import pyproj

        member = pyproj.CRS.from_wkt(wkt)
        stated = pyproj.CRS.from_epsg(int(item.epsg)) if item.epsg is not None else pyproj.CRS.from_wkt(item.wkt2)
    except Exception as exc:   # pyproj.exceptions.CRSError and bad values
        return f"its CRS cannot be read ({exc})"
    if not member.equals(stated, ignore_axis_order=True):
        return f"the item says {stated.name}, its member is in {member.name}"
    return None


# -- overviews ---------------------------------------------------------------------------
def _check_overviews(findings: FindingSink, path: str, items: List[VpcItem], members, validate_member,
                     cancel, storage) -> None:
    hrefs = sorted({h for item in items for h in item.overview_hrefs})
    if not hrefs:
        findings.warning("vpc.overview", "no item lists an overview (QGIS 3.42+ draws one when zoomed out)")
        return
    for href in hrefs:
        overview = resolve_href(path, href)
        problem = _open_problem(href, overview)
        checked = validate_member(overview, None, cancel) if not problem else None
        problem = problem or _open_problem(href, overview, checked)
        if problem:
            findings.error("vpc.overview", problem)
            continue
        shown = shown_name(overview)
        if not checked.ok:
            findings.error("vpc.overview", f"{shown} is not valid COPC: {checked.errors[0]}")
            continue
        missing = overview_points_missing(overview, [m for i, m in members if href in i.overview_hrefs],
                                          cancel, storage)
        for member, n in missing.items():
            where = "in none of its items' members" if member is None else \
                f"in the bounds of {shown_name(member)} but not in it"
            findings.error("vpc.overview", f"{shown}: {n:,} points are {where}")


def _records(f: CopcFile, min_level: int = 0, max_level: int = 99):
    """(level, records) of every node, coarsest level first."""
    laz = f.read_laz_vlr()
    info = f.read_info()
    entries = [e for page in walk_pages(f, info.root_hier_offset, info.root_hier_size) for e in page.entries
               if e.point_count > 0]
    for e in sorted(entries, key=lambda e: e.key.level):
        if min_level <= e.key.level <= max_level:
            yield e.key.level, f.decode_chunk(f.read_chunk(e), e.point_count, laz, e.key)


def _real_xyz(records: np.ndarray, header) -> np.ndarray:
    return np.stack([records[a].astype(np.float64) * s + o for a, s, o in zip("XYZ", header.scale, header.offset)],
                    axis=1)


def overview_points_missing(overview: str, members: List[str], cancel=None, storage=None
                            ) -> Dict[Optional[str], int]:
    """Points of ``overview`` found in no member: {member whose bounds hold them (None: none does): count}."""
    with CopcFile(overview, storage) as f:
        over_header = f.header
        rows = np.concatenate([r for _, r in _records(f)])
    xyz = _real_xyz(rows, over_header)
    owner = np.full(len(rows), -1, np.int64)
    headers = []
    for m, member in enumerate(members):
        with CopcFile(member, storage) as f:
            h = f.header
        headers.append(h)
        half = np.array(h.scale) / 2
        inside = np.all((xyz >= np.array(h.mins) - half) & (xyz <= np.array(h.maxs) + half), axis=1)
        owner[(owner < 0) & inside] = m
    missing: Dict[Optional[str], int] = {}
    if np.any(owner < 0):
        missing[None] = int(np.count_nonzero(owner < 0))
    for m, member in enumerate(members):
        wanted = rows[owner == m]
        if len(wanted):
            left = _not_found(member, wanted, over_header, headers[m], cancel, storage)
            if left:
                missing[member] = left
    return missing


def _not_found(member: str, wanted: np.ndarray, over_header, header, cancel, storage=None) -> int:
    """How many of the records ``wanted`` (of the overview) the member does not hold."""
    same = (over_header.point_format == header.point_format and wanted.dtype.itemsize == header.point_record_length
            and list(over_header.scale) == list(header.scale) and list(over_header.offset) == list(header.offset))

    def keys(records, hdr):
        if same:
            return np.ascontiguousarray(records).view(np.dtype((np.void, records.dtype.itemsize))).ravel()
        q = np.rint((_real_xyz(records, hdr) - np.array(header.offset)) / np.array(header.scale)).astype(np.int64)
        return np.ascontiguousarray(q).view(np.dtype((np.void, 24))).ravel()

    want = keys(wanted, over_header)
    found = np.zeros(len(want), bool)
    with CopcFile(member, storage) as f:
        for _, records in _records(f):
            if cancel is not None and cancel():
                break
            found |= np.isin(want, keys(records, header))
            if found.all():
                return 0
    return int(np.count_nonzero(~found))

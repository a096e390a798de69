"""COPC 1.0 validator: checks a file against the COPC 1.0 and LAS 1.4 specs.

    report = validate_copc("out.copc.laz")
    print(format_report(report))      # one line per finding, then a verdict

Every finding names its check (a dotted name, stable for tests and scripts):

    file                  the file cannot be opened or is not LAS at all
    header.*              version, size, point_format, record_length, wkt_bit,
                          scale, offsets, evlrs, legacy_counts
    vlrs / evlrs          the (E)VLR chains run past their limits
    info.*                missing, first (must be the first VLR, at byte 375),
                          size (160 bytes), cube (halfsize, center), spacing,
                          reserved (must be 0)
    laz.*                 missing, compressor, chunk_size (must be variable),
                          items (must describe the header's record)
    chunk_table           unreadable, misplaced, or not matching the hierarchy
    hierarchy.*           evlr, page, entry, key, duplicate, parent, pointer,
                          root, byte_range, overlap, unused
    node.*                decode, count (the chunk's own count), chunk_size
    points.cube           points outside their node's cube (no tolerance)
    counts.*              total (nodes vs header), by_return
    bounds                header min/max vs the points' real min/max
    gpstime               info VLR GPS range vs the points' real range
    returns               return numbers 0 or above the number of returns
    crs.*                 missing, wkt, geotiff
    extra_bytes           extra-bytes VLR vs the record length

Points are decoded one node at a time (memory is bounded by the largest
node) and checked with numpy; validation costs about one decode of the file.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

from .copc_file import (
    COPC_HIERARCHY_RECORD,
    COPC_INFO_RECORD,
    COPC_INFO_SIZE,
    COPC_POINT_FORMATS,
    COPC_USER,
    GEOTIFF_RECORD,
    HIERARCHY_ENTRY_SIZE,
    LAS14_HEADER_SIZE,
    LAZ_ITEM_BYTE14,
    LAZ_ITEM_POINT14,
    LAZ_ITEM_RGB14,
    LAZ_ITEM_RGBNIR14,
    LAZ_LAYERED_COMPRESSOR,
    LAZ_RECORD,
    LAZ_USER,
    POINT_FORMAT_SIZES,
    PROJECTION_USER,
    VARIABLE_CHUNK_SIZE,
    WKT_RECORD,
    ChunkTable,
    CopcFile,
    CopcInfo,
    HierarchyEntry,
    LazVlr,
    NodeKey,
    layered_chunk_header,
    layered_chunk_size,
)
from .errors import BuildCancelled, CopcBuilderError
from .progress import ProgressEvent

ERROR = "error"
WARNING = "warning"

# Findings of one check beyond this many are summed up in one line, so a
# broken file gives a readable report rather than thousands of lines.
MAX_FINDINGS_PER_CHECK = 5


@dataclass(frozen=True)
class Finding:
    severity: str       # "error" | "warning"
    check: str          # dotted check name, see the module docstring
    message: str

    def __str__(self) -> str:
        return f"{self.severity.upper():7} {self.check}: {self.message}"


@dataclass
class ValidationReport:
    path: str
    findings: List[Finding] = field(default_factory=list)
    points: int = 0          # points the hierarchy lists (sum of node counts)
    decoded_points: int = 0  # points actually decoded and checked
    nodes: int = 0           # hierarchy node entries, empty nodes included
    pages: int = 0           # hierarchy pages reached from the root page
    depth: int = 0           # number of octree levels (deepest level + 1)
    levels: Dict[int, Tuple[int, int]] = field(default_factory=dict)  # level -> (nodes, points)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> List[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> List[Finding]:
        return [f for f in self.findings if f.severity == WARNING]

    def checks(self, severity: Optional[str] = None) -> set:
        """Names of the checks with findings (of that severity, if given)."""
        return {f.check for f in self.findings if severity is None or f.severity == severity}


def validate_copc(path, observer=None, cancel: Optional[Callable[[], bool]] = None) -> ValidationReport:
    """Check ``path`` against COPC 1.0 / LAS 1.4; never raises on a bad file.

    ``observer.on_progress(ProgressEvent)`` gets stage "finish" events with
    the fraction of points decoded; ``cancel()`` is polled between nodes and
    raises ``BuildCancelled`` when it returns True.
    """
    return _Validator(path, observer, cancel).run()


def format_report(report: ValidationReport) -> str:
    """One line per finding, then a verdict line."""
    lines = [str(f) for f in report.findings]
    if report.ok:
        lines.append(f"{report.path}: valid COPC 1.0 ({_count(report.points, 'point')} in "
                     f"{_count(report.nodes, 'node')}, {_count(report.depth, 'level')}; "
                     f"{_count(len(report.warnings), 'warning')})")
    else:
        lines.append(f"{report.path}: NOT a valid COPC 1.0 file ({_count(len(report.errors), 'error')}, "
                     f"{_count(len(report.warnings), 'warning')})")
    return "\n".join(lines)


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _num(value: float) -> str:
    """Shortest exact text of a float: differences of 1e-13 stay visible."""
    return repr(float(value))


def _xyz(values) -> str:
    return "(" + ", ".join(_num(v) for v in values) + ")"


class _PointStats:
    """What the point checks sum up over all nodes."""

    def __init__(self):
        self.count = 0
        self.int_min = np.full(3, np.iinfo(np.int64).max, dtype=np.int64)
        self.int_max = np.full(3, np.iinfo(np.int64).min, dtype=np.int64)
        self.gps_min = math.inf
        self.gps_max = -math.inf
        self.returns = np.zeros(16, dtype=np.int64)
        self.return_above_count = 0
        self.outside_points = 0
        self.outside_nodes = 0


class _Validator:
    def __init__(self, path, observer, cancel):
        self.report = ValidationReport(path=str(path))
        self.observer = observer
        self.cancel = cancel
        self._per_check: Dict[str, int] = {}
        self._suppressed: Dict[Tuple[str, str], int] = {}
        self._last_emit = 0.0

    # -- findings ------------------------------------------------------------

    def add(self, severity: str, check: str, message: str) -> None:
        n = self._per_check.get(check, 0) + 1
        self._per_check[check] = n
        if n > MAX_FINDINGS_PER_CHECK:
            key = (severity, check)
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return
        self.report.findings.append(Finding(severity, check, message))

    def error(self, check: str, message: str) -> None:
        self.add(ERROR, check, message)

    def warning(self, check: str, message: str) -> None:
        self.add(WARNING, check, message)

    def _close_findings(self) -> None:
        for (severity, check), n in self._suppressed.items():
            self.report.findings.append(Finding(
                severity, check, f"... and {n} more finding{'s' if n != 1 else ''} of this check not shown"))

    # -- progress ------------------------------------------------------------

    def _poll(self, done: int, total: int) -> None:
        if self.cancel is not None and self.cancel():
            raise BuildCancelled("validation cancelled")
        fn = getattr(self.observer, "on_progress", None)
        if fn is None:
            return
        now = time.monotonic()
        if done < total and now - self._last_emit < 0.05:
            return
        self._last_emit = now
        fraction = min(1.0, done / total) if total > 0 else 1.0
        fn(ProgressEvent("finish", int(done), int(total), fraction))

    # -- driver ----------------------------------------------------------------

    def run(self) -> ValidationReport:
        try:
            copc = CopcFile(self.report.path)
        except CopcBuilderError as exc:
            self.error("file", getattr(exc, "problem", str(exc)))
            self._close_findings()
            return self.report
        with copc:
            self.f = copc
            self.h = copc.header
            self.check_header()
            if self.check_vlrs():
                info = self.check_info()
                laz = self.check_laz()
                self.check_crs()
                self.check_extra_bytes()
                self.table_offset = self.check_chunk_table_offset()
                entries = self.check_hierarchy(info) if info is not None else None
                table = self.check_chunk_table(laz)
                if entries is not None and table is not None:
                    self.check_chunks_match(entries, table)
                if entries is not None and info is not None and laz is not None:
                    self.check_points(info, laz, entries)
        self._close_findings()
        return self.report

    # -- header ----------------------------------------------------------------

    def check_header(self) -> None:
        h = self.h
        if (h.version_major, h.version_minor) != (1, 4):
            self.error("header.version", f"LAS version is {h.version}, COPC needs 1.4")
        if h.header_size != LAS14_HEADER_SIZE:
            self.error("header.size", f"header size is {h.header_size} bytes, LAS 1.4 needs {LAS14_HEADER_SIZE}")
        if h.point_format not in COPC_POINT_FORMATS:
            self.error("header.point_format", f"point format is {h.point_format}, COPC needs 6, 7 or 8")
        if not h.compressed:
            self.error("header.point_format", f"point format byte is 0x{h.point_format_byte:02x}: the LAZ "
                       "bit 0x80 is not set, but COPC points are LAZ-compressed")
        base = POINT_FORMAT_SIZES.get(h.point_format)
        if base is not None and h.point_record_length < base:
            self.error("header.record_length", f"point record length is {h.point_record_length} bytes, "
                       f"shorter than format {h.point_format}'s {base} bytes")
        if not h.wkt_bit:
            self.error("header.wkt_bit", f"global encoding is 0x{h.global_encoding:04x}: the WKT bit (bit 4) "
                       "is not set, which LAS 1.4 requires for formats 6-10")
        for axis, s in zip("xyz", h.scale):
            if not (math.isfinite(s) and s > 0):
                self.error("header.scale", f"scale {axis} is {_num(s)}, must be a positive number")
        for axis, o in zip("xyz", h.offset):
            if not math.isfinite(o):
                self.error("header.scale", f"offset {axis} is {_num(o)}, must be a finite number")
        if h.offset_to_point_data > self.f.size:
            self.error("header.offsets", f"offset to point data is {h.offset_to_point_data}, past the end "
                       f"of the file ({self.f.size} bytes)")
        elif h.offset_to_point_data < h.header_size:
            self.error("header.offsets", f"offset to point data is {h.offset_to_point_data}, inside the "
                       f"header ({h.header_size} bytes)")
        if h.evlr_count == 0:
            self.error("header.evlrs", "the header lists no EVLRs, but the COPC hierarchy must be in one")
        elif h.evlr_start < h.offset_to_point_data or h.evlr_start >= self.f.size:
            self.error("header.evlrs", f"first EVLR at byte {h.evlr_start} is outside the region after the "
                       f"point data (bytes {h.offset_to_point_data}..{self.f.size})")
        # LAS 1.4: the legacy 32-bit counts are either 0 or the true counts.
        if h.legacy_point_count not in (0, h.point_count):
            self.error("header.legacy_counts", f"legacy point count is {h.legacy_point_count}, "
                       f"but the point count is {h.point_count}")
        if h.legacy_point_count and tuple(h.legacy_points_by_return) != tuple(h.points_by_return[:5]):
            self.error("header.legacy_counts", f"legacy points by return {list(h.legacy_points_by_return)} "
                       f"differ from points by return {list(h.points_by_return[:5])}")

    # -- VLRs ------------------------------------------------------------------

    def check_vlrs(self) -> bool:
        """False when the VLR chain itself cannot be read (nothing else can be checked)."""
        f, h = self.f, self.h
        try:
            vlrs = f.vlrs
        except CopcBuilderError as exc:
            self.error("vlrs", exc.problem)
            return False
        if vlrs and vlrs[-1].end > h.offset_to_point_data:
            self.error("vlrs", f"the {len(vlrs)} VLRs end at byte {vlrs[-1].end}, past the start of the "
                       f"point data at byte {h.offset_to_point_data}")
        self.evlrs_readable = True
        try:
            f.evlrs
        except CopcBuilderError as exc:
            self.error("evlrs", exc.problem)
            # Go on with no EVLRs: what the VLRs and the point data allow is
            # still checked, and hierarchy pages show up as unreadable.
            self.evlrs_readable = False
            f._evlrs = []
        return True

    def check_info(self) -> Optional[CopcInfo]:
        f = self.f
        infos = f.find(COPC_USER, COPC_INFO_RECORD)
        if not infos:
            self.error("info.missing", "no COPC info VLR ('copc', 1): this is not a COPC file")
            return None
        vlr = infos[0]
        if len(infos) > 1:
            self.error("info.first", f"{len(infos)} COPC info VLRs; there must be exactly one")
        if vlr.extended:
            self.error("info.first", f"the COPC info record is an EVLR at byte {vlr.header_offset}; it must be "
                       f"the first VLR, at byte {LAS14_HEADER_SIZE}")
        elif f.vlrs[0] is not vlr:
            self.error("info.first", f"the COPC info VLR is VLR {f.vlrs.index(vlr) + 1} of {len(f.vlrs)} "
                       f"(at byte {vlr.header_offset}); it must be the first, at byte {LAS14_HEADER_SIZE}")
        elif vlr.header_offset != LAS14_HEADER_SIZE:
            self.error("info.first", f"the COPC info VLR starts at byte {vlr.header_offset}, "
                       f"not at byte {LAS14_HEADER_SIZE}")
        if vlr.data_size != COPC_INFO_SIZE:
            self.error("info.size", f"the COPC info VLR holds {vlr.data_size} bytes, must be {COPC_INFO_SIZE}")
            if vlr.data_size < COPC_INFO_SIZE:
                return None
        try:
            info = CopcInfo.from_bytes(f.read_at(vlr.data_offset, COPC_INFO_SIZE, "COPC info VLR"))
        except CopcBuilderError as exc:
            self.error("info.size", exc.problem)
            return None
        usable = True
        if not (math.isfinite(info.halfsize) and info.halfsize > 0):
            self.error("info.cube", f"halfsize is {_num(info.halfsize)}, must be a positive number")
            usable = False
        if not all(math.isfinite(c) for c in info.center):
            self.error("info.cube", f"center is {_xyz(info.center)}, must be finite")
            usable = False
        if not (math.isfinite(info.spacing) and info.spacing > 0):
            self.error("info.spacing", f"spacing is {_num(info.spacing)}, must be a positive number")
        if any(info.reserved):
            self.error("info.reserved", f"reserved fields are {list(info.reserved)}, must all be 0")
        if info.gpstime_minimum > info.gpstime_maximum:
            self.error("gpstime", f"GPS time minimum {_num(info.gpstime_minimum)} is above the maximum "
                       f"{_num(info.gpstime_maximum)}")
        return info if usable else _without_cube(info)

    def check_laz(self) -> Optional[LazVlr]:
        f, h = self.f, self.h
        found = f.find(LAZ_USER, LAZ_RECORD)
        if not found:
            self.error("laz.missing", "no LAZ VLR ('laszip encoded', 22204): the points are not LAZ")
            return None
        if len(found) > 1:
            self.warning("laz.missing", f"{len(found)} LAZ VLRs; the first is used")
        try:
            laz = LazVlr.from_bytes(f.vlr_data(found[0]))
        except (ValueError, CopcBuilderError) as exc:
            self.error("laz.items", f"LAZ VLR cannot be read: {getattr(exc, 'problem', exc)}")
            return None
        usable = True
        if laz.compressor != LAZ_LAYERED_COMPRESSOR:
            self.error("laz.compressor", f"LAZ compressor is {laz.compressor}; formats 6-8 need "
                       f"{LAZ_LAYERED_COMPRESSOR} (layered chunked)")
            usable = False
        if laz.coder != 0:
            self.error("laz.compressor", f"LAZ coder is {laz.coder}, must be 0 (arithmetic)")
            usable = False
        if laz.chunk_size != VARIABLE_CHUNK_SIZE:
            self.error("laz.chunk_size", f"LAZ chunk size is {laz.chunk_size}; COPC needs variable-size "
                       f"chunks ({VARIABLE_CHUNK_SIZE}, one chunk per node)")
        if h.point_format in COPC_POINT_FORMATS:
            extra = h.point_record_length - POINT_FORMAT_SIZES[h.point_format]
            expected = [(LAZ_ITEM_POINT14, 30)]
            if h.point_format == 7:
                expected.append((LAZ_ITEM_RGB14, 6))
            elif h.point_format == 8:
                expected.append((LAZ_ITEM_RGBNIR14, 8))
            if extra > 0:
                expected.append((LAZ_ITEM_BYTE14, extra))
            actual = [(i.item_type, i.size) for i in laz.items]
            if actual != expected:
                self.error("laz.items", f"LAZ items (type, size) are {actual}; point format "
                           f"{h.point_format} with {max(extra, 0)} extra bytes needs {expected}")
                usable = False
            elif any(i.version != 3 for i in laz.items):
                self.warning("laz.items", f"LAZ item versions are {[i.version for i in laz.items]}, "
                             "expected 3 for LAZ 1.4 layered items")
        if laz.point_size != h.point_record_length:
            usable = False
            if h.point_format not in COPC_POINT_FORMATS:
                self.error("laz.items", f"LAZ items describe {laz.point_size}-byte points, the header "
                           f"says {h.point_record_length}")
        return laz if usable and h.point_format in COPC_POINT_FORMATS else None

    def check_crs(self) -> None:
        f = self.f
        wkts = f.find(PROJECTION_USER, WKT_RECORD)
        if f.find(PROJECTION_USER, GEOTIFF_RECORD):
            self.warning("crs.geotiff", "GeoTIFF keys VLR present; LAS 1.4 formats 6-10 carry the CRS "
                         "as WKT only, readers ignore it")
        if not wkts:
            self.warning("crs.missing", "no WKT VLR (LASF_Projection 2112): the file has no CRS")
            return
        if len(wkts) > 1:
            self.warning("crs.wkt", f"{len(wkts)} WKT VLRs; readers use the first")
        try:
            wkt = f.read_wkt()
        except CopcBuilderError as exc:
            self.error("crs.wkt", exc.problem)
            return
        if not wkt:
            self.error("crs.wkt", f"the WKT {wkts[0]} is empty")
            return
        problem = wkt_problem(wkt)
        if problem:
            self.warning("crs.wkt", f"the WKT cannot be parsed by pyproj: {problem}")

    def check_extra_bytes(self) -> None:
        h = self.h
        base = POINT_FORMAT_SIZES.get(h.point_format)
        if base is None:
            return
        extra = h.point_record_length - base
        try:
            fields = self.f.read_extra_bytes()
        except CopcBuilderError as exc:
            self.error("extra_bytes", exc.problem)
            return
        if not fields:
            if extra > 0:
                self.warning("extra_bytes", f"each record has {extra} extra bytes that no "
                             "extra-bytes VLR describes")
            return
        sizes = []
        for fld in fields:
            if fld.size is None or fld.size <= 0:
                self.error("extra_bytes", f"extra dimension {fld.name!r} has data type {fld.data_type} "
                           f"(options {fld.options}): no valid size")
                return
            sizes.append(fld.size)
        if sum(sizes) != extra:
            self.error("extra_bytes", f"the extra-bytes VLR describes {sum(sizes)} bytes per point "
                       f"({', '.join(f'{fl.name}: {s}' for fl, s in zip(fields, sizes))}), but the "
                       f"record has {extra} extra bytes ({h.point_record_length} - {base})")

    # -- chunk table -------------------------------------------------------------

    def check_chunk_table_offset(self) -> Optional[int]:
        """Where the chunk table is, if that is sane; it bounds the point data."""
        h, f = self.h, self.f
        try:
            offset = f.chunk_table_offset()
        except CopcBuilderError as exc:
            self.error("chunk_table", exc.problem)
            return None
        limit = h.evlr_start if h.evlr_count and h.evlr_start <= f.size else f.size
        if offset == -1:
            self.error("chunk_table", "the chunk table offset at the start of the point data is -1 "
                       "(never filled in)")
            return None
        if not (h.offset_to_point_data + 8 <= offset and offset + 8 <= limit):
            self.error("chunk_table", f"the chunk table offset {offset} is outside the point data "
                       f"(bytes {h.offset_to_point_data + 8}..{limit})")
            return None
        return offset

    def check_chunk_table(self, laz: Optional[LazVlr]) -> Optional[ChunkTable]:
        if laz is None or self.table_offset is None:
            return None
        try:
            table = self.f.read_chunk_table(laz)
        except CopcBuilderError as exc:
            self.error("chunk_table", exc.problem)
            return None
        end = self.h.offset_to_point_data + 8 + sum(size for _, size in table.chunks)
        if end > table.offset:
            self.error("chunk_table", f"the {len(table.chunks)} chunks end at byte {end}, past the chunk "
                       f"table at byte {table.offset}")
        elif end < table.offset:
            self.warning("chunk_table", f"{table.offset - end} bytes between the last chunk (ends at "
                         f"byte {end}) and the chunk table (at byte {table.offset})")
        return table

    def check_chunks_match(self, entries: List[HierarchyEntry], table: ChunkTable) -> None:
        """Chunk table and hierarchy describe the same chunks, in file order."""
        nodes = sorted((e for e in entries if e.point_count > 0), key=lambda e: e.offset)
        if len(nodes) != len(table.chunks):
            self.error("chunk_table", f"the chunk table lists {len(table.chunks)} chunks, the hierarchy "
                       f"{len(nodes)} non-empty nodes")
        position = self.h.offset_to_point_data + 8
        for i, (entry, (count, size)) in enumerate(zip(nodes, table.chunks)):
            if (entry.offset, entry.byte_size, entry.point_count) != (position, size, count):
                self.error("chunk_table", f"node {entry.key}: hierarchy says {entry.point_count} points, "
                           f"{entry.byte_size} bytes at byte {entry.offset}; chunk {i} of the chunk table "
                           f"holds {count} points, {size} bytes at byte {position}")
            position += size

    # -- hierarchy ---------------------------------------------------------------

    def check_hierarchy(self, info: CopcInfo) -> Optional[List[HierarchyEntry]]:
        f, h, rep = self.f, self.h, self.report
        containers = [v for v in f.evlrs if v.is_(COPC_USER, COPC_HIERARCHY_RECORD)]
        if not containers:
            in_vlrs = [v for v in f.vlrs if v.is_(COPC_USER, COPC_HIERARCHY_RECORD)]
            if in_vlrs:
                self.warning("hierarchy.evlr", f"the hierarchy is in a {in_vlrs[0]}, not in an EVLR")
                containers = in_vlrs
            elif self.evlrs_readable:
                self.error("hierarchy.evlr", "no hierarchy EVLR ('copc', 1000)")
        elif len(containers) > 1:
            self.error("hierarchy.evlr", f"{len(containers)} hierarchy EVLRs; there must be exactly one")
        box = containers[0] if containers else None

        pages: List[Tuple[int, int]] = []
        nodes: List[HierarchyEntry] = []
        pointers: List[HierarchyEntry] = []
        seen = set()
        todo = [(info.root_hier_offset, info.root_hier_size, "the info VLR's root page")]
        while todo:
            offset, size, origin = todo.pop(0)
            where = f"hierarchy page at bytes {offset}..{offset + size} (from {origin})"
            if offset in seen:
                self.error("hierarchy.page", f"{where} is reached twice")
                continue
            seen.add(offset)
            if size <= 0 or size % HIERARCHY_ENTRY_SIZE:
                self.error("hierarchy.page", f"{where} has size {size}, not a positive multiple of "
                           f"{HIERARCHY_ENTRY_SIZE}")
                continue
            if offset + size > f.size:
                self.error("hierarchy.page", f"{where} lies past the end of the file ({f.size} bytes)")
                continue
            if box is not None and not (box.data_offset <= offset and offset + size <= box.end):
                self.error("hierarchy.page", f"{where} lies outside the hierarchy EVLR's data "
                           f"(bytes {box.data_offset}..{box.end})")
            pages.append((offset, size))
            for entry in f.read_page(offset, size):
                if entry.point_count == -1:
                    pointers.append(entry)
                    todo.append((entry.offset, entry.byte_size, f"node {entry.key}'s pointer"))
                elif entry.point_count < -1:
                    self.error("hierarchy.entry", f"node {entry.key}: point count {entry.point_count} "
                               "(must be -1, 0 or positive)")
                else:
                    nodes.append(entry)
        rep.pages = len(pages)
        if box is not None and pages:
            unused = box.data_size - sum(size for _, size in pages)
            if unused > 0:
                self.warning("hierarchy.unused", f"{unused} bytes of the hierarchy EVLR are in no "
                             "page reachable from the root page")

        # Keys: in range, unique, with parents; pointers lead to their node.
        valid = []
        by_key: Dict[NodeKey, HierarchyEntry] = {}
        for e in nodes:
            if not e.key.in_range():
                side = 2 ** e.key.level if 0 <= e.key.level < 62 else None
                span = f"0..{side - 1}" if side else "nothing"
                self.error("hierarchy.key", f"node {e.key}: key outside the octree (level must be >= 0, "
                           f"x, y, z in {span} at level {e.key.level})")
                continue
            if e.key in by_key:
                self.error("hierarchy.duplicate", f"node {e.key} has two entries (pages at bytes "
                           f"{by_key[e.key].page_offset} and {e.page_offset})")
                continue
            by_key[e.key] = e
            valid.append(e)
        if NodeKey(0, 0, 0, 0) not in by_key:
            self.error("hierarchy.root", "the hierarchy has no root node 0-0-0-0")
        for e in valid:
            if e.key.level > 0 and e.key.parent() not in by_key:
                self.error("hierarchy.parent", f"node {e.key} has no parent node {e.key.parent()}")
        for p in pointers:
            target = by_key.get(p.key)
            if target is None or target.page_offset != p.offset:
                self.error("hierarchy.pointer", f"node {p.key} points to the page at byte {p.offset}, "
                           "which holds no entry for it")

        # Entries' byte ranges: inside the point data, not overlapping.
        start = h.offset_to_point_data + 8
        stop = self.table_offset if self.table_offset is not None else (
            h.evlr_start if h.evlr_count and h.evlr_start <= f.size else f.size)
        for e in valid:
            if e.point_count == 0:
                if e.offset or e.byte_size:
                    self.warning("hierarchy.entry", f"node {e.key} is empty but has offset {e.offset} "
                                 f"and byte size {e.byte_size} (the spec says 0)")
            elif e.byte_size <= 0:
                self.error("hierarchy.entry", f"node {e.key}: {e.point_count} points in "
                           f"{e.byte_size} bytes")
            elif e.offset + e.byte_size > f.size:
                self.error("hierarchy.byte_range", f"node {e.key}: chunk at bytes {e.offset}.."
                           f"{e.offset + e.byte_size} runs past the end of the file ({f.size} bytes)")
            elif not (start <= e.offset and e.offset + e.byte_size <= stop):
                self.error("hierarchy.byte_range", f"node {e.key}: chunk at bytes {e.offset}.."
                           f"{e.offset + e.byte_size} lies outside the point data (bytes {start}..{stop})")
        chunks = sorted((e for e in valid if e.point_count > 0 and e.byte_size > 0), key=lambda e: e.offset)
        for a, b in zip(chunks, chunks[1:]):
            if a.offset + a.byte_size > b.offset:
                self.error("hierarchy.overlap", f"nodes {a.key} (bytes {a.offset}..{a.offset + a.byte_size}) "
                           f"and {b.key} (bytes {b.offset}..{b.offset + b.byte_size}) overlap")

        rep.nodes = len(valid)
        rep.points = sum(e.point_count for e in valid)
        levels: Dict[int, List[int]] = {}
        for e in valid:
            row = levels.setdefault(e.key.level, [0, 0])
            row[0] += 1
            row[1] += e.point_count
        rep.levels = {lv: (n, p) for lv, (n, p) in sorted(levels.items())}
        rep.depth = max(levels) + 1 if levels else 0
        if rep.points != h.point_count:
            self.error("counts.total", f"the hierarchy's nodes hold {rep.points} points, the header "
                       f"says {h.point_count}")
        return valid

    # -- points ------------------------------------------------------------------

    def check_points(self, info: CopcInfo, laz: LazVlr, entries: List[HierarchyEntry]) -> None:
        f, h = self.f, self.h
        dtype = f.point_dtype()
        scale = np.asarray(h.scale, dtype=np.float64)
        offset = np.asarray(h.offset, dtype=np.float64)
        has_cube = not isinstance(info, _NoCube)
        stats = _PointStats()
        todo = sorted((e for e in entries if e.point_count > 0 and e.byte_size > 0
                       and e.offset + e.byte_size <= f.size), key=lambda e: e.offset)
        total = sum(e.point_count for e in todo)
        self._poll(0, total)
        done = 0
        for entry in todo:
            data = f.read_chunk(entry)
            try:
                in_chunk, layers = layered_chunk_header(data, laz)
            except ValueError as exc:
                self.error("node.decode", f"node {entry.key}: {exc}")
                continue
            if in_chunk != entry.point_count:
                self.error("node.count", f"node {entry.key}: the hierarchy says {entry.point_count} points, "
                           f"its LAZ chunk holds {in_chunk}")
            expected_size = layered_chunk_size(laz, layers)
            if expected_size != entry.byte_size:
                self.error("node.chunk_size", f"node {entry.key}: the hierarchy says {entry.byte_size} bytes, "
                           f"its LAZ chunk's layers make {expected_size}")
            # Decode no more than the chunk says it holds: a corrupt count in
            # the hierarchy must not make us allocate gigabytes.
            count = min(entry.point_count, in_chunk)
            try:
                points = f.decode_chunk(data, count, laz, entry.key, dtype)
            except CopcBuilderError as exc:
                self.error("node.decode", exc.problem)
                continue
            except MemoryError:
                self.error("node.decode", f"node {entry.key}: {count} points do not fit in memory")
                continue
            if count:
                self._check_node_points(entry, points, info if has_cube else None, scale, offset, stats)
            done += entry.point_count
            self._poll(done, total)
        self.report.decoded_points = stats.count
        self._check_totals(info, stats, scale, offset)

    def _check_node_points(self, entry, points, info, scale, offset, stats: _PointStats) -> None:
        n = len(points)
        stats.count += n
        ints = [points[axis] for axis in ("X", "Y", "Z")]
        lo_int = np.array([a.min() for a in ints], dtype=np.int64)
        hi_int = np.array([a.max() for a in ints], dtype=np.int64)
        np.minimum(stats.int_min, lo_int, out=stats.int_min)
        np.maximum(stats.int_max, hi_int, out=stats.int_max)
        gps = points["gps_time"]
        gps = gps[~np.isnan(gps)]   # NaN has no place in a range (writers skip it too)
        if len(gps):
            stats.gps_min = min(stats.gps_min, float(gps.min()))
            stats.gps_max = max(stats.gps_max, float(gps.max()))
        bits = points["return_bits"]
        ret = bits & 0x0F
        stats.returns += np.bincount(ret, minlength=16)
        stats.return_above_count += int(np.count_nonzero(ret > (bits >> 4)))

        if info is None:
            return
        # x = X*scale + offset is monotone in X, so the extremes decide
        # whether any point is out; the full pass runs only for bad nodes.
        cube_lo, cube_hi = entry.key.cube(info)
        lo = lo_int * scale + offset
        hi = hi_int * scale + offset
        if np.all(lo >= cube_lo) and np.all(hi <= cube_hi):
            return
        xyz = np.stack([a * s + o for a, s, o in zip(ints, scale, offset)], axis=1)
        out = np.any((xyz < cube_lo) | (xyz > cube_hi), axis=1)
        bad = int(np.count_nonzero(out))
        stats.outside_points += bad
        stats.outside_nodes += 1
        first = xyz[np.argmax(out)]
        beyond = float(np.max(np.maximum(cube_lo - xyz[out], xyz[out] - cube_hi)))
        self.error("points.cube", f"node {entry.key}: {bad} point{'s' if bad != 1 else ''} outside its cube "
                   f"(by up to {beyond:.3g}), first at {_xyz(first)}, cube [{_xyz(cube_lo)}, {_xyz(cube_hi)}]")

    def _check_totals(self, info: CopcInfo, stats: _PointStats, scale, offset) -> None:
        h = self.h
        if stats.outside_nodes > MAX_FINDINGS_PER_CHECK:
            # The total always shows, past the per-check limit.
            self.report.findings.append(Finding(
                ERROR, "points.cube", f"in all, {stats.outside_points} points in {stats.outside_nodes} "
                "nodes lie outside their node's cube"))
        if stats.count == 0:
            return
        # Header bounds: compared in the quantized grid, so a bound written
        # as the unrounded double of the same integer still matches.
        with np.errstate(all="ignore"):
            hdr_lo = np.round((np.asarray(h.mins) - offset) / scale)
            hdr_hi = np.round((np.asarray(h.maxs) - offset) / scale)
        real_lo = stats.int_min * scale + offset
        real_hi = stats.int_max * scale + offset
        for i, axis in enumerate("xyz"):
            if hdr_lo[i] != stats.int_min[i]:
                self.error("bounds", f"header min {axis} is {_num(h.mins[i])}, the points' min {axis} "
                           f"is {_num(real_lo[i])}")
            if hdr_hi[i] != stats.int_max[i]:
                self.error("bounds", f"header max {axis} is {_num(h.maxs[i])}, the points' max {axis} "
                           f"is {_num(real_hi[i])}")
        if (info.gpstime_minimum, info.gpstime_maximum) != (stats.gps_min, stats.gps_max):
            self.error("gpstime", f"info VLR GPS time range is [{_num(info.gpstime_minimum)}, "
                       f"{_num(info.gpstime_maximum)}], the points' range is [{_num(stats.gps_min)}, "
                       f"{_num(stats.gps_max)}]")
        real = [int(c) for c in stats.returns[1:16]]
        if real != [int(c) for c in h.points_by_return]:
            self.error("counts.by_return", f"header points by return {list(h.points_by_return)}, "
                       f"the points have {real}")
        if stats.returns[0]:
            self.warning("returns", f"{int(stats.returns[0])} points have return number 0")
        if stats.return_above_count:
            self.warning("returns", f"{stats.return_above_count} points have a return number above "
                         "their number of returns")


class _NoCube(CopcInfo):
    """Info VLR whose cube is unusable: point-in-cube checks are skipped."""


def _without_cube(info: CopcInfo) -> CopcInfo:
    return _NoCube(**info.__dict__)


def wkt_problem(wkt: str) -> Optional[str]:
    """None if pyproj parses the WKT, else why not (pyproj imported lazily)."""
    try:
        import pyproj
    except ImportError:
        return None       # cannot judge; the WKT is at least non-empty
    try:
        pyproj.CRS.from_wkt(wkt)
    except Exception as exc:   # pyproj.exceptions.CRSError and friends
        return str(exc).splitlines()[0][:200]
    return None

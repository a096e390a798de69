"""Independent, test-side COPC parser.

Tests use it to check what our writer produced without trusting any of our
product code: it imports nothing from copc_builder and is written straight
from the LAS 1.4 and COPC 1.0 specs (offsets below are the specs' tables).
It reads the whole file into memory, so it is for test-sized files only.

    copc = parse_copc(path)              # header, info, hierarchy, chunk table
    for node in copc.nodes:              # every node with points, file order
        node.key, node.offset, node.byte_size, node.point_count, node.points
    cols = pdal_columns(copc, copc.all_points())   # PDAL-named columns

Malformed input raises ``CopcParseError`` with what was wrong.
"""
from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np


class CopcParseError(Exception):
    pass


# LAS 1.4 header: (name, struct format, byte offset), from the spec's table.
_HEADER_FIELDS = [
    ("signature", "4s", 0), ("file_source_id", "H", 4), ("global_encoding", "H", 6),
    ("version_major", "B", 24), ("version_minor", "B", 25), ("header_size", "H", 94),
    ("offset_to_point_data", "I", 96), ("number_of_vlrs", "I", 100),
    ("point_format_byte", "B", 104), ("point_record_length", "H", 105),
    ("legacy_point_count", "I", 107), ("legacy_points_by_return", "5I", 111),
    ("scale", "3d", 131), ("offset", "3d", 155),
    ("max_x", "d", 179), ("min_x", "d", 187), ("max_y", "d", 195), ("min_y", "d", 203),
    ("max_z", "d", 211), ("min_z", "d", 219),
    ("waveform_start", "Q", 227), ("evlr_start", "Q", 235), ("evlr_count", "I", 243),
    ("point_count", "Q", 247), ("points_by_return", "15Q", 255),
]

_BASE_SIZES = {6: 30, 7: 36, 8: 38}

# Extra-bytes data types 1..10 (LAS 1.4 table 24).
_EB_TYPES = {1: "u1", 2: "i1", 3: "<u2", 4: "<i2", 5: "<u4", 6: "<i4",
             7: "<u8", 8: "<i8", 9: "<f4", 10: "<f8"}


@dataclass
class ParsedNode:
    key: Tuple[int, int, int, int]       # (level, x, y, z)
    offset: int
    byte_size: int
    point_count: int
    points: Optional[np.ndarray] = None  # raw LAS records (see record_dtype)


@dataclass
class ParsedCopc:
    path: str
    header: Dict
    vlrs: List[Dict]                     # user_id, record_id, offset (of data), size
    evlrs: List[Dict]
    info: Dict
    laz_vlr: bytes
    wkt: Optional[str]
    extra_dims: List[Tuple[str, str]]    # (name, numpy type) in record order
    pages: List[Tuple[int, int]]         # (offset, size) of every hierarchy page
    entries: List[ParsedNode]            # every node entry (empty nodes too)
    chunk_table: List[Tuple[int, int]]   # (point count, byte size) per chunk
    dtype: np.dtype = field(repr=False, default=None)

    @property
    def nodes(self) -> List[ParsedNode]:
        """Nodes holding points, in file order (the chunk table's order)."""
        return sorted((n for n in self.entries if n.point_count > 0), key=lambda n: n.offset)

    def node(self, key) -> ParsedNode:
        for n in self.entries:
            if n.key == tuple(key):
                return n
        raise KeyError(key)

    def all_points(self) -> np.ndarray:
        parts = [n.points for n in self.nodes if n.points is not None]
        return np.concatenate(parts) if parts else np.zeros(0, self.dtype)

    def xyz(self, points: np.ndarray) -> np.ndarray:
        """(n, 3) float64 coordinates: integer * scale + offset."""
        scale = np.array(self.header["scale"])
        offset = np.array(self.header["offset"])
        return np.stack([points[a].astype(np.float64) for a in "XYZ"], axis=1) * scale + offset

    def cube(self, key) -> Tuple[np.ndarray, np.ndarray]:
        """Inclusive (min, max) of a node's cube, from the info VLR."""
        level, x, y, z = key
        side = 2 * self.info["halfsize"] / 2 ** level
        low = np.array(self.info["center"]) - self.info["halfsize"] + np.array([x, y, z]) * side
        return low, low + side


def _header(data: bytes) -> Dict:
    if len(data) < 375:
        raise CopcParseError(f"file is {len(data)} bytes, shorter than a LAS 1.4 header")
    h = {}
    for name, fmt, at in _HEADER_FIELDS:
        values = struct.unpack_from("<" + fmt, data, at)
        h[name] = values[0] if len(values) == 1 else list(values)
    if h["signature"] != b"LASF":
        raise CopcParseError(f"signature is {h['signature']!r}, not LASF")
    h["point_format"] = h["point_format_byte"] & 0x3F
    h["mins"] = [h["min_x"], h["min_y"], h["min_z"]]
    h["maxs"] = [h["max_x"], h["max_y"], h["max_z"]]
    return h


def _records(data: bytes, start: int, count: int, extended: bool) -> List[Dict]:
    out = []
    at = start
    head = 60 if extended else 54
    for _ in range(count):
        if at + head > len(data):
            raise CopcParseError(f"{'EVLR' if extended else 'VLR'} header at {at} past end of file")
        user = data[at + 2:at + 18].split(b"\0")[0].decode("ascii", "replace")
        (record_id,) = struct.unpack_from("<H", data, at + 18)
        (size,) = struct.unpack_from("<Q" if extended else "<H", data, at + 20)
        if at + head + size > len(data):
            raise CopcParseError(f"record ({user}, {record_id}) at {at} runs past end of file")
        out.append({"user_id": user, "record_id": record_id, "header_offset": at,
                    "offset": at + head, "size": size})
        at += head + size
    return out


def _info(data: bytes, vlr: Dict) -> Dict:
    if vlr["size"] != 160:
        raise CopcParseError(f"COPC info VLR is {vlr['size']} bytes, not 160")
    v = struct.unpack_from("<3d2d2Q2d11Q", data, vlr["offset"])
    return {"center": list(v[0:3]), "halfsize": v[3], "spacing": v[4],
            "root_hier_offset": v[5], "root_hier_size": v[6],
            "gpstime_minimum": v[7], "gpstime_maximum": v[8], "reserved": list(v[9:])}


def _extra_dims(data: bytes, vlrs: List[Dict], extra: int) -> List[Tuple[str, str]]:
    """Every descriptor of every Extra Bytes (E)VLR, in file order."""
    if not vlrs:
        return [("extra_bytes", f"V{extra}")] if extra else []
    dims = []
    starts = [at for vlr in vlrs for at in range(vlr["offset"], vlr["offset"] + vlr["size"], 192)]
    for at in starts:
        data_type, options = data[at + 2], data[at + 3]
        name = data[at + 4:at + 36].split(b"\0")[0].decode("ascii", "replace")
        if data_type == 0:
            dims.append((name, f"V{options}"))
        elif data_type in _EB_TYPES:
            dims.append((name, _EB_TYPES[data_type]))
        elif 11 <= data_type <= 30:
            # LAS 1.4 R13 arrays (deprecated in R15, still in real files):
            # types 11-20 are 2 values of type t-10, 21-30 are 3 of type t-20.
            count, base = (2, data_type - 10) if data_type <= 20 else (3, data_type - 20)
            dims.append((name, f"{count}{_EB_TYPES[base]}"))
        else:
            raise CopcParseError(f"extra dimension {name!r} has type {data_type}, not handled here")
    described = sum(np.dtype(t).itemsize for _, t in dims)
    if described != extra:
        raise CopcParseError(f"extra-bytes VLR describes {described} bytes, records have {extra}")
    return dims


def record_dtype(point_format: int, extra_dims: List[Tuple[str, str]]) -> np.dtype:
    """One LAS 1.4 record of format 6, 7 or 8, bit fields left packed."""
    if point_format not in _BASE_SIZES:
        raise CopcParseError(f"point format {point_format} is not 6, 7 or 8")
    names = ["X", "Y", "Z", "intensity", "returns", "flags", "classification",
             "user_data", "scan_angle", "point_source_id", "gps_time"]
    types = ["<i4", "<i4", "<i4", "<u2", "u1", "u1", "u1", "u1", "<i2", "<u2", "<f8"]
    if point_format >= 7:
        names += ["red", "green", "blue"]
        types += ["<u2"] * 3
    if point_format == 8:
        names.append("nir")
        types.append("<u2")
    for name, t in extra_dims:
        # An extra dimension may share a name with a standard field.
        names.append(name if name not in names else f"extra_{name}")
        types.append(t)
    return np.dtype({"names": names, "formats": types})


def _hierarchy(data: bytes, info: Dict) -> Tuple[List[Tuple[int, int]], List[ParsedNode]]:
    pages, entries = [], []
    queue = [(info["root_hier_offset"], info["root_hier_size"])]
    while queue:
        offset, size = queue.pop()
        if size % 32 or offset + size > len(data):
            raise CopcParseError(f"hierarchy page at {offset} ({size} bytes) is malformed")
        if (offset, size) in pages:
            raise CopcParseError(f"hierarchy page at {offset} reached twice")
        pages.append((offset, size))
        for at in range(offset, offset + size, 32):
            level, x, y, z, off, byte_size, count = struct.unpack_from("<4iQii", data, at)
            if count == -1:
                queue.append((off, byte_size))
            else:
                entries.append(ParsedNode((level, x, y, z), off, byte_size, count))
    return pages, entries


def _chunk_table(data: bytes, start: int, laz_vlr: bytes) -> List[Tuple[int, int]]:
    import lazrs

    (table_at,) = struct.unpack_from("<q", data, start)
    if not (start + 8 <= table_at <= len(data) - 8):
        raise CopcParseError(f"chunk table offset {table_at} outside the file")
    version, count = struct.unpack_from("<II", data, table_at)
    if version != 0:
        raise CopcParseError(f"chunk table version {version}, expected 0")
    stream = io.BytesIO(data)
    stream.seek(start)
    table = [(int(c), int(s)) for c, s in lazrs.read_chunk_table(stream, lazrs.LazVlr(laz_vlr))]
    if len(table) != count:
        raise CopcParseError(f"chunk table says {count} chunks, lazrs read {len(table)}")
    return table


def decode_node(data: bytes, node: ParsedNode, laz_vlr: bytes, dtype: np.dtype) -> np.ndarray:
    import lazrs

    chunk = data[node.offset:node.offset + node.byte_size]
    if len(chunk) != node.byte_size:
        raise CopcParseError(f"node {node.key}: chunk runs past the end of the file")
    out = np.zeros(node.point_count * dtype.itemsize, np.uint8)
    try:
        lazrs.decompress_points_with_chunk_table(chunk, laz_vlr, out, [(node.point_count, node.byte_size)])
    except lazrs.LazrsError as exc:
        raise CopcParseError(f"node {node.key}: {exc}") from None
    return out.view(dtype)


def parse_copc(path, decode: bool = True) -> ParsedCopc:
    data = open(path, "rb").read()
    h = _header(data)
    vlrs = _records(data, h["header_size"], h["number_of_vlrs"], extended=False)
    evlrs = _records(data, h["evlr_start"], h["evlr_count"], extended=True) if h["evlr_count"] else []

    def find(user, record, pool):
        return next((r for r in pool if r["user_id"] == user and r["record_id"] == record), None)

    info_vlr = find("copc", 1, vlrs)
    if info_vlr is None:
        raise CopcParseError("no COPC info VLR")
    info = _info(data, info_vlr)
    laz = find("laszip encoded", 22204, vlrs)
    if laz is None:
        raise CopcParseError("no LAZ VLR")
    laz_vlr = data[laz["offset"]:laz["offset"] + laz["size"]]
    wkt_vlr = find("LASF_Projection", 2112, vlrs + evlrs)
    wkt = None
    if wkt_vlr is not None:
        wkt = data[wkt_vlr["offset"]:wkt_vlr["offset"] + wkt_vlr["size"]].split(b"\0")[0].decode()
    base = _BASE_SIZES.get(h["point_format"])
    if base is None:
        raise CopcParseError(f"point format {h['point_format']} is not 6, 7 or 8")
    extra_dims = _extra_dims(data, [r for r in vlrs + evlrs if (r["user_id"], r["record_id"]) == ("LASF_Spec", 4)],
                             h["point_record_length"] - base)
    dtype = record_dtype(h["point_format"], extra_dims)
    pages, entries = _hierarchy(data, info)
    table = _chunk_table(data, h["offset_to_point_data"], laz_vlr)
    parsed = ParsedCopc(str(path), h, vlrs, evlrs, info, laz_vlr, wkt, extra_dims,
                        pages, entries, table, dtype)
    if decode:
        for node in parsed.nodes:
            node.points = decode_node(data, node, laz_vlr, dtype)
    return parsed


def pdal_columns(copc: ParsedCopc, points: np.ndarray) -> Dict[str, np.ndarray]:
    """Points as PDAL names and types them (X, Y, Z scaled to float64 ...).

    ScanAngleRank is the record's scan angle times 0.006 degrees, as PDAL
    reads formats 6-10; extra dimensions keep their names and raw values.
    """
    xyz = copc.xyz(points)
    flags = points["flags"]
    cols = {
        "X": xyz[:, 0], "Y": xyz[:, 1], "Z": xyz[:, 2],
        "Intensity": points["intensity"].astype(np.uint16),
        "ReturnNumber": (points["returns"] & 0x0F).astype(np.uint8),
        "NumberOfReturns": (points["returns"] >> 4).astype(np.uint8),
        "Synthetic": (flags & 1).astype(np.uint8),
        "KeyPoint": ((flags >> 1) & 1).astype(np.uint8),
        "Withheld": ((flags >> 2) & 1).astype(np.uint8),
        "Overlap": ((flags >> 3) & 1).astype(np.uint8),
        "ScanChannel": ((flags >> 4) & 3).astype(np.uint8),
        "ScanDirectionFlag": ((flags >> 6) & 1).astype(np.uint8),
        "EdgeOfFlightLine": ((flags >> 7) & 1).astype(np.uint8),
        "Classification": points["classification"].astype(np.uint8),
        "UserData": points["user_data"].astype(np.uint8),
        "ScanAngleRank": (points["scan_angle"] * np.float32(0.006)).astype(np.float32),
        "PointSourceId": points["point_source_id"].astype(np.uint16),
        "GpsTime": points["gps_time"].astype(np.float64),
    }
    names = points.dtype.names
    for las, pdal in (("red", "Red"), ("green", "Green"), ("blue", "Blue"), ("nir", "Infrared")):
        if las in names:
            cols[pdal] = points[las].astype(np.uint16)
    for (name, _), field_name in zip(copc.extra_dims, names[-len(copc.extra_dims):] if copc.extra_dims else []):
        cols[name] = points[field_name].copy()
    return cols

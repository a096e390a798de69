"""Read-only, byte-level view of a COPC file: LAS 1.4 header, (E)VLRs, the
COPC info and hierarchy records, the LAZ VLR and chunk table, and node
decoding.

This is the validator's and ``info``'s reader, not the writer's: it trusts
nothing and turns every malformed byte range into a ``MalformedCopcError``
that names the file, the record and the numbers, never a raw struct or lazrs
traceback.  Each binary layout lives on its type as a ``struct.Struct``.

Only headers and small records are read eagerly; hierarchy pages, the chunk
table and node chunks are read on request, so a caller decides how much
memory to use (the validator decodes one node at a time).
"""
from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Tuple

import numpy as np

from .errors import InputError

LAS14_HEADER_SIZE = 375
VLR_HEADER_SIZE = 54
EVLR_HEADER_SIZE = 60
COPC_INFO_SIZE = 160
HIERARCHY_ENTRY_SIZE = 32
VARIABLE_CHUNK_SIZE = 0xFFFFFFFF
WKT_ENCODING_BIT = 0x10          # global encoding bit 4: CRS is WKT
LAZ_FORMAT_BIT = 0x80            # set on the point format byte of LAZ files

COPC_USER = "copc"
COPC_INFO_RECORD = 1
COPC_HIERARCHY_RECORD = 1000
LAZ_USER = "laszip encoded"
LAZ_RECORD = 22204
PROJECTION_USER = "LASF_Projection"
WKT_RECORD = 2112
GEOTIFF_RECORD = 34735
SPEC_USER = "LASF_Spec"
EXTRA_BYTES_RECORD = 4

# Size of a record without extra bytes, per point data record format.
POINT_FORMAT_SIZES = {0: 20, 1: 28, 2: 26, 3: 34, 4: 57, 5: 63,
                      6: 30, 7: 36, 8: 38, 9: 59, 10: 67}
COPC_POINT_FORMATS = (6, 7, 8)

# LAZ item types and how many layers each holds in a layered (v3) chunk.
LAZ_ITEM_POINT14, LAZ_ITEM_RGB14, LAZ_ITEM_RGBNIR14 = 10, 11, 12
LAZ_ITEM_WAVEPACKET14, LAZ_ITEM_BYTE14 = 13, 14
LAZ_LAYERED_COMPRESSOR = 3


class MalformedCopcError(InputError):
    """The file's bytes do not hold what the LAS/LAZ/COPC specs say they must."""


def _text(raw: bytes) -> str:
    """A fixed-size, NUL-padded ASCII field as text."""
    return raw.split(b"\0", 1)[0].decode("ascii", errors="replace")


# --------------------------------------------------------------------------
# LAS header

@dataclass
class LasHeader:
    """The public header block, LAS 1.0 to 1.4 (1.4 fields default when absent)."""

    signature: bytes
    file_source_id: int
    global_encoding: int
    guid: bytes
    version_major: int
    version_minor: int
    system_identifier: str
    generating_software: str
    creation_day: int
    creation_year: int
    header_size: int
    offset_to_point_data: int
    number_of_vlrs: int
    point_format_byte: int
    point_record_length: int
    legacy_point_count: int
    legacy_points_by_return: Tuple[int, ...]
    scale: Tuple[float, float, float]
    offset: Tuple[float, float, float]
    mins: Tuple[float, float, float]
    maxs: Tuple[float, float, float]
    waveform_start: int = 0
    evlr_start: int = 0
    evlr_count: int = 0
    point_count: int = 0
    points_by_return: Tuple[int, ...] = (0,) * 15

    # LAS 1.0-1.2 part (227 bytes); bounds are stored max x, min x, max y, ...
    base_unpacker = struct.Struct("<4sHH16sBB32s32sHHHIIBHI5I3d3d6d")
    waveform_unpacker = struct.Struct("<Q")            # LAS 1.3, at 227
    extended_unpacker = struct.Struct("<QIQ15Q")       # LAS 1.4, at 235

    @classmethod
    def from_bytes(cls, data: bytes) -> "LasHeader":
        """Parse a header; ``data`` must hold at least its first 227 bytes."""
        if len(data) < cls.base_unpacker.size:
            raise ValueError(f"a LAS header needs {cls.base_unpacker.size} bytes, got {len(data)}")
        v = cls.base_unpacker.unpack_from(data, 0)
        bounds = v[27:33]
        header = cls(
            signature=v[0], file_source_id=v[1], global_encoding=v[2], guid=v[3],
            version_major=v[4], version_minor=v[5],
            system_identifier=_text(v[6]), generating_software=_text(v[7]),
            creation_day=v[8], creation_year=v[9], header_size=v[10],
            offset_to_point_data=v[11], number_of_vlrs=v[12],
            point_format_byte=v[13], point_record_length=v[14],
            legacy_point_count=v[15], legacy_points_by_return=tuple(v[16:21]),
            scale=tuple(v[21:24]), offset=tuple(v[24:27]),
            mins=(bounds[1], bounds[3], bounds[5]), maxs=(bounds[0], bounds[2], bounds[4]),
        )
        # Fields after the 1.2 block exist only when both the version and
        # the declared header size say so; otherwise they fall back to the
        # legacy counts, as readers of older files do.
        size = min(header.header_size, len(data))
        if header.version_minor >= 3 and size >= 235:
            (header.waveform_start,) = cls.waveform_unpacker.unpack_from(data, 227)
        if header.version_minor >= 4 and size >= LAS14_HEADER_SIZE:
            e = cls.extended_unpacker.unpack_from(data, 235)
            header.evlr_start, header.evlr_count, header.point_count = e[0], e[1], e[2]
            header.points_by_return = tuple(e[3:18])
        else:
            header.point_count = header.legacy_point_count
            header.points_by_return = tuple(header.legacy_points_by_return) + (0,) * 10
        return header

    @property
    def point_format(self) -> int:
        # The two high bits flag compression (LAZ); the format is the rest.
        return self.point_format_byte & 0x3F

    @property
    def compressed(self) -> bool:
        return bool(self.point_format_byte & LAZ_FORMAT_BIT)

    @property
    def wkt_bit(self) -> bool:
        return bool(self.global_encoding & WKT_ENCODING_BIT)

    @property
    def version(self) -> str:
        return f"{self.version_major}.{self.version_minor}"


# --------------------------------------------------------------------------
# VLRs and EVLRs

@dataclass
class Vlr:
    """One VLR or EVLR: where it is and what it says it holds."""

    user_id: str
    record_id: int
    description: str
    header_offset: int
    data_offset: int
    data_size: int
    extended: bool

    vlr_unpacker = struct.Struct("<H16sHH32s")     # 54 bytes
    evlr_unpacker = struct.Struct("<H16sHQ32s")    # 60 bytes

    @property
    def end(self) -> int:
        return self.data_offset + self.data_size

    def is_(self, user_id: str, record_id: int) -> bool:
        return self.user_id == user_id and self.record_id == record_id

    def __str__(self) -> str:
        kind = "EVLR" if self.extended else "VLR"
        return f"{kind} ({self.user_id!r}, {self.record_id}) at byte {self.header_offset}"


# --------------------------------------------------------------------------
# COPC records

@dataclass
class CopcInfo:
    """The COPC info VLR (user "copc", record 1), 160 bytes."""

    center: Tuple[float, float, float]
    halfsize: float
    spacing: float
    root_hier_offset: int
    root_hier_size: int
    gpstime_minimum: float
    gpstime_maximum: float
    reserved: Tuple[int, ...]

    unpacker = struct.Struct("<5d2Q2d11Q")

    @classmethod
    def from_bytes(cls, data: bytes) -> "CopcInfo":
        v = cls.unpacker.unpack_from(data, 0)
        return cls(center=tuple(v[0:3]), halfsize=v[3], spacing=v[4],
                   root_hier_offset=v[5], root_hier_size=v[6],
                   gpstime_minimum=v[7], gpstime_maximum=v[8], reserved=tuple(v[9:20]))


@dataclass(frozen=True, order=True)
class NodeKey:
    """An octree node: (level, x, y, z), as EPT and COPC name them."""

    level: int
    x: int
    y: int
    z: int

    def parent(self) -> "NodeKey":
        return NodeKey(self.level - 1, self.x >> 1, self.y >> 1, self.z >> 1)

    def in_range(self) -> bool:
        side = 1 << self.level if 0 <= self.level < 62 else 0
        return self.level >= 0 and all(0 <= c < side for c in (self.x, self.y, self.z))

    def cube(self, info: CopcInfo) -> Tuple[np.ndarray, np.ndarray]:
        """The node's cube (min, max), inclusive, from the info VLR.

        side = 2*halfsize / 2**level; min = center - halfsize + index*side.
        """
        side = 2.0 * info.halfsize / float(2 ** self.level)
        index = np.array([self.x, self.y, self.z], dtype=np.float64)
        lo = np.asarray(info.center, dtype=np.float64) - info.halfsize + index * side
        return lo, lo + side

    def __str__(self) -> str:
        return f"{self.level}-{self.x}-{self.y}-{self.z}"


@dataclass
class HierarchyEntry:
    """One 32-byte entry of a hierarchy page."""

    key: NodeKey
    offset: int
    byte_size: int
    point_count: int        # > 0 points, 0 empty node, -1 pointer to a child page
    page_offset: int = 0    # file offset of the page holding this entry

    unpacker = struct.Struct("<iiiiQii")

    @property
    def is_page_pointer(self) -> bool:
        return self.point_count == -1


@dataclass
class LazItem:
    item_type: int
    size: int
    version: int


@dataclass
class LazVlr:
    """The LASzip VLR (user "laszip encoded", record 22204)."""

    compressor: int
    coder: int
    version_major: int
    version_minor: int
    version_revision: int
    options: int
    chunk_size: int
    num_special_evlrs: int
    offset_special_evlrs: int
    items: List[LazItem]
    raw: bytes = field(repr=False, default=b"")

    unpacker = struct.Struct("<HHBBHIIqqH")   # 34 bytes, then num_items x item
    item_unpacker = struct.Struct("<HHH")

    @classmethod
    def from_bytes(cls, data: bytes) -> "LazVlr":
        if len(data) < cls.unpacker.size:
            raise ValueError(f"LAZ VLR holds {len(data)} bytes, needs at least {cls.unpacker.size}")
        v = cls.unpacker.unpack_from(data, 0)
        n_items = v[9]
        need = cls.unpacker.size + n_items * cls.item_unpacker.size
        if len(data) < need:
            raise ValueError(f"LAZ VLR lists {n_items} items ({need} bytes) but holds {len(data)} bytes")
        items = [LazItem(*cls.item_unpacker.unpack_from(data, cls.unpacker.size + 6 * i))
                 for i in range(n_items)]
        return cls(*v[:9], items=items, raw=bytes(data))

    @property
    def variable_chunks(self) -> bool:
        return self.chunk_size == VARIABLE_CHUNK_SIZE

    @property
    def point_size(self) -> int:
        """Bytes per decoded point, as the items describe it."""
        return sum(item.size for item in self.items)

    @property
    def layer_count(self) -> int:
        """Number of layers (each with a u32 size) in a layered chunk's header."""
        count = 0
        for item in self.items:
            if item.item_type == LAZ_ITEM_POINT14:
                count += 9
            elif item.item_type in (LAZ_ITEM_RGB14, LAZ_ITEM_WAVEPACKET14):
                count += 1
            elif item.item_type == LAZ_ITEM_RGBNIR14:
                count += 2
            elif item.item_type == LAZ_ITEM_BYTE14:
                count += item.size
        return count


@dataclass
class ExtraBytesField:
    """One 192-byte descriptor of the extra-bytes VLR (LASF_Spec, 4)."""

    data_type: int
    options: int
    name: str
    description: str
    scale: Tuple[float, float, float] = (1.0, 1.0, 1.0)
    offset: Tuple[float, float, float] = (0.0, 0.0, 0.0)

    unpacker = struct.Struct("<2sBB32s4s24s24s24s3d3d32s")   # 192 bytes

    # data_type -> (numpy base type, element count); 0 = opaque bytes
    _TYPES = {1: "u1", 2: "i1", 3: "u2", 4: "i2", 5: "u4", 6: "i4",
              7: "u8", 8: "i8", 9: "f4", 10: "f8"}

    @classmethod
    def from_bytes(cls, data: bytes, offset: int = 0) -> "ExtraBytesField":
        v = cls.unpacker.unpack_from(data, offset)
        return cls(data_type=v[1], options=v[2], name=_text(v[3]), description=_text(v[14]),
                   scale=tuple(v[8:11]), offset=tuple(v[11:14]))

    @property
    def base_type(self) -> Optional[str]:
        """numpy type of one element, None for opaque (type 0) or unknown types."""
        if 1 <= self.data_type <= 30:
            return self._TYPES[(self.data_type - 1) % 10 + 1]
        return None

    @property
    def count(self) -> int:
        # Types 11-20 are 2-element, 21-30 3-element arrays (deprecated in 1.4 R14).
        if 11 <= self.data_type <= 20:
            return 2
        if 21 <= self.data_type <= 30:
            return 3
        return 1

    @property
    def size(self) -> Optional[int]:
        """Bytes per point; for type 0 the options field holds it; None if unknown."""
        if self.data_type == 0:
            return self.options
        base = self.base_type
        return None if base is None else np.dtype(base).itemsize * self.count


@dataclass
class ChunkTable:
    """The LAZ chunk table: where it is and its (point count, byte size) pairs."""

    offset: int
    version: int
    chunks: List[Tuple[int, int]]

    header_unpacker = struct.Struct("<II")


# --------------------------------------------------------------------------
# Point records

def point_record_dtype(point_format: int, record_length: int) -> np.dtype:
    """numpy dtype of one raw LAS record of format 6, 7 or 8 (+ extra bytes).

    Bit fields stay packed ("return_bits", "flag_bits") so the array is a
    zero-copy view of the decoded bytes.
    """
    if point_format not in COPC_POINT_FORMATS:
        raise ValueError(f"point format {point_format} is not a COPC format (6, 7, 8)")
    fields = [("X", "<i4"), ("Y", "<i4"), ("Z", "<i4"), ("intensity", "<u2"),
              ("return_bits", "u1"), ("flag_bits", "u1"), ("classification", "u1"),
              ("user_data", "u1"), ("scan_angle", "<i2"), ("point_source_id", "<u2"),
              ("gps_time", "<f8")]
    if point_format in (7, 8):
        fields += [("red", "<u2"), ("green", "<u2"), ("blue", "<u2")]
    if point_format == 8:
        fields += [("nir", "<u2")]
    extra = record_length - POINT_FORMAT_SIZES[point_format]
    if extra < 0:
        raise ValueError(f"record length {record_length} is shorter than format "
                         f"{point_format}'s {POINT_FORMAT_SIZES[point_format]} bytes")
    if extra:
        fields.append(("extra_bytes", "u1", (extra,)))
    dtype = np.dtype(fields)
    assert dtype.itemsize == record_length
    return dtype


# --------------------------------------------------------------------------
# The file

class CopcFile:
    """A COPC (or plain LAS/LAZ) file opened for reading its structure.

    The header is parsed on opening (a file too short for one, or without
    the "LASF" signature, raises at once); VLRs, EVLRs and the COPC records
    are parsed on first use and raise ``MalformedCopcError`` if broken.
    """

    def __init__(self, path):
        self.path = str(path)
        try:
            self.size = os.path.getsize(self.path)
            self._file = open(self.path, "rb")
        except OSError as exc:
            raise InputError(self.path, f"cannot open: {exc.strerror or exc}") from None
        try:
            head = self._file.read(LAS14_HEADER_SIZE)
            if len(head) < LasHeader.base_unpacker.size:
                raise self.error(f"file is {self.size} bytes, too short for a LAS header "
                                 f"({LasHeader.base_unpacker.size} bytes at least)")
            if head[:4] != b"LASF":
                raise self.error(f"not a LAS file: starts with {head[:4]!r}, not b'LASF'")
            self.header = LasHeader.from_bytes(head)
        except BaseException:
            self._file.close()
            raise
        self._vlrs: Optional[List[Vlr]] = None
        self._evlrs: Optional[List[Vlr]] = None

    # -- plumbing ----------------------------------------------------------

    def error(self, problem: str) -> MalformedCopcError:
        return MalformedCopcError(self.path, problem)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "CopcFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def read_at(self, offset: int, size: int, what: str) -> bytes:
        """Exactly ``size`` bytes at ``offset``, or an error naming ``what``."""
        if offset < 0 or size < 0 or offset + size > self.size:
            raise self.error(f"{what} at bytes {offset}..{offset + size} lies outside the "
                             f"file ({self.size} bytes)")
        self._file.seek(offset)
        data = self._file.read(size)
        if len(data) != size:
            raise self.error(f"{what}: read {len(data)} of {size} bytes at {offset}")
        return data

    # -- VLRs --------------------------------------------------------------

    @property
    def vlrs(self) -> List[Vlr]:
        if self._vlrs is None:
            self._vlrs = self._read_vlrs()
        return self._vlrs

    @property
    def evlrs(self) -> List[Vlr]:
        if self._evlrs is None:
            self._evlrs = self._read_evlrs()
        return self._evlrs

    def _read_vlrs(self) -> List[Vlr]:
        h = self.header
        vlrs = []
        pos = h.header_size
        for i in range(h.number_of_vlrs):
            raw = self.read_at(pos, VLR_HEADER_SIZE, f"header of VLR {i + 1} of {h.number_of_vlrs}")
            _, user, record, length, desc = Vlr.vlr_unpacker.unpack(raw)
            vlr = Vlr(_text(user), record, _text(desc), pos, pos + VLR_HEADER_SIZE, length, False)
            if vlr.end > self.size:
                raise self.error(f"{vlr} claims {length} bytes, past the end of the file "
                                 f"({self.size} bytes)")
            vlrs.append(vlr)
            pos = vlr.end
        return vlrs

    def _read_evlrs(self) -> List[Vlr]:
        h = self.header
        evlrs = []
        if h.evlr_count == 0:
            return evlrs
        pos = h.evlr_start
        for i in range(h.evlr_count):
            raw = self.read_at(pos, EVLR_HEADER_SIZE, f"header of EVLR {i + 1} of {h.evlr_count}")
            _, user, record, length, desc = Vlr.evlr_unpacker.unpack(raw)
            vlr = Vlr(_text(user), record, _text(desc), pos, pos + EVLR_HEADER_SIZE, length, True)
            if vlr.end > self.size:
                raise self.error(f"{vlr} claims {length} bytes, past the end of the file "
                                 f"({self.size} bytes)")
            evlrs.append(vlr)
            pos = vlr.end
        return evlrs

    def find(self, user_id: str, record_id: int, extended: bool = True) -> List[Vlr]:
        """Every VLR (and EVLR, unless ``extended`` is False) with that id."""
        found = [v for v in self.vlrs if v.is_(user_id, record_id)]
        if extended:
            found += [v for v in self.evlrs if v.is_(user_id, record_id)]
        return found

    def vlr_data(self, vlr: Vlr) -> bytes:
        return self.read_at(vlr.data_offset, vlr.data_size, f"data of {vlr}")

    # -- COPC, LAZ, CRS, extra bytes -----------------------------------------

    @property
    def info_vlr(self) -> Optional[Vlr]:
        found = self.find(COPC_USER, COPC_INFO_RECORD, extended=False)
        return found[0] if found else None

    def read_info(self) -> CopcInfo:
        vlr = self.info_vlr
        if vlr is None:
            raise self.error("no COPC info VLR ('copc', 1): not a COPC file")
        if vlr.data_size < COPC_INFO_SIZE:
            raise self.error(f"COPC info VLR holds {vlr.data_size} bytes, needs {COPC_INFO_SIZE}")
        return CopcInfo.from_bytes(self.read_at(vlr.data_offset, COPC_INFO_SIZE, "COPC info VLR"))

    def read_laz_vlr(self) -> LazVlr:
        found = self.find(LAZ_USER, LAZ_RECORD, extended=False)
        if not found:
            raise self.error("no LAZ VLR ('laszip encoded', 22204): the points are not LAZ-compressed")
        try:
            return LazVlr.from_bytes(self.vlr_data(found[0]))
        except ValueError as exc:
            raise self.error(str(exc)) from None

    def read_wkt(self) -> Optional[str]:
        """The WKT of the first LASF_Projection 2112 (E)VLR, or None if absent."""
        found = self.find(PROJECTION_USER, WKT_RECORD)
        if not found:
            return None
        raw = self.vlr_data(found[0])
        return raw.split(b"\0", 1)[0].decode("utf-8", errors="replace").strip()

    def read_extra_bytes(self) -> List[ExtraBytesField]:
        found = self.find(SPEC_USER, EXTRA_BYTES_RECORD)
        if not found:
            return []
        raw = self.vlr_data(found[0])
        size = ExtraBytesField.unpacker.size
        if len(raw) % size:
            raise self.error(f"extra-bytes VLR holds {len(raw)} bytes, not a multiple of {size}")
        return [ExtraBytesField.from_bytes(raw, i) for i in range(0, len(raw), size)]

    # -- hierarchy -----------------------------------------------------------

    def read_page(self, offset: int, size: int) -> List[HierarchyEntry]:
        """The entries of one hierarchy page."""
        if size <= 0 or size % HIERARCHY_ENTRY_SIZE:
            raise self.error(f"hierarchy page at byte {offset} has size {size}, "
                             f"not a positive multiple of {HIERARCHY_ENTRY_SIZE}")
        raw = self.read_at(offset, size, "hierarchy page")
        entries = []
        for level, x, y, z, off, byte_size, count in HierarchyEntry.unpacker.iter_unpack(raw):
            entries.append(HierarchyEntry(NodeKey(level, x, y, z), off, byte_size, count, offset))
        return entries

    def walk_hierarchy(self, info: Optional[CopcInfo] = None) -> Tuple[List[Tuple[int, int]], List[HierarchyEntry]]:
        """All pages ((offset, size) in visiting order) and all node entries
        (page pointers excluded), following pointers from the root page.

        Raises on the first unreadable page or on a page reached twice.
        """
        info = info or self.read_info()
        pages: List[Tuple[int, int]] = []
        entries: List[HierarchyEntry] = []
        seen = set()
        todo = [(info.root_hier_offset, info.root_hier_size)]
        while todo:
            offset, size = todo.pop(0)
            if offset in seen:
                raise self.error(f"hierarchy page at byte {offset} is referenced twice")
            seen.add(offset)
            pages.append((offset, size))
            for entry in self.read_page(offset, size):
                if entry.is_page_pointer:
                    todo.append((entry.offset, entry.byte_size))
                else:
                    entries.append(entry)
        return pages, entries

    # -- LAZ chunk table -------------------------------------------------------

    def chunk_table_offset(self) -> int:
        """The i64 at the start of the point data: where the chunk table is."""
        start = self.header.offset_to_point_data
        (offset,) = struct.unpack("<q", self.read_at(start, 8, "chunk table offset"))
        return offset

    def read_chunk_table(self, laz: Optional[LazVlr] = None) -> ChunkTable:
        laz = laz or self.read_laz_vlr()
        offset = self.chunk_table_offset()
        if offset == -1:
            raise self.error("chunk table offset is -1: the writer never filled it in")
        if offset < self.header.offset_to_point_data + 8:
            raise self.error(f"chunk table offset {offset} points before the point data "
                             f"(which starts at byte {self.header.offset_to_point_data})")
        version, count = ChunkTable.header_unpacker.unpack(self.read_at(offset, 8, "chunk table header"))
        if version != 0:
            raise self.error(f"chunk table at byte {offset} has version {version}, expected 0")
        if count == 0:
            return ChunkTable(offset, version, [])
        import io

        import lazrs

        # The pairs are arithmetic-coded; lazrs decodes them.  It wants the
        # stream at the start of the point data and seeks by itself.  Give it
        # only the bytes it may need (the rest of the file from the table on)
        # so a lying count cannot make it read forever.
        # An arithmetic-coded pair never takes more than a few bytes; bound
        # the read so a lying count cannot pull in the whole file.
        tail_size = min(self.size - offset, 8 + 32 * count + 1024)
        tail = self.read_at(offset, tail_size, "chunk table")
        buf = io.BytesIO(struct.pack("<q", 8) + tail)
        try:
            chunks = lazrs.read_chunk_table(buf, lazrs.LazVlr(laz.raw))
        except Exception as exc:   # lazrs raises LazrsError, or ValueError on bad VLRs
            raise self.error(f"chunk table at byte {offset} ({count} chunks) cannot be "
                             f"decoded: {exc}") from None
        chunks = [(int(c), int(s)) for c, s in chunks]
        if len(chunks) != count:
            raise self.error(f"chunk table at byte {offset} says {count} chunks, "
                             f"decoded {len(chunks)}")
        return ChunkTable(offset, version, chunks)

    # -- nodes -------------------------------------------------------------------

    def point_dtype(self) -> np.dtype:
        h = self.header
        try:
            return point_record_dtype(h.point_format, h.point_record_length)
        except ValueError as exc:
            raise self.error(str(exc)) from None

    def read_chunk(self, entry: HierarchyEntry) -> bytes:
        return self.read_at(entry.offset, entry.byte_size, f"LAZ chunk of node {entry.key}")

    def decode_chunk(self, data: bytes, count: int, laz: LazVlr, key: NodeKey,
                     dtype: Optional[np.dtype] = None) -> np.ndarray:
        """``count`` raw records decoded from one node's LAZ chunk."""
        import lazrs

        dtype = dtype or self.point_dtype()
        if laz.point_size != dtype.itemsize:
            raise self.error(f"LAZ items describe {laz.point_size}-byte points, the header "
                             f"says {dtype.itemsize} bytes")
        out = np.zeros(count * dtype.itemsize, dtype=np.uint8)
        try:
            lazrs.decompress_points_with_chunk_table(bytes(data), laz.raw, out, [(count, len(data))])
        except Exception as exc:
            raise self.error(f"node {key}: its LAZ chunk ({len(data)} bytes) does not decode "
                             f"to {count} points: {exc}") from None
        return out.view(dtype)

    def decode_node(self, entry: HierarchyEntry, laz: Optional[LazVlr] = None,
                    dtype: Optional[np.dtype] = None) -> np.ndarray:
        laz = laz or self.read_laz_vlr()
        if entry.point_count <= 0:
            return np.zeros(0, dtype=dtype or self.point_dtype())
        return self.decode_chunk(self.read_chunk(entry), entry.point_count, laz, entry.key, dtype)

    def iter_nodes(self) -> Iterator[Tuple[HierarchyEntry, np.ndarray]]:
        """(entry, points) for every non-empty node, in file order."""
        laz = self.read_laz_vlr()
        dtype = self.point_dtype()
        _, entries = self.walk_hierarchy()
        for entry in sorted((e for e in entries if e.point_count > 0), key=lambda e: e.offset):
            yield entry, self.decode_node(entry, laz, dtype)


def layered_chunk_header(data: bytes, laz: LazVlr) -> Tuple[int, List[int]]:
    """(point count, layer sizes) from the head of a layered (LAZ 1.4) chunk.

    Such a chunk starts with its first point raw, then a u32 point count and
    one u32 size per layer; so the chunk itself says how many points it holds
    and how long it is, which the hierarchy and the chunk table must repeat.
    """
    raw = laz.point_size
    layers = laz.layer_count
    need = raw + 4 + 4 * layers
    if len(data) < need:
        raise ValueError(f"chunk is {len(data)} bytes, shorter than its own header ({need} bytes)")
    (count,) = struct.unpack_from("<I", data, raw)
    sizes = list(struct.unpack_from(f"<{layers}I", data, raw + 4))
    return count, sizes


def layered_chunk_size(laz: LazVlr, layer_sizes: List[int]) -> int:
    return laz.point_size + 4 + 4 * len(layer_sizes) + sum(layer_sizes)


def is_copc(path) -> bool:
    """True when the file's first VLR is the COPC info VLR (cheap: 429 bytes)."""
    try:
        with open(path, "rb") as f:
            head = f.read(LAS14_HEADER_SIZE + VLR_HEADER_SIZE)
    except OSError:
        return False
    return (len(head) == LAS14_HEADER_SIZE + VLR_HEADER_SIZE and head[:4] == b"LASF"
            and head[377:381] == b"copc" and head[393:395] == b"\x01\x00")


def level_counts(entries: List[HierarchyEntry]) -> Dict[int, Tuple[int, int]]:
    """level -> (nodes, points), over node entries (pointers excluded)."""
    out: Dict[int, List[int]] = {}
    for e in entries:
        if e.is_page_pointer:
            continue
        row = out.setdefault(e.key.level, [0, 0])
        row[0] += 1
        row[1] += max(e.point_count, 0)
    return {level: (n, p) for level, (n, p) in sorted(out.items())}

"""The LAS public header block: read from LAS 1.0 to 1.4, written as LAS 1.4."""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Tuple

from .record_ids import (GPS_STANDARD_BIT, LAS12_HEADER_SIZE, LAS14_HEADER_SIZE, LAZ_FORMAT_BIT, WKT_ENCODING_BIT,
                         padded, text_field)


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
    assert base_unpacker.size == LAS12_HEADER_SIZE
    assert LAS12_HEADER_SIZE + waveform_unpacker.size + extended_unpacker.size == LAS14_HEADER_SIZE

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
            system_identifier=text_field(v[6]), generating_software=text_field(v[7]),
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
        if header.version_minor >= 3 and size >= LAS12_HEADER_SIZE + cls.waveform_unpacker.size:
            (header.waveform_start,) = cls.waveform_unpacker.unpack_from(data, LAS12_HEADER_SIZE)
        if header.version_minor >= 4 and size >= LAS14_HEADER_SIZE:
            e = cls.extended_unpacker.unpack_from(data, LAS12_HEADER_SIZE + cls.waveform_unpacker.size)
            header.evlr_start, header.evlr_count, header.point_count = e[0], e[1], e[2]
            header.points_by_return = tuple(e[3:18])
        else:
            header.point_count = header.legacy_point_count
            header.points_by_return = tuple(header.legacy_points_by_return) + (0,) * 10
        return header

    def to_bytes(self) -> bytes:
        """The 375 bytes of a LAS 1.4 header with these fields."""
        mins, maxs = self.mins, self.maxs
        base = self.base_unpacker.pack(
            self.signature, self.file_source_id, self.global_encoding, self.guid,
            self.version_major, self.version_minor,
            padded(self.system_identifier, 32), padded(self.generating_software, 32),
            self.creation_day, self.creation_year, self.header_size, self.offset_to_point_data,
            self.number_of_vlrs, self.point_format_byte, self.point_record_length,
            self.legacy_point_count, *self.legacy_points_by_return, *self.scale, *self.offset,
            maxs[0], mins[0], maxs[1], mins[1], maxs[2], mins[2])
        return (base + self.waveform_unpacker.pack(self.waveform_start)
                + self.extended_unpacker.pack(self.evlr_start, self.evlr_count, self.point_count,
                                              *self.points_by_return))

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
    def gps_standard(self) -> bool:
        return bool(self.global_encoding & GPS_STANDARD_BIT)

    @property
    def version(self) -> str:
        return f"{self.version_major}.{self.version_minor}"

"""One VLR or EVLR: its header record, and where its data lies in a file."""
from __future__ import annotations

import struct
from dataclasses import dataclass

from .record_ids import EVLR_HEADER_SIZE, VLR_HEADER_SIZE, padded, text_field


@dataclass
class Vlr:
    """One VLR or EVLR: its ids, and where its header and data are."""

    user_id: str
    record_id: int
    description: str
    header_offset: int
    data_offset: int
    data_size: int
    extended: bool

    vlr_unpacker = struct.Struct("<H16sHH32s")
    evlr_unpacker = struct.Struct("<H16sHQ32s")
    assert (vlr_unpacker.size, evlr_unpacker.size) == (VLR_HEADER_SIZE, EVLR_HEADER_SIZE)

    @classmethod
    def header_size(cls, extended: bool) -> int:
        return EVLR_HEADER_SIZE if extended else VLR_HEADER_SIZE

    @classmethod
    def from_bytes(cls, raw: bytes, header_offset: int, extended: bool) -> "Vlr":
        """The record whose header ``raw`` was read at ``header_offset``."""
        unpacker = cls.evlr_unpacker if extended else cls.vlr_unpacker
        _, user, record, length, desc = unpacker.unpack_from(raw, 0)
        start = header_offset + unpacker.size
        return cls(text_field(user), record, text_field(desc), header_offset, start, length, extended)

    @classmethod
    def new(cls, user_id: str, record_id: int, description: str, data_size: int, extended: bool) -> "Vlr":
        """A record to write (where it lands is not known yet)."""
        return cls(user_id, record_id, description, 0, 0, data_size, extended)

    def to_bytes(self) -> bytes:
        """The record's header (reserved 0, ids, data length, description)."""
        packer = self.evlr_unpacker if self.extended else self.vlr_unpacker
        return packer.pack(0, padded(self.user_id, 16), self.record_id, self.data_size,
                           padded(self.description, 32))

    @property
    def end(self) -> int:
        return self.data_offset + self.data_size

    def is_(self, user_id: str, record_id: int) -> bool:
        return self.user_id == user_id and self.record_id == record_id

    def __str__(self) -> str:
        kind = "EVLR" if self.extended else "VLR"
        return f"{kind} ({self.user_id!r}, {self.record_id}) at byte {self.header_offset}"

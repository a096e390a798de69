"""One VLR or EVLR: its ids, and where its header and data lie in the file."""
from __future__ import annotations

import struct
from dataclasses import dataclass


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

"""The Extra Bytes VLR (LASF_Spec, 4): one 192-byte descriptor per extra dimension.

``no_data``, ``min`` and ``max`` are typed by ``data_type``.  LAS 1.4 R15
(and R16), section "Extra Bytes": "If the selected data_type is less than 8
bytes, the no_data, min, and max fields should be upcast into 8-byte storage.
For any float these 8 bytes would be upcast to a double, for any uint8_t,
uint16_t, or uint32_t they would be upcast to a uint64_t and for any int8_t,
int16_t, or int32_t, they would be upcast to a int64_t."  The deprecated
array types 11-30 (R13) hold one such 8-byte value per element, in the
field's 24 bytes.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import List, Optional, Tuple

import numpy as np

from .record_ids import padded, text_field

# data_type -> numpy base type; types 11-30 (deprecated in 1.4 R14) are 2- and 3-element arrays of these.
_BASE_TYPES = {1: "u1", 2: "i1", 3: "u2", 4: "i2", 5: "u4", 6: "i4", 7: "u8", 8: "i8", 9: "f4", 10: "f8"}
# The 8-byte type no_data, min and max are stored in, by the base type's kind.
_STORAGE_TYPES = {"u": np.dtype("<u8"), "i": np.dtype("<i8"), "f": np.dtype("<f8")}
DESCRIPTOR_SIZE = 192
# The options bits (LAS 1.4, "Encoding of options Bit Field").
NO_DATA_BIT, MIN_BIT, MAX_BIT, SCALE_BIT, OFFSET_BIT = 0x01, 0x02, 0x04, 0x08, 0x10
# Where the 24-byte no_data, min and max fields lie in a descriptor.
NO_DATA_AT, MIN_AT, MAX_AT = 40, 64, 88


@dataclass
class ExtraBytesField:
    """One descriptor.  ``no_data``, ``min`` and ``max`` stay raw (3 x 8 bytes
    each) because their type depends on ``data_type``."""

    data_type: int
    options: int
    name: str
    description: str
    scale: Tuple[float, float, float] = (1.0, 1.0, 1.0)
    offset: Tuple[float, float, float] = (0.0, 0.0, 0.0)
    no_data: bytes = bytes(24)
    min: bytes = bytes(24)
    max: bytes = bytes(24)
    reserved: bytes = bytes(2)
    unused: bytes = bytes(4)

    unpacker = struct.Struct("<2sBB32s4s24s24s24s3d3d32s")
    assert unpacker.size == DESCRIPTOR_SIZE

    @classmethod
    def from_bytes(cls, data: bytes, offset: int = 0) -> "ExtraBytesField":
        v = cls.unpacker.unpack_from(data, offset)
        return cls(data_type=v[1], options=v[2], name=text_field(v[3]), description=text_field(v[14]),
                   scale=tuple(v[8:11]), offset=tuple(v[11:14]), no_data=v[5], min=v[6], max=v[7],
                   reserved=v[0], unused=v[4])

    def to_bytes(self) -> bytes:
        return self.unpacker.pack(self.reserved, self.data_type, self.options, padded(self.name, 32), self.unused,
                                  self.no_data, self.min, self.max, *self.scale, *self.offset,
                                  padded(self.description, 32))

    @property
    def base_type(self) -> Optional[str]:
        """numpy type of one element, None for opaque (type 0) or unknown types."""
        if 1 <= self.data_type <= 30:
            return _BASE_TYPES[(self.data_type - 1) % 10 + 1]
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

    @property
    def storage_type(self) -> Optional[np.dtype]:
        """The 8-byte type of no_data, min and max (uint64, int64 or double);
        None for opaque (type 0) or unknown types."""
        base = self.base_type
        return None if base is None else _STORAGE_TYPES[np.dtype(base).kind]

    def typed(self, which: str) -> Optional[np.ndarray]:
        """``no_data``, ``min`` or ``max`` as ``count`` values of the storage
        type, or None when its options bit is not set or the type has none."""
        bit = {"no_data": NO_DATA_BIT, "min": MIN_BIT, "max": MAX_BIT}[which]
        storage = self.storage_type
        if storage is None or not self.options & bit:
            return None
        return np.frombuffer(getattr(self, which), storage, self.count).copy()


def written_descriptors(given: bytes) -> List[bytes]:
    """An input's descriptor as an output carries it: as given, but in the
    form every reader of LAS 1.4 R15 takes.

    - A deprecated array type (11-30) becomes one descriptor per member, of
      the base type, named ``name[i]``: R15 deprecated them "to simplify
      implementation" and says "Multiple sequential "extra byte" records can
      compose an array of associated values. It is recommended that each
      member's name be consistent with other members, only varying by an
      index number wrapped in square brackets" (copc.js refuses types 11-30).
      Member i's no_data, min, max, scale and offset are the array's i-th.
    - An integer no_data, min or max that its data type cannot hold (a
      uint16 with no_data 0xFFFFFFFFFFFFFFFF) is taken as the data type's
      bytes, the low ones, as a C cast does: "for any uint8_t, uint16_t, or
      uint32_t they would be upcast to a uint64_t" holds only values of the
      type (copc.js refuses integers beyond 2^53).
    The point records do not change: the members lie where the array lay.
    """
    field = ExtraBytesField.from_bytes(given)
    if field.count == 1:
        return [_fitted(field, given)]
    base = (field.data_type - 1) % 10 + 1
    out = []
    for i in range(field.count):
        index = f"[{i}]"
        member = ExtraBytesField(
            data_type=base, options=field.options, name=field.name.encode("ascii", "replace")[:32 - len(index)]
            .decode("ascii") + index, description=field.description,
            scale=(field.scale[i], 0.0, 0.0), offset=(field.offset[i], 0.0, 0.0),
            no_data=_member(field.no_data, i), min=_member(field.min, i), max=_member(field.max, i),
            reserved=field.reserved, unused=field.unused)
        out.append(_fitted(member, member.to_bytes()))
    return out


def _member(values: bytes, i: int) -> bytes:
    return values[8 * i:8 * i + 8] + bytes(16)


def _fitted(field: ExtraBytesField, raw: bytes) -> bytes:
    """``raw`` with every set integer no_data/min/max brought into its data type's range."""
    base = field.base_type
    if base is None or np.dtype(base).kind == "f":
        return raw
    fitted = bytearray(raw)
    base_type, storage = np.dtype("<" + base), field.storage_type
    for bit, at in ((NO_DATA_BIT, NO_DATA_AT), (MIN_BIT, MIN_AT), (MAX_BIT, MAX_AT)):
        if field.options & bit:
            value = np.frombuffer(raw, storage, 1, at)[0]
            limits = np.iinfo(base_type)
            if not limits.min <= int(value) <= limits.max:
                low = np.frombuffer(raw, base_type, 1, at)[0]          # little-endian: the low bytes
                fitted[at:at + 8] = np.asarray(low, storage).tobytes()
    return bytes(fitted)


def parse_descriptors(raw: bytes) -> List[ExtraBytesField]:
    """Every descriptor of an Extra Bytes VLR's data (a multiple of 192 bytes)."""
    if len(raw) % DESCRIPTOR_SIZE:
        raise ValueError(f"extra-bytes VLR holds {len(raw)} bytes, not a multiple of {DESCRIPTOR_SIZE}")
    return [ExtraBytesField.from_bytes(raw, at) for at in range(0, len(raw), DESCRIPTOR_SIZE)]

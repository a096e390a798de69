"""``CopcFile``, the reader: the header parsed on opening; (E)VLRs and the
COPC, LAZ, CRS and extra-bytes records read on request (the hierarchy, the
chunk table and the nodes come from ``CopcFileNodes``).  And ``is_copc``, the
cheap test on the first 429 bytes.
"""
from __future__ import annotations

import os
from typing import List, Optional

from ..common.errors import CopcBuilderError, InputError, MalformedCopcError
from ..format import (COPC_INFO_RECORD, COPC_INFO_SIZE, COPC_USER, EXTRA_BYTES_RECORD, LAS12_HEADER_SIZE,
                      LAS14_HEADER_SIZE, LAZ_RECORD, LAZ_USER, PROJECTION_USER, SPEC_USER, VLR_HEADER_SIZE,
                      WKT_RECORD, CopcInfo, ExtraBytesField, LasHeader, LazVlr, Vlr, parse_descriptors)
from ..storage.urls import is_url
from .nodes import CopcFileNodes


class CopcFile(CopcFileNodes):
    """A COPC (or plain LAS/LAZ) file opened for reading its structure.

    The header is parsed on opening (a file too short for one, or without
    the "LASF" signature, raises at once); VLRs, EVLRs and the COPC records
    are parsed on first use and raise ``MalformedCopcError`` if broken.
    """

    def __init__(self, path, storage=None):
        self.path = str(path)
        self.transfers = None      # a remote file's: the requests and bytes read
        if is_url(self.path):
            self._file = _open_remote(self.path, storage)
            self.path, self.size, self.transfers = self._file.name, self._file.size, self._file.transfers
        else:
            try:
                self.size = os.path.getsize(self.path)
                self._file = open(self.path, "rb")
            except OSError as exc:
                raise InputError(self.path, f"cannot open: {exc.strerror or exc}") from None
        try:
            head = self._file.read(LAS14_HEADER_SIZE)
            if len(head) < LAS12_HEADER_SIZE:
                raise self.error(f"file is {self.size} bytes, too short for a LAS header "
                                 f"({LAS12_HEADER_SIZE} bytes at least)")
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

    def raw_file(self):
        """The file object at byte 0, for a reader of its own (laspy); ``read_at`` seeks anyway."""
        self._file.seek(0)
        return self._file

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
        return self._read_records(h.header_size, h.number_of_vlrs, False)

    def _read_evlrs(self) -> List[Vlr]:
        h = self.header
        return self._read_records(h.evlr_start, h.evlr_count, True) if h.evlr_count else []

    def _read_records(self, pos: int, count: int, extended: bool) -> List[Vlr]:
        """The chain of ``count`` VLRs (or EVLRs) starting at ``pos``."""
        size = Vlr.header_size(extended)
        kind = "EVLR" if extended else "VLR"
        records = []
        for i in range(count):
            raw = self.read_at(pos, size, f"header of {kind} {i + 1} of {count}")
            vlr = Vlr.from_bytes(raw, pos, extended)
            if vlr.end > self.size:
                raise self.error(f"{vlr} claims {vlr.data_size} bytes, past the end of the file "
                                 f"({self.size} bytes)")
            records.append(vlr)
            pos = vlr.end
        return records

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
        """The descriptors of every Extra Bytes (E)VLR, in file order (a file
        may describe its extra bytes in several: PDAL writes one per dimension)."""
        fields: List[ExtraBytesField] = []
        for vlr in self.find(SPEC_USER, EXTRA_BYTES_RECORD):
            try:
                fields += parse_descriptors(self.vlr_data(vlr))
            except ValueError as exc:
                raise self.error(f"{vlr}: {exc}") from None
        return fields



def _open_remote(url: str, storage):
    """An s3:// or http(s):// COPC as a ``RangeFile``: only what is asked is read."""
    from ..storage.remote import open_range_file
    from ..storage.storage_options import storage_options

    return open_range_file(url, storage_options(storage))


def is_copc(path, storage=None) -> bool:
    """True when the file's first VLR is the COPC info VLR (cheap: 429 bytes)."""
    try:
        if is_url(str(path)):
            with _open_remote(str(path), storage) as f:
                head = f.read(LAS14_HEADER_SIZE + VLR_HEADER_SIZE)
        else:
            with open(path, "rb") as f:
                head = f.read(LAS14_HEADER_SIZE + VLR_HEADER_SIZE)
    except (OSError, CopcBuilderError):
        return False
    if len(head) != LAS14_HEADER_SIZE + VLR_HEADER_SIZE or head[:4] != b"LASF":
        return False
    return Vlr.from_bytes(head[LAS14_HEADER_SIZE:], LAS14_HEADER_SIZE, False).is_(COPC_USER, COPC_INFO_RECORD)


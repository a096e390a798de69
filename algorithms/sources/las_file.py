"""A LAS/LAZ file as a source of raw point records, streamed in chunks.

Opening reads the header only and turns every problem into an InputError
that names the file.  ``chunks()`` yields the file's raw records as a uint8
array (n, record_length); the converter in ``las_records.py`` maps them to
the node store's columns.
"""
from __future__ import annotations

import contextlib
import os
import struct
import sys
import tempfile
from dataclasses import dataclass
from typing import Iterator, List, Optional, Tuple

import numpy as np

from ..errors import InputError
from ..point_layout import ExtraDim
from ..timing import TIMINGS

WAVEFORM_FORMATS = (4, 5, 9, 10)
LEGACY_FORMATS = (0, 1, 2, 3, 4, 5)
# Size of the standard part of each point format (no extra bytes).
STANDARD_SIZE = {0: 20, 1: 28, 2: 26, 3: 34, 4: 57, 5: 63, 6: 30, 7: 36, 8: 38, 9: 59, 10: 67}
GPS_OFFSET = {1: 20, 3: 20, 4: 20, 5: 20, 6: 22, 7: 22, 8: 22, 9: 22, 10: 22}
RGB_OFFSET = {2: 20, 3: 28, 5: 28, 7: 30, 8: 30, 10: 30}
NIR_OFFSET = {8: 36, 10: 36}


def _reraise_fatal(exc: BaseException) -> None:
    # lazrs can raise a Rust panic (a BaseException); anything but a real
    # interrupt becomes an input error.
    if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
        raise exc


@dataclass
class SourceInfo:
    """What the builder needs to know of an input before reading its points."""

    path: str                 # file path, or a name for arrays and pipelines
    point_format: int         # LAS point format (arrays: 6, 7 or 8 by their colours)
    point_count: int          # what the header says (0: unknown)
    scales: Optional[np.ndarray]     # (3,) float64, None: no frame of its own
    offsets: Optional[np.ndarray]
    mins: Optional[np.ndarray]       # bounds, None when unknown
    maxs: Optional[np.ndarray]
    extra: Tuple[ExtraDim, ...]
    crs_wkt: Optional[str]
    crs_note: Optional[str]   # why there is no CRS, or how it was derived
    # "header" (may lie), "exact" (computed from every point), "partial"
    # (first chunk of a stream: good for an offset, not for the cube)
    bounds_kind: str = "header"
    gps_standard: bool = True # global encoding bit 0 (adjusted standard GPS time)
    creation: Tuple[int, int] = (0, 0)   # (day of year, year)
    file_source_id: int = 0
    # LAS files only
    version: str = ""
    record_length: int = 0
    extra_offsets: Tuple[int, ...] = ()  # byte offset of each extra dim in the input record
    compressed: bool = False
    laz_backend: str = ""     # "parallel" (chunked LAZ), "sequential" (point-wise) or ""


LasHeaderInfo = SourceInfo


class LasFile:
    """One LAS/LAZ input file."""

    def __init__(self, path: str):
        self.path = os.fspath(path)
        self.info = _read_header(self.path)
        self.warnings: List[str] = []
        self._real_count = _count_points_in_file(self.path, self.info, self.warnings)

    @property
    def point_count(self) -> int:
        return self._real_count

    def converter(self, layout, scales, offsets):
        from .las_records import RecordConverter

        return RecordConverter(self.info, layout, scales, offsets)

    def chunks(self, chunk_points: int) -> Iterator[np.ndarray]:
        """Yield raw records (n, record_length) uint8, every point exactly once."""
        import laspy

        info = self.info
        expected = self._real_count
        done = 0
        backend = (laspy.LazBackend.Lazrs if info.laz_backend == "sequential"
                   else laspy.LazBackend.LazrsParallel)
        try:
            with laspy.open(self.path, laz_backend=backend) as reader:
                reader.header.point_count = expected   # may exceed the header's claim
                while done < expected:
                    want = min(chunk_points, expected - done)
                    try:
                        with TIMINGS("read.decode"), quiet_stderr():
                            points = reader.read_points(want)
                    except BaseException as exc:  # lazrs errors and panics
                        _reraise_fatal(exc)
                        raise InputError(
                            self.path,
                            f"cannot decode points {done:,} to {done + want - 1:,} of the "
                            f"{expected:,} its header announces ({_short(exc)}); the file is damaged "
                            f"or holds fewer points than its header says",
                        ) from None
                    got = len(points)
                    if got != want:
                        raise InputError(
                            self.path,
                            f"header says {info.point_count:,} points, file holds {done + got:,}",
                        )
                    array = points.array
                    yield array.view(np.uint8).reshape(got, info.record_length)
                    done += got
        except InputError:
            raise
        except BaseException as exc:
            _reraise_fatal(exc)
            raise InputError(self.path, f"cannot read the point data ({_short(exc)})") from None


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    text = text[0] if text else ""
    name = type(exc).__name__
    return f"{name}: {text}" if text else name


def _read_header(path: str) -> LasHeaderInfo:
    if not os.path.exists(path):
        raise InputError(path, "file not found")
    if os.path.isdir(path):
        raise InputError(path, "is a folder, not a LAS/LAZ file")
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError as exc:
        raise InputError(path, f"cannot open ({exc.strerror})") from None
    if magic != b"LASF":
        raise InputError(path, "not a LAS/LAZ file (no LASF signature)")
    _check_raw_header(path)

    import laspy

    try:
        with laspy.open(path) as reader:
            header = reader.header
    except BaseException as exc:
        _reraise_fatal(exc)
        raise InputError(path, f"unreadable LAS header or VLRs ({_short(exc)})") from None

    pf = header.point_format
    if pf.id not in STANDARD_SIZE:
        raise InputError(path, f"point format {pf.id} is not a LAS point format")
    record_length = pf.size
    extra, extra_offsets = _extra_dims(path, header)
    crs_wkt, crs_note = _crs_of(header)
    laz_backend = _laz_backend(path, header) if header.are_points_compressed else ""
    ge = header.global_encoding
    date = header.creation_date
    creation = (date.timetuple().tm_yday, date.year) if date is not None else (0, 0)
    return LasHeaderInfo(
        path=path,
        version=f"{header.version.major}.{header.version.minor}",
        point_format=pf.id,
        record_length=record_length,
        point_count=int(header.point_count),
        scales=np.asarray(header.scales, np.float64).copy(),
        offsets=np.asarray(header.offsets, np.float64).copy(),
        mins=np.asarray(header.mins, np.float64).copy(),
        maxs=np.asarray(header.maxs, np.float64).copy(),
        extra=extra,
        extra_offsets=extra_offsets,
        crs_wkt=crs_wkt,
        crs_note=crs_note,
        gps_standard=bool(getattr(ge, "gps_time_type", 0)),
        compressed=bool(header.are_points_compressed),
        laz_backend=laz_backend,
        creation=creation,
        file_source_id=int(header.file_source_id),
    )


def _laz_backend(path, header) -> str:
    """How lazrs can decode this LAZ, from its laszip VLR; refuse what it cannot."""
    vlrs = [v for v in header.vlrs if v.user_id == "laszip encoded" and v.record_id == 22204]
    if not vlrs:
        raise InputError(path, "is compressed but has no laszip VLR")
    data = bytes(vlrs[0].record_data)
    if len(data) < 34:
        raise InputError(path, f"its laszip VLR is {len(data)} bytes, too short")
    compressor, _coder, major, minor, revision, _options, chunk_size = struct.unpack_from("<HHBBHII", data)
    if compressor in (2, 3):   # point-wise chunked, layered chunked
        return "parallel"
    if compressor == 1 and chunk_size != 0:
        return "sequential"   # point-wise: lazrs decodes it, but not in parallel
    raise InputError(
        path, f"is compressed by LASzip {major}.{minor}r{revision} with compressor {compressor} "
              f"and chunk size {chunk_size}, which lazrs cannot decode; re-compress it with a "
              f"current laszip or PDAL first")


_RAW_HEADER = struct.Struct("<4s20xBB68xHIIBH")   # signature .. point record length


def _check_raw_header(path: str) -> None:
    """Refuse headers whose sizes cannot be true before laspy trusts them
    (a damaged offset can make a reader allocate gigabytes)."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        raw = f.read(_RAW_HEADER.size)
    if len(raw) < _RAW_HEADER.size:
        raise InputError(path, f"is truncated: {size:,} bytes, shorter than a LAS header")
    _, major, minor, header_size, data_offset, vlr_count, fmt, record_length = _RAW_HEADER.unpack(raw)
    if major != 1 or minor > 4:
        raise InputError(path, f"damaged LAS header: version {major}.{minor} is not LAS 1.0-1.4")
    if not 227 <= header_size <= data_offset:
        raise InputError(path, f"damaged LAS header: header size {header_size:,} with point data "
                               f"at byte {data_offset:,}")
    if data_offset > size:
        raise InputError(path, f"damaged LAS header: point data at byte {data_offset:,}, past the "
                               f"end of the file ({size:,} bytes)")
    if vlr_count * 54 > data_offset - header_size:
        raise InputError(path, f"damaged LAS header: {vlr_count:,} VLRs cannot fit in the "
                               f"{data_offset - header_size:,} bytes before the point data")
    if (fmt & 0x3F) > 10:
        raise InputError(path, f"damaged LAS header: point format {fmt & 0x3F} does not exist")
    if record_length < STANDARD_SIZE[fmt & 0x3F]:
        raise InputError(path, f"damaged LAS header: point records of {record_length} bytes are "
                               f"shorter than format {fmt & 0x3F} needs")


def _extra_dims(path, header) -> Tuple[Tuple[ExtraDim, ...], Tuple[int, ...]]:
    from laspy.vlrs.known import ExtraBytesStruct, ExtraBytesVlr

    pf = header.point_format
    structs = {}
    for vlr in header.vlrs:
        if isinstance(vlr, ExtraBytesVlr):
            for s in vlr.extra_bytes_structs:
                structs[s.name.rstrip(b"\0").decode("ascii", "replace")] = bytes(s)
    dims: List[ExtraDim] = []
    offsets: List[int] = []
    offset = STANDARD_SIZE[pf.id]
    for d in pf.extra_dimensions:
        size = int(d.num_bits // 8)
        dtype = np.dtype(d.dtype)
        desc = structs.get(d.name)
        if desc is None:
            # No descriptor (unregistered extra bytes): describe them as
            # "undocumented extra bytes" (type 0) of their size.
            s = ExtraBytesStruct(name=d.name.encode()[:32], data_type=(0, size),
                                 description=b"kept from input")
            desc = bytes(s)
        dims.append(ExtraDim(name=d.name, size=size, dtype=dtype.str if dtype.shape == () else
                             f"{dtype.shape[0]}{dtype.base.str}", struct=desc))
        offsets.append(offset)
        offset += size
    if offset != pf.size:
        raise InputError(path, f"extra-bytes descriptions ({offset} bytes) do not match the "
                               f"point record length ({pf.size})")
    return tuple(dims), tuple(offsets)


def _crs_of(header) -> Tuple[Optional[str], Optional[str]]:
    """WKT of the input's CRS: the WKT VLR verbatim, else from GeoTIFF keys."""
    from laspy.vlrs.known import GeoKeyDirectoryVlr, WktCoordinateSystemVlr

    wkt_vlrs = [v for v in header.vlrs if isinstance(v, WktCoordinateSystemVlr)]
    wkt_vlrs += [v for v in getattr(header, "evlrs", None) or [] if isinstance(v, WktCoordinateSystemVlr)]
    for v in wkt_vlrs:
        text = (v.string or "").strip().strip("\0").strip()
        if "[" in text:   # anything shorter is not WKT ('' and "" occur in real files)
            return text, None
    has_geotiff = any(isinstance(v, GeoKeyDirectoryVlr) for v in header.vlrs)
    if wkt_vlrs and not has_geotiff:
        return None, "its WKT VLR holds no WKT"
    if has_geotiff:
        try:
            crs = header.parse_crs()
        except BaseException as exc:  # pyproj errors
            _reraise_fatal(exc)
            crs = None
            err = _short(exc)
        else:
            err = "no EPSG code in its GeoTIFF keys"
        if crs is None:
            return None, f"its GeoTIFF keys could not be read as a CRS ({err})"
        from ..crs import wkt_of

        return wkt_of(crs) or None, "converted from GeoTIFF keys"
    return None, "it has no CRS VLR"


def _count_points_in_file(path: str, info: LasHeaderInfo, warnings: List[str]) -> int:
    """The number of points actually there, when the file can tell.

    LAS: from the size of the point data; more points than the header says
    are all read (with a warning), fewer is an error.  LAZ: the chunk table
    must be readable and inside the file; with variable-size chunks it holds
    the exact count.
    """
    import laspy

    with laspy.open(path) as reader:
        h = reader.header
        start = h.offset_to_point_data
        end = os.path.getsize(path)
        evlr_start = getattr(h, "start_of_first_evlr", 0) or 0
        if getattr(h, "number_of_evlrs", 0) and evlr_start > start:
            end = min(end, evlr_start)
        wave = getattr(h, "start_of_waveform_data_packet_record", 0) or 0
        if info.point_format in WAVEFORM_FORMATS and wave > start:
            end = min(end, wave)
        laz_vlr = next((bytes(v.record_data) for v in h.vlrs
                        if v.user_id == "laszip encoded" and v.record_id == 22204), None)
    if info.compressed:
        if info.laz_backend == "parallel":
            return _count_laz_points(path, info, start, laz_vlr, warnings)
        return info.point_count
    real = max(0, (end - start) // info.record_length)
    if real < info.point_count:
        raise InputError(path, f"header says {info.point_count:,} points, file holds {real:,}")
    if real > info.point_count:
        warnings.append(f"{path}: header says {info.point_count:,} points, file holds {real:,}; "
                        f"converting all {real:,}")
    return real


def _count_laz_points(path: str, info: LasHeaderInfo, start: int, laz_vlr: bytes,
                      warnings: List[str]) -> int:
    import lazrs

    size = os.path.getsize(path)
    try:
        vlr = lazrs.LazVlr(laz_vlr)
        with open(path, "rb") as f:
            f.seek(start)
            with quiet_stderr():
                table = lazrs.read_chunk_table(f, vlr)
    except BaseException as exc:
        _reraise_fatal(exc)
        raise InputError(path, f"is truncated or damaged: its LAZ chunk table cannot be read "
                               f"({_short(exc)}); the file is {size:,} bytes") from None
    data_end = start + 8 + sum(nbytes for _, nbytes in table)
    if data_end > size:
        raise InputError(path, f"is truncated: its LAZ chunks end at byte {data_end:,}, "
                               f"the file is {size:,} bytes")
    if vlr.uses_variable_size_chunks():
        real = sum(count for count, _ in table)
    else:
        per = vlr.chunk_size()
        low, high = (len(table) - 1) * per + 1, len(table) * per
        if not low <= info.point_count <= high:
            raise InputError(path, f"header says {info.point_count:,} points, its LAZ chunk table "
                                   f"holds {low:,} to {high:,}")
        last = _layered_chunk_count(path, start + 8 + sum(n for _, n in table[:-1]), vlr)
        real = info.point_count if last is None else (len(table) - 1) * per + last
    if real < info.point_count or (real > info.point_count and vlr.uses_variable_size_chunks()):
        raise InputError(path, f"header says {info.point_count:,} points, its LAZ chunk table "
                               f"holds {real:,}")
    if real > info.point_count:
        warnings.append(f"{path}: header says {info.point_count:,} points, its last LAZ chunk "
                        f"holds more ({real:,} in all); converting all {real:,}")
    return real


def _layered_chunk_count(path: str, chunk_start: int, vlr) -> Optional[int]:
    """Points in a layered (LAZ 1.4, formats 6-10) chunk, from its own head:
    the first point raw, then a u32 count.  None for older chunk kinds."""
    data = bytes(vlr.record_data())
    compressor = struct.unpack_from("<H", data)[0]
    if compressor != 3:
        return None
    with open(path, "rb") as f:
        f.seek(chunk_start + vlr.item_size())
        raw = f.read(4)
    return struct.unpack("<I", raw)[0] if len(raw) == 4 else None


@contextlib.contextmanager
def quiet_stderr():
    """Hold back what native code (a Rust panic message) writes to stderr.

    The text is replayed when the block succeeds; on failure it is dropped,
    because the caller raises one clear error instead.
    """
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    with tempfile.TemporaryFile() as held:
        sys.stderr.flush()
        os.dup2(held.fileno(), 2)
        ok = False
        try:
            yield
            ok = True
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            if ok:
                held.seek(0)
                text = held.read()
                if text:
                    os.write(2, text)

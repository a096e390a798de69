"""A LAS/LAZ header read and checked: every problem an InputError naming the file.

The raw sizes are checked before laspy reads the header (a damaged offset can
make a reader allocate gigabytes); the CRS comes from the WKT VLR verbatim, or
from the GeoTIFF keys; the LAZ VLR says how lazrs can decode the points.
"""
from __future__ import annotations

from typing import List, Optional, Tuple, Union

import numpy as np

from ..common.errors import InputError
from ..format import (COMPRESSOR_POINTWISE, LAS12_HEADER_SIZE, LAZ_RECORD, LAZ_USER, RECORD_SIZE, VLR_HEADER_SIZE,
                      ExtraBytesField, LasHeader, LazVlr, written_descriptors)
from ..kernels.point_formats import WAVEFORM_FORMATS
from ..points.point_layout import ExtraDim
from .input_file import InputFile, input_file
from .native_errors import reraise_fatal, reraise_transfer, short_text
from .source_info import SourceInfo


def read_header(source: Union[str, InputFile]) -> SourceInfo:
    """The header of a path, or of an ``InputFile`` (a local or remote file)."""
    source = input_file(source)
    path = source.name
    head = source.read_at(0, LAS12_HEADER_SIZE)
    if head[:4] != b"LASF":
        raise InputError(path, "not a LAS/LAZ file (no LASF signature)")
    _check_raw_header(path, head, source.size)

    import laspy

    f = source.open()
    try:
        with f, laspy.open(f, closefd=False) as reader:
            header = reader.header
    except BaseException as exc:
        reraise_fatal(exc)
        reraise_transfer(f)
        raise InputError(path, f"unreadable LAS header or VLRs ({short_text(exc)})") from None

    pf = header.point_format
    if pf.id not in RECORD_SIZE:
        raise InputError(path, f"point format {pf.id} is not a LAS point format")
    record_length = pf.size
    extra, extra_offsets = _extra_dims(path, header)
    crs_wkt, crs_note = _crs_of(header)
    laz_vlr = _laz_vlr(path, header) if header.are_points_compressed else None
    ge = header.global_encoding
    date = header.creation_date
    creation = (date.timetuple().tm_yday, date.year) if date is not None else (0, 0)
    return SourceInfo(
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
        laz_backend=_laz_backend(path, laz_vlr) if laz_vlr else "",
        point_data=_point_data(source.size, header),
        laz_vlr=laz_vlr.raw if laz_vlr else b"",
        creation=creation,
        file_source_id=int(header.file_source_id),
    )


def _point_data(size: int, header) -> Tuple[int, int]:
    """Bytes [start, end) the point records may use: up to the EVLRs or the
    waveform data when they follow the points, else the end of the file."""
    start = header.offset_to_point_data
    end = size
    evlr_start = getattr(header, "start_of_first_evlr", 0) or 0
    if getattr(header, "number_of_evlrs", 0) and evlr_start > start:
        end = min(end, evlr_start)
    wave = getattr(header, "start_of_waveform_data_packet_record", 0) or 0
    if header.point_format.id in WAVEFORM_FORMATS and wave > start:
        end = min(end, wave)
    return start, end


def _laz_vlr(path, header) -> LazVlr:
    vlrs = [v for v in header.vlrs if v.user_id == LAZ_USER and v.record_id == LAZ_RECORD]
    if not vlrs:
        raise InputError(path, "is compressed but has no laszip VLR")
    try:
        return LazVlr.from_bytes(bytes(vlrs[0].record_data))
    except ValueError as exc:
        raise InputError(path, f"damaged laszip VLR: {exc}") from None


def _laz_backend(path, laz: LazVlr) -> str:
    """How lazrs can decode this LAZ, from its laszip VLR; refuse what it cannot."""
    if laz.chunked:
        return "parallel"
    if laz.compressor == COMPRESSOR_POINTWISE and laz.chunk_size != 0:
        return "sequential"   # point-wise: lazrs decodes it, but not in parallel
    raise InputError(
        path, f"is compressed by LASzip {laz.version} "
              f"with compressor {laz.compressor} and chunk size {laz.chunk_size}, which lazrs cannot "
              f"decode; re-compress it with a current laszip or PDAL first")


def _check_raw_header(path: str, raw: bytes, size: int) -> None:
    """Refuse headers whose sizes cannot be true before laspy trusts them
    (a damaged offset can make a reader allocate gigabytes)."""
    if len(raw) < LAS12_HEADER_SIZE:
        raise InputError(path, f"is truncated: {size:,} bytes, shorter than a LAS header")
    h = LasHeader.from_bytes(raw)
    if h.version_major != 1 or h.version_minor > 4:
        raise InputError(path, f"damaged LAS header: version {h.version} is not LAS 1.0-1.4")
    header_size, data_offset = h.header_size, h.offset_to_point_data
    if not LAS12_HEADER_SIZE <= header_size <= data_offset:
        raise InputError(path, f"damaged LAS header: header size {header_size:,} with point data "
                               f"at byte {data_offset:,}")
    if data_offset > size:
        raise InputError(path, f"damaged LAS header: point data at byte {data_offset:,}, past the "
                               f"end of the file ({size:,} bytes)")
    if h.number_of_vlrs * VLR_HEADER_SIZE > data_offset - header_size:
        raise InputError(path, f"damaged LAS header: {h.number_of_vlrs:,} VLRs cannot fit in the "
                               f"{data_offset - header_size:,} bytes before the point data")
    if h.point_format not in RECORD_SIZE:
        raise InputError(path, f"damaged LAS header: point format {h.point_format} does not exist")
    if h.point_record_length < RECORD_SIZE[h.point_format]:
        raise InputError(path, f"damaged LAS header: point records of {h.point_record_length} bytes are "
                               f"shorter than format {h.point_format} needs")


def _extra_dims(path, header) -> Tuple[Tuple[ExtraDim, ...], Tuple[int, ...]]:
    """The extra dimensions of every Extra Bytes VLR, in file order (laspy
    types only the first VLR's; PDAL writes one VLR per dimension), then
    the bytes no descriptor describes as undocumented extra bytes."""
    from laspy.vlrs.known import ExtraBytesStruct

    pf = header.point_format
    dims: List[ExtraDim] = []
    offsets: List[int] = []
    offset = RECORD_SIZE[pf.id]
    for desc in (d for given in _descriptors(header) for d in written_descriptors(given)):
        field = ExtraBytesField.from_bytes(desc)
        if not field.size:
            raise InputError(path, f"extra-bytes descriptor {field.name!r} has data type {field.data_type} "
                                   f"(options {field.options}), which gives no size")
        if any(d.name == field.name for d in dims):
            raise InputError(path, f"two extra-bytes descriptors are named {field.name!r}")
        dims.append(ExtraDim(name=field.name, size=field.size, dtype=_dtype_text(field), struct=desc))
        offsets.append(offset)
        offset += field.size
    if offset < pf.size:
        # Bytes no descriptor describes (unregistered extra bytes): laspy's
        # name for them, described as "undocumented extra bytes" (type 0).
        size = pf.size - offset
        desc = bytes(ExtraBytesStruct(name=b"ExtraBytes", data_type=(0, size), description=b"kept from input"))
        dims.append(ExtraDim(name="ExtraBytes", size=size, dtype=_dtype_text(ExtraBytesField.from_bytes(desc)),
                             struct=desc))
        offsets.append(offset)
        offset += size
    if offset != pf.size:
        raise InputError(path, f"extra-bytes descriptions ({offset} bytes) do not match the "
                               f"point record length ({pf.size})")
    return tuple(dims), tuple(offsets)


def _descriptors(header) -> List[bytes]:
    """The 192-byte descriptors of every Extra Bytes VLR, in file order."""
    from laspy.vlrs.known import ExtraBytesVlr

    return [bytes(s) for vlr in header.vlrs if isinstance(vlr, ExtraBytesVlr) for s in vlr.extra_bytes_structs]


def _dtype_text(field: ExtraBytesField) -> str:
    """The numpy type of one value, as laspy types it ("<u2", "3<f8", "4|u1")."""
    if field.data_type == 0:
        return "|u1" if field.options == 1 else f"{field.options}|u1"
    base = np.dtype(field.base_type).str
    return base if field.count == 1 else f"{field.count}{base}"


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
            reraise_fatal(exc)
            crs = None
            err = short_text(exc)
        else:
            err = "no EPSG code in its GeoTIFF keys"
        if crs is None:
            return None, f"its GeoTIFF keys could not be read as a CRS ({err})"
        from ..points.crs import wkt_of

        return wkt_of(crs) or None, "converted from GeoTIFF keys"
    return None, "it has no CRS VLR"

"""How many points a LAS/LAZ file really holds, when the file can tell.

Headers lie: the count is checked against the size of the point data (LAS)
or the chunk table and the chunks' own counts (LAZ).
"""
from __future__ import annotations

import struct
from typing import List, Optional

from ..common.errors import InputError
from ..format import LAZ_LAYERED_COMPRESSOR, LazVlr
from .input_file import InputFile
from .native_errors import quiet_stderr, reraise_fatal, reraise_transfer, short_text
from .source_info import SourceInfo


def count_points(source: InputFile, info: SourceInfo, warnings: List[str]) -> int:
    """The number of points actually there, when the file can tell.

    LAS: from the size of the point data; more points than the header says
    are all read (with a warning), fewer is an error.  LAZ: the chunk table
    must be readable and inside the file; with variable-size chunks it holds
    the exact count.
    """
    start, end = info.point_data
    path = source.name
    if info.compressed:
        if info.laz_backend == "parallel":
            return _count_laz_points(source, info, start, warnings)
        return info.point_count
    real = max(0, (end - start) // info.record_length)
    if real < info.point_count:
        raise InputError(path, f"header says {info.point_count:,} points, file holds {real:,}")
    if real > info.point_count:
        warnings.append(f"{path}: header says {info.point_count:,} points, file holds {real:,}; "
                        f"converting all {real:,}")
    return real


def _count_laz_points(source: InputFile, info: SourceInfo, start: int, warnings: List[str]) -> int:
    import lazrs

    path, size = source.name, source.size
    f = source.open()
    try:
        vlr = lazrs.LazVlr(info.laz_vlr)
        with f:
            f.seek(start)
            with quiet_stderr():
                table = lazrs.read_chunk_table(f, vlr)
    except BaseException as exc:
        reraise_fatal(exc)
        reraise_transfer(f)
        raise InputError(path, f"is truncated or damaged: its LAZ chunk table cannot be read "
                               f"({short_text(exc)}); the file is {size:,} bytes") from None
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
        last = _layered_chunk_count(source, start + 8 + sum(n for _, n in table[:-1]),
                                    LazVlr.from_bytes(info.laz_vlr))
        real = info.point_count if last is None else (len(table) - 1) * per + last
    if real < info.point_count or (real > info.point_count and vlr.uses_variable_size_chunks()):
        raise InputError(path, f"header says {info.point_count:,} points, its LAZ chunk table "
                               f"holds {real:,}")
    if real > info.point_count:
        warnings.append(f"{path}: header says {info.point_count:,} points, its last LAZ chunk "
                        f"holds more ({real:,} in all); converting all {real:,}")
    return real


def _layered_chunk_count(source: InputFile, chunk_start: int, laz: LazVlr) -> Optional[int]:
    """Points in a layered (LAZ 1.4, formats 6-10) chunk, from its own head:
    the first point raw, then a u32 count.  None for older chunk kinds."""
    if laz.compressor != LAZ_LAYERED_COMPRESSOR:
        return None
    raw = source.read_at(chunk_start + laz.point_size, 4)
    return struct.unpack("<I", raw)[0] if len(raw) == 4 else None

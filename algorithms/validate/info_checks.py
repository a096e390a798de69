"""Checks of the COPC info VLR (info.*, and its GPS range: gpstime)."""
from __future__ import annotations

import math
from typing import List, Optional

from ..common.errors import CopcBuilderError
from ..format import COPC_INFO_RECORD, COPC_INFO_SIZE, COPC_USER, CopcInfo, LAS14_HEADER_SIZE
from .context import ValidationContext
from .report import num, xyz


def check_info(ctx: ValidationContext) -> Optional[CopcInfo]:
    f = ctx.file
    infos = f.find(COPC_USER, COPC_INFO_RECORD)
    if not infos:
        ctx.error("info.missing", "no COPC info VLR ('copc', 1): this is not a COPC file")
        return None
    vlr = infos[0]
    if len(infos) > 1:
        ctx.error("info.first", f"{len(infos)} COPC info VLRs; there must be exactly one")
    if vlr.extended:
        ctx.error("info.first", f"the COPC info record is an EVLR at byte {vlr.header_offset}; it must be "
                  f"the first VLR, at byte {LAS14_HEADER_SIZE}")
    elif f.vlrs[0] is not vlr:
        ctx.error("info.first", f"the COPC info VLR is VLR {f.vlrs.index(vlr) + 1} of {len(f.vlrs)} "
                  f"(at byte {vlr.header_offset}); it must be the first, at byte {LAS14_HEADER_SIZE}")
    elif vlr.header_offset != LAS14_HEADER_SIZE:
        ctx.error("info.first", f"the COPC info VLR starts at byte {vlr.header_offset}, "
                  f"not at byte {LAS14_HEADER_SIZE}")
    if vlr.data_size != COPC_INFO_SIZE:
        ctx.error("info.size", f"the COPC info VLR holds {vlr.data_size} bytes, must be {COPC_INFO_SIZE}")
        if vlr.data_size < COPC_INFO_SIZE:
            return None
    try:
        info = CopcInfo.from_bytes(f.read_at(vlr.data_offset, COPC_INFO_SIZE, "COPC info VLR"))
    except CopcBuilderError as exc:
        ctx.error("info.size", exc.problem)
        return None
    for problem in cube_problems(info):
        ctx.error("info.cube", problem)
    if not (math.isfinite(info.spacing) and info.spacing > 0):
        ctx.error("info.spacing", f"spacing is {num(info.spacing)}, must be a positive number")
    if any(info.reserved):
        ctx.error("info.reserved", f"reserved fields are {list(info.reserved)}, must all be 0")
    if info.gpstime_minimum > info.gpstime_maximum:
        ctx.error("gpstime", f"GPS time minimum {num(info.gpstime_minimum)} is above the maximum "
                  f"{num(info.gpstime_maximum)}")
    return info


def cube_problems(info: CopcInfo) -> List[str]:
    """Why the info VLR's cube cannot place nodes (point-in-cube checks are
    then skipped); empty when it can."""
    problems = []
    if not (math.isfinite(info.halfsize) and info.halfsize > 0):
        problems.append(f"halfsize is {num(info.halfsize)}, must be a positive number")
    if not all(math.isfinite(c) for c in info.center):
        problems.append(f"center is {xyz(info.center)}, must be finite")
    return problems

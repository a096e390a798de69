"""What the builder knows of an input before reading its points."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from ..points.point_layout import ExtraDim


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
    # Frame facts of a source with no frame of its own (scales is None), for
    # the plan to choose from (plan.settle_frame): the (scales, offsets) of
    # the LAS files a PDAL pipeline reads when no stage moves points, and
    # whether its CRS may pick the scale (degrees: 1e-7).
    reader_frames: Tuple[Tuple[np.ndarray, np.ndarray], ...] = ()
    frame_from_crs: bool = False
    # LAS files only
    version: str = ""
    record_length: int = 0
    extra_offsets: Tuple[int, ...] = ()  # byte offset of each extra dim in the input record
    compressed: bool = False
    laz_backend: str = ""     # "parallel" (chunked LAZ), "sequential" (point-wise) or ""
    point_data: Tuple[int, int] = (0, 0)   # bytes [start, end) the point records may use
    laz_vlr: bytes = b""      # the laszip VLR's data (LAZ only)

"""Build options as plain data, and parsers for their command-line forms."""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from typing import Any, Optional, Tuple, Union

from .errors import OptionError

# The default memory budget, as every host shows and passes it (command
# line, QGIS, PDAL stage, API); the one place it is written.
DEFAULT_MEMORY_BUDGET = "2G"
LEAF_LIMIT = 100_000
CHUNK_POINTS = 1_000_000

Triple = Tuple[float, float, float]


_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: Union[str, int, float]) -> int:
    """'2G', '512M', '1.5g', '1000000' -> bytes."""
    if isinstance(text, (int, float)):
        value = int(text)
    else:
        match = _SIZE.match(str(text))
        if not match:
            raise OptionError(f"cannot read {text!r} as a size (examples: 512M, 2G)")
        value = int(float(match.group(1)) * _UNITS[match.group(2).lower()])
    if value <= 0:
        raise OptionError(f"size must be positive, got {text!r}")
    return value


DEFAULT_BUDGET = parse_size(DEFAULT_MEMORY_BUDGET)   # in bytes


@dataclass
class BuildOptions:
    memory_budget: int = DEFAULT_BUDGET
    temp_dir: Optional[str] = None
    threads: Optional[int] = None
    scale: Optional[Triple] = None
    offset: Optional[Triple] = None
    a_srs: Optional[str] = None
    leaf_limit: int = LEAF_LIMIT
    chunk_points: int = CHUNK_POINTS
    # Test knobs: tiny store pages force the paged/spilled paths on small inputs.
    page_points: Optional[int] = None
    hierarchy_page_levels: int = 0
    temporal_index: Optional[int] = None   # stride of the COPC temporal index; None: no index
    statistics: bool = True      # exact QGIS statistics EVLR in the output
    recursive: bool = False   # input folders: their subfolders' LAS/LAZ files too
    # Dask: the address of a running scheduler (tcp://host:8786) or its
    # scheduler file; or ``workers`` > 0 to start a local cluster of that many
    # worker processes.  Neither: the in-process build (Dask not imported).
    scheduler: Optional[str] = None
    workers: int = 0
    # s3:// and http(s):// inputs and output: storage.StorageOptions (credentials,
    # endpoint, retries; its repr hides secrets); None: the environment's.
    storage: Optional[Any] = None
    # Tiles: a tile size (output CRS units) builds one COPC per cell of that grid
    # and a .vpc; ``overview`` adds the overview COPC, split on cells of
    # ``overview_size`` when given (else only when too large).
    tile_size: Optional[float] = None
    overview: bool = True
    overview_size: Optional[float] = None
    # Reproject every point to this CRS (EPSG code, WKT, PROJJSON, PROJ
    # string) as it is read; None: coordinates are kept as they are.
    t_srs: Optional[str] = None

    @property
    def on_cluster(self) -> bool:
        return bool(self.scheduler) or self.workers > 0

    def checked(self) -> "BuildOptions":
        if self.memory_budget <= 0:
            raise OptionError(f"memory budget must be positive, got {self.memory_budget}")
        if self.threads is not None and self.threads < 1:
            raise OptionError(f"threads must be at least 1, got {self.threads}")
        if self.scale is not None:
            for s in self.scale:
                if not (isinstance(s, (int, float)) and math.isfinite(s) and s > 0):
                    raise OptionError(f"scale must be a positive number, got {s!r}")
        if self.offset is not None:
            for o in self.offset:
                if not (isinstance(o, (int, float)) and math.isfinite(o)):
                    raise OptionError(f"offset must be a finite number, got {o!r}")
        if self.leaf_limit < 1:
            raise OptionError(f"leaf limit must be at least 1, got {self.leaf_limit}")
        if self.chunk_points < 1:
            raise OptionError(f"chunk size must be at least 1 point, got {self.chunk_points}")
        if self.temporal_index is not None and not 1 <= self.temporal_index < 1 << 32:
            raise OptionError(f"temporal index stride must be from 1 to 4294967295, got {self.temporal_index}")
        if self.workers < 0:
            raise OptionError(f"workers must be 0 (no local cluster) or more, got {self.workers}")
        if self.scheduler and self.workers:
            raise OptionError(f"give a scheduler ({self.scheduler}) or a number of local workers "
                              f"({self.workers}), not both")
        for name in ("tile_size", "overview_size"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise OptionError(f"{name.replace('_', ' ')} must be a positive length, got {value!r}")
        if self.overview_size is not None and self.tile_size is None:
            raise OptionError("an overview size needs a tile size (the overview splits on whole tiles)")
        if self.temp_dir is not None and not os.path.isdir(self.temp_dir):
            what = "is not a folder" if os.path.exists(self.temp_dir) else "does not exist"
            raise OptionError(f"temp folder {self.temp_dir} {what}")
        return self


def parse_triple(text: Union[str, float, Tuple], what: str) -> Triple:
    """'0.01' -> (0.01,)*3; '0.01,0.01,0.001' -> three values."""
    if isinstance(text, (int, float)):
        values = [float(text)] * 3
    elif isinstance(text, (tuple, list)):
        values = [float(v) for v in text]
    else:
        try:
            values = [float(v) for v in str(text).replace(" ", "").split(",") if v != ""]
        except ValueError:
            raise OptionError(f"cannot read {text!r} as a {what} (examples: 0.01 or 0.01,0.01,0.001)") from None
    if len(values) == 1:
        values = values * 3
    if len(values) != 3:
        raise OptionError(f"{what} needs one or three values, got {text!r}")
    return (values[0], values[1], values[2])

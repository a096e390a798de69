"""``--temporal-index STRIDE``: the writer extension that adds the COPC
Temporal Index EVLR (format/temporal_index.py).

It keeps only the samples: for each node the GPS times of its points 0, S,
2S, ... as they pass through the writer, and the last point of every part,
so the point N-1 of a node written in parts is known whichever part ends
it.  Parts are put back in order by their first index, so the EVLR does not
depend on the order the builder finished nodes in, on the thread count or
on where a big node was cut.  A node's points are in canonical order, GPS
time first (kernels.octree.sort_canonical), so its samples are sorted.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..common.errors import InputError
from ..format import TEMPORAL_RECORD, TEMPORAL_USER, build_temporal_index
from ..kernels.point_formats import GPS_AT, GPS_OFFSET, GPS_SIZE
from .writer_extension import EvlrData, NodeEntries

# (first index, n points, samples at the multiples of the stride, time of the last point)
_Part = Tuple[int, int, np.ndarray, float]


class TemporalIndexExtension:
    """Collects every node's samples; gives the temporal index EVLR."""

    def __init__(self, stride: int):
        self.stride = int(stride)
        self._parts: Dict[int, List[_Part]] = {}

    def node_records(self, key: int, first: int, records: np.ndarray) -> None:
        n = len(records)
        if n == 0:
            return
        s = self.stride
        local = np.arange((-first) % s, n, s)
        picked = np.ascontiguousarray(records[local, GPS_AT:GPS_AT + GPS_SIZE]).view("<f8").ravel()
        last = np.ascontiguousarray(records[n - 1, GPS_AT:GPS_AT + GPS_SIZE]).view("<f8")[0]
        self._parts.setdefault(int(key), []).append((int(first), n, picked.astype(np.float64), float(last)))

    def merge(self, other: "TemporalIndexExtension") -> None:
        for key, parts in other._parts.items():
            self._parts.setdefault(key, []).extend(parts)

    def node_samples(self, key: int, count: int) -> np.ndarray:
        """The node's samples: the times at 0, S, 2S, ... and count-1."""
        parts = sorted(self._parts.pop(key, ()), key=lambda p: p[0])
        if sum(p[1] for p in parts) != count or any(a[0] + a[1] != b[0] for a, b in zip(parts, parts[1:])):
            raise AssertionError(f"node {key}: the writer gave parts {[(p[0], p[1]) for p in parts]} "
                                 f"for {count} points")
        samples = np.concatenate([p[2] for p in parts])
        if (count - 1) % self.stride:
            samples = np.append(samples, parts[-1][3])
        return samples

    def evlr(self, nodes: NodeEntries, data_offset: int) -> Optional[EvlrData]:
        samples = {key: self.node_samples(key, count) for key, (_, _, count) in sorted(nodes.items())
                   if count > 0}
        self._parts.clear()
        data = build_temporal_index(samples, self.stride, data_offset)
        return EvlrData(TEMPORAL_USER, TEMPORAL_RECORD, "COPC temporal index", data)


def has_gps_time(source) -> bool:
    """Whether an opened input carries GPS times: PDAL-named arrays with a
    GpsTime dimension, or a LAS point format other than 0 and 2."""
    dtype = getattr(source, "dtype", None)
    if dtype is not None and dtype.names is not None:
        return "GpsTime" in dtype.names
    return source.info.point_format in GPS_OFFSET


def _why(source) -> str:
    dtype = getattr(source, "dtype", None)
    if dtype is not None and dtype.names is not None:
        return "no GpsTime dimension"
    return f"point format {source.info.point_format}"


def temporal_extensions(options, sources: Sequence, progress) -> list:
    """The writer extensions ``options.temporal_index`` asks for: none
    without a stride; an InputError when no input has GPS times; a warning
    naming the inputs without (their points get GPS time 0), and one when
    the samples, held in memory until the end, outgrow the memory budget."""
    stride = options.temporal_index
    if not stride:
        return []
    without = [s for s in sources if not has_gps_time(s)]
    listed = "; ".join(f"{s.path}: {_why(s)}" for s in without[:3]) + ("; ..." if len(without) > 3 else "")
    if len(without) == len(sources):
        name = sources[0].path if len(sources) == 1 else f"the {len(sources)} inputs"
        raise InputError(name, f"no GPS time ({listed}); a temporal index needs GPS times (LAS point "
                               f"format 1 or 3-10, or a GpsTime dimension): drop --temporal-index")
    if without:
        progress.warning(f"no GPS time in {listed}; those points have GPS time 0 in the temporal index")
    held = 2 * 8 * sum(s.point_count for s in sources) // stride   # the samples, then the EVLR built from them
    if held > options.memory_budget // 4:
        progress.warning(f"the temporal index at stride {stride} takes about {held / 1e6:,.1f} MB of memory "
                         f"beside the memory budget; a larger stride takes less")
    return [TemporalIndexExtension(stride)]

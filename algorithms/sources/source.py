"""The one interface every input implements: ``PointSource``.

A source reports facts (``info``: format, frame, bounds, CRS as its headers
or points tell them) and streams its points in chunks; the plan decides
everything from those facts (build/plan.py).  ``converter`` turns the source's
chunks into the node store's columns in the plan's layout and frame.

Implemented by ``LasFile`` (las_file.py), ``ArraySource`` (pdal_arrays.py)
and ``PipelineSource`` (pdal_pipeline.py); ``resolve.open_sources`` turns
what a caller passes into these.
"""
from __future__ import annotations

from typing import Any, Iterator, Optional, Protocol, Sequence, runtime_checkable

from ..points.columns import Columns
from ..points.point_layout import PointLayout
from ..points.reprojection import Reprojection
from .reprojected import TransformedCoordinates
from .source_info import SourceInfo


@runtime_checkable
class Converter(Protocol):
    """A source's chunks -> the node store's columns."""

    # True when convert() fills a caller's zeroed columns as fast as its own:
    # the builder then hands it room in the store's page (no copy).
    writes_in_place: bool
    # The reprojection step (--t-srs), with the count of points PROJ could
    # not transform; the read stage raises once the source is read.
    moved: TransformedCoordinates

    def convert(self, chunk: Any, out: Optional[Columns] = None) -> Columns:
        """Columns of the chunk's points; written into ``out`` (zeroed, as
        long as the chunk) when given."""
        ...


@runtime_checkable
class PointSource(Protocol):
    path: str                 # a file path, or a name for messages
    info: SourceInfo          # what is known before a point is read
    warnings: Sequence[str]   # what opening found, reported once the build starts

    @property
    def point_count(self) -> int:
        """The points ``chunks`` yields (0: unknown until read)."""
        ...

    def converter(self, layout: PointLayout, scales, offsets,
                  reprojection: Optional[Reprojection] = None) -> Converter:
        """Chunks -> columns in the plan's layout and frame, reprojected
        first when ``reprojection`` is given."""
        ...

    def chunks(self, chunk_points: int) -> Iterator[Any]:
        """The points, every one exactly once, at most chunk_points at a time."""
        ...

    def close(self) -> None:
        """Let go of what the source holds open (idempotent)."""
        ...

"""A PDAL pipeline as a source: a pipeline JSON file, a JSON string, or a
``pdal.Pipeline``.

Streamable pipelines are read with ``Pipeline.iterator(chunk_size=...)``, so
only a chunk of points is in memory at a time; others are executed whole
(with a warning).  The points arrive as PDAL-named numpy arrays and enter
the builder like any array source (``pdal_arrays.ArrayPacker``).

What the builder needs before reading (``SourceInfo``):
- bounds and count: from the headers of the pipeline's LAS/COPC readers
  when every reader is a local LAS/COPC file and no stage moves points
  (``pdal_stages.moves_points``); from the points otherwise (exact after an
  execute, the first chunk while streaming).
- frame: none of its own; it reports the readers' frames (same condition)
  and that its CRS may choose the scale, and the plan decides
  (``plan.settle_frame``: the readers' frame, else 1e-7 degree when the CRS
  is geographic, else the plan's default scale).
- CRS: the pipeline's own (the last stage that sets one, e.g. a
  filters.reprojection, else the readers'), kept verbatim from the LAS
  header when it is the same CRS.

pdal is imported only when a pipeline is opened (``pdal_support.import_pdal``).
"""
from __future__ import annotations

import atexit
import contextlib
import dataclasses
import json
import os
import weakref
from typing import Iterator, List, Optional

import numpy as np

from ..common.errors import DependencyError, InputError
from ..points.point_layout import PointLayout
from .las_header import read_header
from .pdal_arrays import ArrayPacker, array_bounds, require_xyz, schema_info
from .pdal_stages import describe, local_las_readers, moves_points
from .pdal_support import import_pdal, leave_gdal_errors_a_live_log, pdal_problem, stdout_kept
from .source_info import SourceInfo

DEFAULT_CHUNK = 1_000_000


class PipelineInput:
    """Marks a PDAL pipeline (a JSON file path of any name, a JSON string or a
    ``pdal.Pipeline``) as such among ``build_copc``'s inputs."""

    def __init__(self, pipeline):
        self.pipeline = pipeline

    def __repr__(self) -> str:
        return f"PipelineInput({self.pipeline!r})"


def _is_pdal_object(obj) -> bool:
    return type(obj).__module__.split(".")[0] == "pdal" and hasattr(obj, "execute")


def _is_json_text(obj) -> bool:
    return isinstance(obj, str) and obj.lstrip()[:1] in ("{", "[") and obj.strip() != ""


def is_pipeline_spec(obj) -> bool:
    """A PipelineInput, a pdal.Pipeline, a JSON string, or a path ending in .json."""
    if isinstance(obj, PipelineInput) or _is_pdal_object(obj) or _is_json_text(obj):
        return True
    return isinstance(obj, (str, os.PathLike)) and os.fspath(obj).lower().endswith(".json")


# Iterators still running at interpreter exit make libpdal abort the process
# ("FATAL: exception not rethrown"); close them first.
_LIVE: "weakref.WeakSet[PipelineSource]" = weakref.WeakSet()
_AT_EXIT = []


def _close_live() -> None:
    for source in list(_LIVE):
        source.close()


def _close_at_exit(source: "PipelineSource") -> None:
    if not _AT_EXIT:
        atexit.register(_close_live)
        _AT_EXIT.append(True)
    _LIVE.add(source)


class PipelineSource:
    """The points of one PDAL pipeline (a ``PointSource``).

    Opening runs these steps: open the pipeline, read its stages and its
    LAS readers' headers, start the points (stream, or execute whole), then
    describe them: CRS, extent, the frame facts the plan chooses from, and
    the arrays' dtype.
    """

    def __init__(self, pipeline, progress=None, chunk_points: int = DEFAULT_CHUNK):
        spec = pipeline.pipeline if isinstance(pipeline, PipelineInput) else pipeline
        self.path = _first_name(spec)
        self.warnings: List[str] = []   # reported through ``progress`` as they arise
        pdal = import_pdal()
        self._pipeline, from_file = self._open(pdal, spec)
        self._iter = None
        self._first: Optional[np.ndarray] = None
        self._arrays: Optional[List[np.ndarray]] = None
        _close_at_exit(self)
        try:
            self._start(from_file, progress, chunk_points)
        except BaseException:
            self.close()
            raise

    def _start(self, from_file: bool, progress, chunk_points: int) -> None:
        stages = self._stages()
        if not from_file:
            self.path = describe(stages)
        movers = [str(s.get("type")) for s in stages if moves_points(s)]
        readers = local_las_readers(stages)
        headers = _headers(readers) if readers else []
        with self._pdal_errors("reading the inputs' headers"):
            quick = self._pipeline.quickinfo
        sample, metadata = self._start_points(progress, chunk_points)
        require_xyz(self.path, sample.dtype.names, "the pipeline's points have")
        trusted = not movers
        crs_wkt = self._crs(metadata, stages, headers if trusted else [])
        if movers and readers:
            _info(progress, f"{self.path}: {movers[0]} may move points, so the readers' scale and "
                            f"offset are not used")
        # PDAL names a LAS extra dimension after its own dimension of that name
        # in any case ("amplitude" -> "Amplitude"): keep the file's name.
        self._rename = _names_in_files(sample.dtype, headers)
        self.dtype = _canonical_dtype(_renamed_dtype(sample.dtype, self._rename), quick, self._rename)
        self._names = set(self.dtype.names)
        self.info: SourceInfo = self._describe(headers if trusted else [], headers, crs_wkt)

    # -- the steps of opening ---------------------------------------------------------
    def _start_points(self, progress, chunk_points: int):
        """Start the points: the arrays of an executed pipeline, a stream,
        or the whole run; returns (first array, the pipeline's metadata)."""
        self._arrays = self._executed_arrays()
        self.streamed = self._arrays is None and bool(self._pipeline.streamable)
        if self.streamed:
            with self._pdal_errors("streaming the points"):
                self._iter = self._pipeline.iterator(chunk_size=int(chunk_points))
                self._first = next(self._iter, None)
            if self._first is None:
                raise InputError(self.path, "the pipeline produced no points")
            return self._first, _as_dict(self._iter.metadata)
        if self._arrays is None:
            _warn(progress, f"{self.path}: PDAL cannot stream this pipeline (a stage such as "
                            f"filters.python, filters.sort or filters.smrf needs every point at "
                            f"once), so it runs whole and the whole cloud is in memory, "
                            f"beyond the memory budget")
            with self._pdal_errors("running the pipeline"):
                self._pipeline.execute()
                self._arrays = list(self._pipeline.arrays)
        self._arrays = [a for a in self._arrays if len(a)]
        if not self._arrays:
            raise InputError(self.path, "the pipeline produced no points")
        with self._pdal_errors("reading its metadata"):
            metadata = _as_dict(self._pipeline.metadata)
        return self._arrays[0], metadata

    def _crs(self, metadata: dict, stages: List[dict], trusted_headers: List[SourceInfo]):
        """The pipeline's CRS; the LAS file's own text when it is the same CRS
        and no stage moves points."""
        crs_wkt = _pipeline_crs(metadata, stages) or self._srswkt2()
        if trusted_headers and crs_wkt and trusted_headers[0].crs_wkt:
            from ..points.crs import same_crs

            if same_crs(crs_wkt, trusted_headers[0].crs_wkt):
                crs_wkt = trusted_headers[0].crs_wkt   # the file's own text, as a LAS input keeps it
        return crs_wkt

    def _extent(self, trusted_headers: List[SourceInfo]):
        """(count, mins, maxs, bounds kind): exact from executed arrays, the
        readers' headers when they hold, else the first streamed chunk."""
        if self._arrays is not None:
            mins, maxs = array_bounds(self._arrays, self.path)
            return sum(len(a) for a in self._arrays), mins, maxs, "exact"
        if trusted_headers:
            return (sum(h.point_count for h in trusted_headers),
                    np.min([h.mins for h in trusted_headers], axis=0),
                    np.max([h.maxs for h in trusted_headers], axis=0), "header")
        mins, maxs = array_bounds([self._first], self.path)
        return 0, mins, maxs, "partial"

    def _describe(self, trusted_headers: List[SourceInfo], headers: List[SourceInfo],
                  crs_wkt: Optional[str]) -> SourceInfo:
        """The facts the plan decides from.  The pipeline has no frame of its
        own: it reports its readers' frames (when no stage moves points) and
        leaves the choice to the plan (``plan.settle_frame``)."""
        count, mins, maxs, kind = self._extent(trusted_headers)
        info = schema_info(self.path, self.dtype, count, mins, maxs, kind, None, None, crs_wkt,
                           None if crs_wkt else "the pipeline gives no spatial reference")
        info = dataclasses.replace(
            info, reader_frames=tuple((h.scales, h.offsets) for h in trusted_headers),
            frame_from_crs=True)
        if not headers:
            return info
        # The readers' own extra-bytes descriptors (description, no-data...)
        # for the dimensions PDAL kept as they were.
        theirs = {d.name: d for h in headers for d in h.extra}
        extra = tuple(theirs[d.name] if d.name in theirs and theirs[d.name].key() == d.key() else d
                      for d in info.extra)
        gps = {h.gps_standard for h in headers}
        return dataclasses.replace(
            info, extra=extra, gps_standard=gps.pop() if len(gps) == 1 else True,
            creation=headers[0].creation if len(headers) == 1 else (0, 0),
            file_source_id=headers[0].file_source_id if len(headers) == 1 else 0)

    # -- opening -----------------------------------------------------------------
    def _open(self, pdal, spec):
        """(pdal.Pipeline, whether it came from a file)."""
        if _is_pdal_object(spec):
            return spec, False
        if not isinstance(spec, (str, os.PathLike)):
            raise InputError(self.path, f"cannot read a {type(spec).__name__} as a PDAL pipeline; give "
                                        f"a pipeline JSON file, a JSON string or a pdal.Pipeline")
        text = os.fspath(spec)
        from_file = not _is_json_text(text)
        if from_file:
            if not os.path.exists(text):
                raise InputError(text, "pipeline file not found")
            try:
                with open(text, encoding="utf-8") as f:
                    text = f.read()
            except (OSError, UnicodeDecodeError) as exc:
                raise InputError(self.path, f"cannot read the pipeline file ({exc})") from None
        try:
            json.loads(text)
        except ValueError as exc:
            raise InputError(self.path, f"is not valid pipeline JSON ({exc})") from None
        with self._pdal_errors("reading the pipeline"):
            return pdal.Pipeline(text), from_file

    def _stages(self) -> List[dict]:
        with self._pdal_errors("reading the pipeline"):
            stages = json.loads(self._pipeline.pipeline).get("pipeline", [])
        stages = [s for s in stages if isinstance(s, dict) and s.get("type")]
        if not stages:
            raise InputError(self.path, "the pipeline has no stages")
        if not any(str(s["type"]).startswith("readers.") for s in stages):
            raise InputError(self.path, "the pipeline has no reader (readers.las, readers.copc, ...)")
        return stages

    def _executed_arrays(self) -> Optional[List[np.ndarray]]:
        """The arrays of a pdal.Pipeline the caller has already executed."""
        try:
            with stdout_kept():
                return list(self._pipeline.arrays)
        except Exception:   # "Pipeline has not been executed!"
            return None

    def _srswkt2(self) -> Optional[str]:
        try:
            text = self._pipeline.srswkt2
        except Exception:
            return None
        return text or None

    @contextlib.contextmanager
    def _pdal_errors(self, doing: str):
        """PDAL's errors (RuntimeError from libpdal, ValueError from the
        bindings) as InputError naming the pipeline."""
        try:
            with stdout_kept():
                yield
        except (InputError, DependencyError):
            raise
        except Exception as exc:
            raise InputError(self.path, f"PDAL failed {doing}: {pdal_problem(exc)}") from None

    # -- the source protocol --------------------------------------------------------
    @property
    def point_count(self) -> int:
        return self.info.point_count

    def converter(self, layout: PointLayout, scales, offsets, reprojection=None) -> ArrayPacker:
        return ArrayPacker(self.path, self.dtype, layout, scales, offsets, reprojection)

    def chunks(self, chunk_points: int) -> Iterator[np.ndarray]:
        for a in self._points():
            if self._rename:
                a = a.view(_renamed_dtype(a.dtype, self._rename))
            if set(a.dtype.names or ()) != self._names:
                raise InputError(self.path, f"the pipeline's dimensions change midway "
                                            f"({sorted(self._names)} then {sorted(a.dtype.names or ())})")
            for start in range(0, len(a), chunk_points):
                yield a[start:start + chunk_points]

    def _points(self) -> Iterator[np.ndarray]:
        try:
            if self._arrays is not None:
                arrays, self._arrays = self._arrays, None
                while arrays:
                    yield arrays.pop(0)   # each view freed once read
                return
            if self._first is None:
                raise InputError(self.path, "the pipeline's points were already read")
            first, self._first = self._first, None
            yield first
            while self._iter is not None:
                with self._pdal_errors("streaming the points"):
                    a = next(self._iter, None)
                if a is None:
                    break
                yield a
        finally:          # read to the end, or left by an error or a cancel
            self.close()

    def close(self) -> None:
        """Stop the stream, let go of PDAL's points, and leave GDAL's errors
        a log that outlives this pipeline (``leave_gdal_errors_a_live_log``)."""
        opened = getattr(self, "_pipeline", None) is not None
        self._iter = None        # a stream left midway runs to its end here
        self._first = None
        self._arrays = None
        self._pipeline = None
        if opened:
            leave_gdal_errors_a_live_log()

    def __del__(self):
        try:
            self.close()
        except Exception:   # at interpreter exit, modules may be half gone
            pass


def _first_name(spec) -> str:
    if isinstance(spec, os.PathLike) or (isinstance(spec, str) and not _is_json_text(spec)):
        return os.fspath(spec)
    if isinstance(spec, str):
        short = " ".join(spec.split())
        return f"PDAL pipeline JSON '{short[:60]}{'...' if len(short) > 60 else ''}'"
    return "PDAL pipeline"


def _headers(paths: List[str]) -> List[SourceInfo]:
    """The LAS headers of the readers' files; none when one is not readable
    here (PDAL may still read it: the frame then comes from the points)."""
    try:
        return [read_header(p) for p in paths]
    except InputError:
        return []


def _as_dict(metadata) -> dict:
    if isinstance(metadata, (str, bytes)):
        try:
            metadata = json.loads(metadata)
        except ValueError:
            return {}
    if not isinstance(metadata, dict):
        return {}
    return metadata.get("metadata", metadata)


def srs_of(entry) -> Optional[str]:
    """The WKT in one PDAL metadata entry (a stage's, or a spatialreference), or None."""
    if not isinstance(entry, dict):
        return None
    for key in ("spatialreference", "comp_spatialreference"):
        text = entry.get(key)
        if isinstance(text, str) and text.strip():
            return text.strip()
    srs = entry.get("srs")
    if isinstance(srs, dict):
        for key in ("wkt", "compoundwkt"):
            text = srs.get(key)
            if isinstance(text, str) and text.strip():
                return text.strip()
    return None


def _pipeline_crs(metadata: dict, stages: List[dict]) -> Optional[str]:
    """The spatial reference of the last stage (writers aside) that reports one."""
    for stage in reversed(stages):
        kind = str(stage.get("type", ""))
        if kind.startswith("writers."):
            continue
        entry = metadata.get(kind)
        for e in entry if isinstance(entry, list) else [entry]:
            text = srs_of(e)
            if text:
                return text
    return None


def _names_in_files(dtype: np.dtype, headers: List[SourceInfo]) -> dict:
    """{PDAL's name: the LAS file's name} for extra dimensions PDAL renamed."""
    from .pdal_arrays import DROPPED, PDAL_TYPES

    theirs = {}
    for h in headers:
        for d in h.extra:
            theirs.setdefault(d.name.lower(), d.name)
    rename = {}
    for name in dtype.names:
        own = theirs.get(name.lower())
        if (name not in PDAL_TYPES and name not in DROPPED and own is not None and own != name
                and own not in dtype.names):
            rename[name] = own
    return rename


def _renamed_dtype(dtype: np.dtype, rename: dict) -> np.dtype:
    """The same record layout with some fields renamed (for a zero-copy view)."""
    if not rename:
        return dtype
    names = dtype.names
    return np.dtype({"names": [rename.get(n, n) for n in names],
                     "formats": [dtype.fields[n][0] for n in names],
                     "offsets": [dtype.fields[n][1] for n in names], "itemsize": dtype.itemsize})


def _canonical_dtype(dtype: np.dtype, quick, rename: dict) -> np.dtype:
    """The arrays' fields in the readers' dimension order, so extra bytes come
    in the same order whether PDAL streams (fields sorted by size) or not."""
    order: List[str] = []
    entries = quick.values() if isinstance(quick, dict) else []
    for entry in entries:
        for e in entry if isinstance(entry, list) else [entry]:
            dims = e.get("dimensions", "") if isinstance(e, dict) else ""
            for name in (dims.split(",") if isinstance(dims, str) else dims):
                name = str(name).strip()
                name = rename.get(name, name)
                if name and name not in order:
                    order.append(name)
    rank = {name: i for i, name in enumerate(order)}
    names = sorted(dtype.names, key=lambda n: (rank.get(n, len(rank)), dtype.names.index(n)))
    return np.dtype([(n, dtype[n]) for n in names])


def _warn(progress, text: str) -> None:
    if progress is not None:
        progress.warning(text)


def _info(progress, text: str) -> None:
    if progress is not None:
        progress.info(text)

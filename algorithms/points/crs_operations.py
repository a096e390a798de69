"""What the plan needs to know of CRSs and of the transformation PROJ
chooses between them: units, a vertical axis, the operation's name, the
grids it lacks.  pyproj is imported lazily and none of its types leave.
"""
from __future__ import annotations

import math
import os
import sqlite3
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np

from ..common.errors import OptionError

# Metres on the ground per radian of latitude, to size cells and scales in degrees.
EARTH_RADIUS = 6_378_137.0


@dataclass(frozen=True)
class CrsFacts:
    """A CRS as the plan sees it."""

    text: str            # as given: WKT, "EPSG:n", PROJJSON or a PROJ string
    name: str
    geographic: bool     # angular horizontal axes (longitude, latitude)
    geocentric: bool
    vertical: bool       # a third axis: compound, 3D geographic or projected, geocentric
    xy_unit: float       # horizontal unit: metres, or radians when geographic
    z_unit: Optional[float]   # vertical unit in metres (None: no vertical axis)

    def ground(self, value: float) -> float:
        """A horizontal length in this CRS's units, in metres on the ground."""
        return value * self.xy_unit * (EARTH_RADIUS if self.geographic else 1.0)

    def from_ground(self, metres: float) -> float:
        return metres / (self.xy_unit * (EARTH_RADIUS if self.geographic else 1.0))


def read_crs(text: str, what: str):
    """A pyproj CRS, or an OptionError of one line naming ``what``."""
    try:
        import pyproj
    except ImportError:
        raise OptionError("reprojecting needs the pyproj package (pip install pyproj)") from None
    try:
        return pyproj.CRS.from_user_input(text)
    except Exception as exc:
        detail = " ".join(str(exc).split())
        raise OptionError(f"cannot read {what} {_short(text)!r} as a CRS ({detail})") from None


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= 80 else text[:77] + "..."


def crs_facts(text: str, what: str) -> CrsFacts:
    crs = read_crs(text, what)
    axes = crs.axis_info
    geocentric = bool(crs.is_geocentric)
    geographic = bool(crs.is_geographic) and not geocentric
    vertical = len(axes) >= 3
    z_unit = float(axes[2].unit_conversion_factor) if vertical else None
    xy_unit = float(axes[0].unit_conversion_factor) if axes else 1.0
    return CrsFacts(text=str(text), name=_label(crs), geographic=geographic, geocentric=geocentric,
                    vertical=vertical, xy_unit=xy_unit, z_unit=z_unit)


def same_crs(a: CrsFacts, b: CrsFacts) -> bool:
    """The same CRS, whatever the text (axis order aside)?"""
    if a.text == b.text:
        return True
    import pyproj

    try:
        return bool(pyproj.CRS.from_user_input(a.text).equals(pyproj.CRS.from_user_input(b.text),
                                                                ignore_axis_order=True))
    except Exception:
        return False


def _label(crs) -> str:
    """The CRS's name, with its authority code when it has one (EPSG:4326 and
    EPSG:4978 are both named "WGS 84")."""
    try:
        found = crs.to_authority(min_confidence=90)
    except Exception:
        found = None
    return f"{crs.name} ({found[0]}:{found[1]})" if found else crs.name


def box_samples(mins, maxs, per_axis: int = 21, z_levels: int = 3) -> np.ndarray:
    """Points on a grid over a box (edges included): what a box's image under
    a transformation is estimated from."""
    xs = np.linspace(mins[0], maxs[0], per_axis)
    ys = np.linspace(mins[1], maxs[1], per_axis)
    zs = np.linspace(mins[2], maxs[2], z_levels)
    grid = np.meshgrid(xs, ys, zs, indexing="ij")
    return np.stack([g.reshape(-1) for g in grid], axis=1)


def lonlat_area(source: CrsFacts, boxes: Sequence[Tuple[np.ndarray, np.ndarray]]
                ) -> Optional[Tuple[float, float, float, float]]:
    """(west, south, east, north) in degrees around boxes (mins, maxs) of the
    source CRS, or None."""
    import pyproj

    if not boxes:
        return None
    try:
        crs = pyproj.CRS.from_user_input(source.text)
        to_geodetic = pyproj.Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True)
        pts = np.concatenate([box_samples(lo, hi, per_axis=5, z_levels=2) for lo, hi in boxes])
        lon, lat = to_geodetic.transform(pts[:, 0], pts[:, 1], pts[:, 2])[:2]
    except Exception:
        return None
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        return None
    return (float(lon[ok].min()), float(lat[ok].min()), float(lon[ok].max()), float(lat[ok].max()))


def describe_operation(transformer, source: CrsFacts, target: CrsFacts,
                       area: Optional[Tuple[float, float, float, float]]) -> Tuple[str, List[str]]:
    """(the operation PROJ uses, notes on better ones whose grids are missing).

    ``transformer`` is the one the points go through; when it holds several
    operations (PROJ then picks one per point), they are listed from
    PROJ's candidates for ``area``, best first.
    """
    import pyproj
    from pyproj.transformer import AreaOfInterest, TransformerGroup

    src = pyproj.CRS.from_user_input(source.text)
    dst = pyproj.CRS.from_user_input(target.text)
    aoi = AreaOfInterest(*area) if area else None
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # pyproj warns of missing grids; the notes say it
            group = TransformerGroup(src, dst, always_xy=True, area_of_interest=aoi)
    except Exception:
        group = None
    single = _single_operation(transformer)
    if single is not None:
        used = single
        best = single[1]
    elif group is not None and group.transformers:
        ops = [(t.description, t.accuracy) for t in group.transformers]
        used = ops[0]
        best = used[1]
        if len(ops) > 1:
            others = "another operation" if len(ops) == 2 else f"one of {len(ops) - 1} other operations"
            used = (f"{ops[0][0]} (accuracy {_accuracy(ops[0][1])}), or, for points where that one does not "
                    f"apply, {others}", None)
    else:
        used, best = ("an operation PROJ chooses per point", -1.0), -1.0
    text = used[0] if used[1] is None else f"{used[0]} (accuracy {_accuracy(used[1])})"
    notes = [] if group is None or group.best_available else missing_grid_notes(group.unavailable_operations,
                                                                                 best)
    return text, notes


def _single_operation(transformer) -> Optional[Tuple[str, float]]:
    """(description, accuracy) of a transformer that is one operation, else None."""
    description = getattr(transformer, "description", "") or ""
    if not description or "unavailable until proj_trans" in description:
        return None
    return description, float(getattr(transformer, "accuracy", -1.0))


def _accuracy(value: Optional[float]) -> str:
    return "unknown" if value is None or value < 0 else f"{value:g} m"


def missing_grid_notes(unavailable, used_accuracy: float, most: int = 3) -> List[str]:
    """When PROJ's best operation is not available: a line per operation
    better than the one used (more accurate, or PROJ's first when accuracies
    are unknown) that needs grids which are not installed."""
    notes = []
    for rank, op in enumerate(unavailable):
        grids = [g for g in op.grids if not g.available]
        better = rank == 0 or used_accuracy < 0 or 0 <= op.accuracy < used_accuracy
        if not grids or not better or len(notes) == most:
            continue
        names = ", ".join(g.short_name for g in grids)
        hints = [h for h in (other_case_hint(g.short_name) for g in grids) if h]
        notes.append(f"PROJ's better operation '{op.name}' (accuracy {_accuracy(op.accuracy)}) needs the grid "
                     f"{names}, which is not installed{_network_note()}, so the operation above was used "
                     f"instead" + ("; " + "; ".join(hints) if hints else ""))
    return notes


def _network_note() -> str:
    """copc_builder never turns PROJ's network access on; say when it is off."""
    try:
        import pyproj.network

        return "" if pyproj.network.is_network_enabled() else " (PROJ's network access is off)"
    except Exception:
        return ""


def other_case_hint(grid: str) -> str:
    """When a PROJ data folder holds the grid (or its older name) in another
    letter case, say so: Debian 12's proj-data ships the Swiss grids as
    CHENYX06*.gsb where PROJ looks for CHENyx06*.gsb."""
    import pyproj

    folders = [f for f in pyproj.datadir.get_data_dir().split(os.pathsep) if f]
    names = {grid} | set(_older_names(folders, grid))
    for folder in folders:
        try:
            present = os.listdir(folder)
        except OSError:
            continue
        for wanted in sorted(names):
            for name in present:
                if name != wanted and name.lower() == wanted.lower():
                    return (f"{os.path.join(folder, name)} is that grid under another letter case; a link to it "
                            f"named {wanted} in a folder added to PROJ_DATA (after the one holding proj.db) "
                            f"lets PROJ use it")
    return ""


def _older_names(folders: List[str], grid: str) -> List[str]:
    """The grid's older file names, from proj.db's grid_alternatives."""
    for folder in folders:
        path = os.path.join(folder, "proj.db")
        if not os.path.exists(path):
            continue
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                rows = db.execute("SELECT old_proj_grid_name, original_grid_name FROM grid_alternatives "
                                  "WHERE proj_grid_name = ?", (grid,)).fetchall()
            finally:
                db.close()
        except sqlite3.Error:
            return []
        return [name for row in rows for name in row if name]
    return []


def nearest_power_of_two(value: float) -> float:
    """The power of two nearest ``value`` (> 0) on a log scale."""
    return 2.0 ** round(math.log2(value))


def power_of_two_at_most(value: float) -> float:
    """The largest power of two not above ``value`` (> 0)."""
    return 2.0 ** math.floor(math.log2(value))

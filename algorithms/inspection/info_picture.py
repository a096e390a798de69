"""A picture of a COPC file (``copc-builder info FILE --png OUT.png``):
a top-down view of its coarse levels, each pixel the highest point's
colour (its RGB when the file has colours, else its class when it has
several, else its height), beside the points and compressed bytes per level
as bars.

matplotlib is optional (the ``png`` extra): it is imported only here, when
a picture is asked for, without pyplot (no global state, no display).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Tuple

import numpy as np

from ..common.errors import DependencyError, InputError
from ..copc_file import CopcFile, walk_pages

# Points drawn at most: the coarse levels whose sum stays below this (the root always).
MAX_POINTS = 2_000_000
# ASPRS classes (LAS 1.4 table 17) as colours; others grey.
CLASS_COLOURS = {0: "#9e9e9e", 1: "#bdbdbd", 2: "#a1784f", 3: "#b5d98c", 4: "#6fbf4a", 5: "#2e7d32",
                 6: "#d84315", 7: "#ff00ff", 8: "#ffb74d", 9: "#1e88e5", 10: "#795548", 11: "#424242",
                 12: "#fdd835", 13: "#ffee58", 14: "#ffca28", 15: "#8d6e63", 16: "#ab47bc",
                 17: "#26c6da", 18: "#ef5350"}
BACKGROUND = (1.0, 1.0, 1.0, 1.0)


@dataclass
class CoarsePoints:
    """The points of a file's coarse levels, as the picture needs them."""

    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    rgb: np.ndarray          # (n, 3) uint16, or empty
    classification: np.ndarray
    levels: int              # levels read (0 .. levels - 1)


@dataclass
class Picture:
    """What was drawn: the file, how it was coloured, where the map sits."""

    path: str
    colour_by: str           # "rgb", "class" or "height"
    points: int              # points drawn in the map
    levels: int              # coarse levels drawn
    map_box: Tuple[int, int, int, int]   # the map's pixels: left, top, right, bottom
    raster: Tuple[int, int]  # the map's cells: columns, rows


def import_matplotlib():
    try:
        import matplotlib  # noqa: F401
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise DependencyError("drawing a picture (--png) needs matplotlib: pip install matplotlib "
                              "(or pip install copc-builder[png])") from None
    return Figure, FigureCanvasAgg


def coarse_points(path, max_points: int = MAX_POINTS) -> CoarsePoints:
    """The points of levels 0, 1, ... while their sum stays within max_points."""
    with CopcFile(path) as f:
        if f.info_vlr is None:
            raise InputError(f.path, "is not a COPC file; --png draws COPC files")
        info = f.read_info()
        entries = [e for page in walk_pages(f, info.root_hier_offset, info.root_hier_size)
                   if page.problem is None for e in page.entries
                   if not e.is_page_pointer and e.point_count > 0]
        levels = _levels_within(entries, max_points)
        laz, dtype, h = f.read_laz_vlr(), f.point_dtype(), f.header
        parts = [f.decode_chunk(f.read_chunk(e), e.point_count, laz, e.key, dtype)
                 for e in entries if e.key.level < levels]
    if not parts:
        raise InputError(str(path), "holds no points to draw")
    records = np.concatenate(parts)
    rgb = (np.stack([records["red"], records["green"], records["blue"]], axis=1)
           if "red" in records.dtype.names else np.zeros((0, 3), np.uint16))
    return CoarsePoints(records["X"] * h.scale[0] + h.offset[0], records["Y"] * h.scale[1] + h.offset[1],
                        records["Z"] * h.scale[2] + h.offset[2], rgb, records["classification"].copy(),
                        levels)


def _levels_within(entries, max_points: int) -> int:
    per_level: Dict[int, int] = {}
    for e in entries:
        per_level[e.key.level] = per_level.get(e.key.level, 0) + e.point_count
    levels, total = 0, 0
    for level in sorted(per_level):
        total += per_level[level]
        if level > 0 and total > max_points:
            break
        levels = level + 1
    return levels


def point_colours(points: CoarsePoints) -> Tuple[np.ndarray, str]:
    """(n, 4) RGBA in 0..1, and what they show."""
    from matplotlib import colormaps
    from matplotlib.colors import to_rgba

    n = len(points.z)
    if len(points.rgb) and np.any(points.rgb):
        rgb = points.rgb.astype(np.float64)
        rgb /= 65535.0 if rgb.max() > 255 else 255.0
        return np.concatenate([rgb, np.ones((n, 1))], axis=1), "rgb"
    if len(np.unique(points.classification)) > 1:
        table = np.array([to_rgba(CLASS_COLOURS.get(c, "#757575")) for c in range(256)])
        return table[points.classification], "class"
    lo, hi = np.percentile(points.z, [2, 98]) if n else (0.0, 1.0)
    scaled = np.clip((points.z - lo) / (hi - lo), 0, 1) if hi > lo else np.full(n, 0.5)
    return colormaps["viridis"](scaled), "height"


def top_down(points: CoarsePoints, colours: np.ndarray, cells: int = 800) -> np.ndarray:
    """An image (rows, cols, 4): each cell the colour of its highest point;
    background where there is none.  Row 0 is the north edge."""
    n = len(points.x)
    side = int(np.clip(np.sqrt(n), 64, cells))
    x0, x1, y0, y1 = points.x.min(), points.x.max(), points.y.min(), points.y.max()
    span = max(x1 - x0, y1 - y0) or 1.0
    cols = max(1, int(np.ceil(side * (x1 - x0) / span)))
    rows = max(1, int(np.ceil(side * (y1 - y0) / span)))
    c = np.minimum(((points.x - x0) / span * side).astype(np.int64), cols - 1)
    r = np.minimum(((y1 - points.y) / span * side).astype(np.int64), rows - 1)
    cell = r * cols + c
    order = np.lexsort((points.z, cell))          # by cell, then height: the last is the highest
    last = np.ones(n, bool)
    last[:-1] = cell[order][1:] != cell[order][:-1]
    image = np.tile(np.array(BACKGROUND), (rows * cols, 1))
    image[cell[order][last]] = colours[order][last]
    return image.reshape(rows, cols, 4)


def draw_info_png(info: Dict[str, Any], out_path, max_points: int = MAX_POINTS) -> Picture:
    """Write the picture of the file ``info`` (from ``copc_info``) describes."""
    Figure, FigureCanvasAgg = import_matplotlib()
    points = coarse_points(info["path"], max_points)
    colours, colour_by = point_colours(points)
    image = top_down(points, colours)
    fig = Figure(figsize=(12, 7), dpi=100, facecolor="white")
    canvas = FigureCanvasAgg(fig)
    grid = fig.add_gridspec(2, 2, width_ratios=(1.6, 1), left=0.05, right=0.97, top=0.9, bottom=0.08,
                            wspace=0.25, hspace=0.45)
    ax = fig.add_subplot(grid[:, 0])
    ax.imshow(image, interpolation="nearest", extent=(points.x.min(), points.x.max(),
                                                      points.y.min(), points.y.max()))
    ax.set_title(f"levels 0-{points.levels - 1} from above ({len(points.x):,} points), "
                 f"coloured by {colour_by}", fontsize=10)
    ax.ticklabel_format(useOffset=False, style="plain")
    ax.tick_params(labelsize=7)
    _bars(fig.add_subplot(grid[0, 1]), info, "points", "points per level")
    _bars(fig.add_subplot(grid[1, 1]), info, "bytes", "compressed bytes per level")
    fig.suptitle(f"{info['path']}  ({info['point_count']:,} points, {info['file_size'] / 1e6:,.1f} MB)",
                 fontsize=11)
    canvas.draw()
    box = ax.get_window_extent()
    height = fig.bbox.height
    fig.savefig(out_path, dpi=100, facecolor="white")
    return Picture(str(info["path"]), colour_by, len(points.x), points.levels,
                   (int(box.x0), int(height - box.y1), int(box.x1), int(height - box.y0)),
                   (image.shape[1], image.shape[0]))


def _bars(ax, info: Dict[str, Any], field: str, title: str) -> None:
    rows: List[Dict[str, Any]] = (info.get("copc") or {}).get("levels") or []
    levels = [r["level"] for r in rows]
    values = [r[field] for r in rows]
    ax.bar(levels, values, color="#1e88e5")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("level", fontsize=8)
    ax.set_xticks(levels)
    ax.tick_params(labelsize=7)
    for level, value in zip(levels, values):
        ax.annotate(f"{value:,}", (level, value), ha="center", va="bottom", fontsize=6)

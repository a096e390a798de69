"""Test-side references for --t-srs: PROJ's ``cs2cs`` command line (Debian's
proj-bin, which scripts/dev.sh installs) on the decoded input points, and a
point-by-point comparison of a COPC with it.

cs2cs reads and writes coordinates in each CRS's own axis order (EPSG:4326:
latitude first); ``-r`` and ``-s`` swap the first two for a CRS whose first
axis points north or south, so both sides speak easting/longitude first.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Dict, Optional, Sequence

import laspy
import numpy as np
import pytest

from hostile_helpers import assert_valid_copc, output_frame
from reference import copc_records, expected_layout, expected_records


def require_cs2cs() -> str:
    exe = shutil.which("cs2cs")
    if exe is None:
        pytest.skip("cs2cs (Debian's proj-bin) is needed; bash scripts/dev.sh installs it")
    return exe


def north_first(crs: str) -> bool:
    import pyproj

    axes = pyproj.CRS.from_user_input(crs).axis_info
    return bool(axes) and axes[0].direction.lower() in ("north", "south")


def cs2cs(real: np.ndarray, src: str, dst: str, env: Optional[Dict[str, str]] = None) -> np.ndarray:
    """(n, 3) points transformed by the cs2cs command, easting/longitude first."""
    exe = require_cs2cs()
    flags = (["-r"] if north_first(src) else []) + (["-s"] if north_first(dst) else [])
    lines = "\n".join(f"{x!r} {y!r} {z!r}" for x, y, z in np.asarray(real, np.float64).tolist())
    run = subprocess.run([exe, *flags, "-f", "%.12f", src, dst], input=lines + "\n", capture_output=True,
                         text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr
    rows = [line.split()[:3] for line in run.stdout.splitlines() if line.strip()]
    assert len(rows) == len(real), (len(rows), len(real), run.stderr[:500])
    return np.array([[float(v) if v != "*" else np.nan for v in row] for row in rows])


def decoded(path) -> np.ndarray:
    las = laspy.read(str(path))
    return np.stack([np.asarray(las.x), np.asarray(las.y), np.asarray(las.z)], axis=1)


def _row_keys(records: np.ndarray, xy: np.ndarray, z_in_key: bool) -> np.ndarray:
    """Sort keys: every byte but X and Y (and Z unless it was kept as read),
    then X and Y on the output's grid to break ties."""
    ties = (np.asarray(xy, np.int64) + (1 << 40)).astype(">u8").view(np.uint8).reshape(len(xy), -1)
    return np.ascontiguousarray(np.concatenate([records[:, 8 if z_in_key else 12:], ties], axis=1))


def _order(keys: np.ndarray) -> np.ndarray:
    return np.argsort(keys.view(f"V{keys.shape[1]}").reshape(-1), kind="stable")


def assert_matches_cs2cs(out, paths: Sequence, sources: Sequence[str], target: str, heights: bool,
                         env: Optional[Dict[str, str]] = None, margin: float = 1e-3) -> Dict:
    """The COPC at ``out`` is valid and holds every point of ``paths`` once,
    each at the position cs2cs gives for it from ``sources[i]`` to
    ``target``, within half a scale step (plus ``margin`` of a step for the
    lattice's interpolation, see points/reprojection.py); heights as read
    unless ``heights``.  Returns the largest differences, in scale steps."""
    assert_valid_copc(out)
    pf, scales, offsets, extra = output_frame(out)
    assert (pf, extra) == expected_layout([str(p) for p in paths])
    real = [decoded(p) for p in paths]
    want = np.concatenate([cs2cs(r, s, target, env) for r, s in zip(real, sources)])
    if not heights:
        want[:, 2] = np.concatenate(real)[:, 2]
    assert np.all(np.isfinite(want))
    with np.errstate(invalid="ignore"):   # its X and Y (the input's, in the output's frame) are not used
        expected = expected_records([str(p) for p in paths], pf, scales, offsets, extra)
    got = copc_records(str(out))
    assert got.shape == expected.shape, (got.shape, expected.shape)
    got_xyz = got[:, :12].copy().view("<i4").reshape(-1, 3).astype(np.float64) * scales + offsets
    want_grid = np.rint((want[:, :2] - offsets[:2]) / scales[:2])
    got_grid = got[:, :8].copy().view("<i4").reshape(-1, 2)
    g = _order(_row_keys(got, got_grid, not heights))
    e = _order(_row_keys(expected, want_grid, not heights))
    kept = 8 if not heights else 12   # Z kept as read is the same integer
    assert np.array_equal(got[g][:, kept:], expected[e][:, kept:]), "the points' other fields differ from the input's"
    steps = np.abs(got_xyz[g] - want[e]) / scales
    worst = steps.max(axis=0)
    assert np.all(worst <= 0.5 + margin), f"largest differences from cs2cs, in scale steps: {worst.tolist()}"
    off_grid = np.any(np.rint((want[e] - offsets) / scales) != np.rint((got_xyz[g] - offsets) / scales), axis=1)
    return {"worst_steps": worst.tolist(), "other_rounding": int(off_grid.sum()), "points": len(got)}


def swiss_grid_env(folder: Path) -> Optional[Dict[str, str]]:
    """An environment in which PROJ finds the CHENyx06 grids: None when it
    already does; else, when a PROJ data folder holds them under another
    letter case (Debian 12's proj-data: CHENYX06a.gsb where proj.db says
    CHENyx06a.gsb), links under the expected names in ``folder``, added to
    PROJ_DATA after the folders PROJ has.  Skips when the grids are not there at all."""
    import pyproj

    data = [d for d in pyproj.datadir.get_data_dir().split(os.pathsep) if d]
    wanted = {}
    for d in data:
        db = Path(d) / "proj.db"
        if db.exists():
            con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
            try:
                for new, old in con.execute("SELECT proj_grid_name, old_proj_grid_name FROM grid_alternatives "
                                            "WHERE proj_grid_name LIKE 'ch_swisstopo_CHENyx06%'"):
                    wanted[new] = old
            finally:
                con.close()
            break
    present = {name.lower(): Path(d) / name for d in data if os.path.isdir(d) for name in os.listdir(d)}
    if any((Path(d) / n).exists() or (Path(d) / o).exists() for d in data for n, o in wanted.items()):
        return None
    links = {o: present.get(o.lower()) for o in wanted.values() if o}
    if not links or not all(links.values()):
        pytest.skip(f"the Swiss CHENyx06 grids are not in PROJ's data folders ({', '.join(data)})")
    folder.mkdir(parents=True, exist_ok=True)
    for name, target in links.items():
        (folder / name).symlink_to(target)
    env = dict(os.environ)
    env["PROJ_DATA"] = os.pathsep.join(data + [str(folder)])   # proj.db's folder first, as PROJ wants
    env.pop("PROJ_LIB", None)
    return env

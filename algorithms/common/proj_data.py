"""PROJ's data (proj.db) found for pyproj when pyproj cannot find it itself.

pyproj looks for proj.db in its own wheel, then in PROJ_DATA (or PROJ_LIB),
then under ``sys.prefix``.  In a virtualenv made on a system Python (as
``scripts/dev.sh`` makes one, to reach QGIS's bindings) ``sys.prefix`` is the
venv, so a system pyproj finds nothing and warns "Valid PROJ data directory
not found" on import, whatever the command.  ``ensure_proj_data`` runs when
``copc_builder.algorithms`` is imported, before anything of ours imports
pyproj: when pyproj's own search would fail, it adds the system's PROJ data
folder to PROJ_DATA (which pyproj, PROJ itself and worker processes read).
A PROJ_DATA or PROJ_LIB that already holds proj.db is left alone; one that
does not is kept, after the found folder.  Nothing else is changed.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path
from typing import Iterator, Optional

PROJ_DB = "proj.db"


def ensure_proj_data() -> Optional[str]:
    """The folder added to PROJ_DATA, or None when pyproj needs no help (or
    is not installed, or no proj.db was found on this machine)."""
    spec = _pyproj_spec()
    if spec is None or _pyproj_finds_data(spec):
        return None
    found = next((str(d) for d in _system_folders() if (d / PROJ_DB).is_file()), None)
    if found is None:
        return None
    # proj.db must be in the first folder (PROJ opens the database from it);
    # the user's folders (grids, say) are still searched after it.
    current = os.environ.get("PROJ_DATA", os.environ.get("PROJ_LIB", ""))
    os.environ["PROJ_DATA"] = os.pathsep.join(p for p in (found, current) if p)
    if "pyproj" in sys.modules:     # imported already (and it warned): point it at the data now
        importlib.import_module("pyproj.datadir").set_data_dir(os.environ["PROJ_DATA"])
    return found


def _pyproj_spec():
    try:
        return importlib.util.find_spec("pyproj")   # finds it without importing it
    except (ImportError, ValueError):
        return None


def _pyproj_finds_data(spec) -> bool:
    """pyproj.datadir.get_data_dir's own search, without importing pyproj."""
    folders = []
    for location in spec.submodule_search_locations or []:
        folders.append(Path(location, "proj_dir", "share", "proj"))      # a wheel's own data
    env = os.environ.get("PROJ_DATA", os.environ.get("PROJ_LIB", ""))
    folders += [Path(p) for p in env.split(os.pathsep) if p]
    folders += [Path(sys.prefix, "share", "proj"), Path(sys.prefix, "Library", "share", "proj")]
    exe = shutil.which("proj", path=os.path.join(sys.prefix, "bin")) or shutil.which("proj")
    if exe:
        folders.append(Path(exe).resolve().parent.parent / "share" / "proj")
    return any((folder / PROJ_DB).is_file() for folder in folders)


def _system_folders() -> Iterator[Path]:
    """Where a system's PROJ keeps proj.db: under the Python the venv was
    made from, then the usual prefixes."""
    for prefix in (sys.base_prefix, sys.base_exec_prefix):
        yield Path(prefix, "share", "proj")
        yield Path(prefix, "Library", "share", "proj")
    for prefix in ("/usr", "/usr/local", "/opt/homebrew", "/opt/local"):
        yield Path(prefix, "share", "proj")

"""The optional ``pdal`` package: a guarded import with one message saying what
to install, PDAL's errors as one readable line, and GDAL's error handler left
safe after a pipeline.

Nothing here imports pdal at module level; ``import_pdal()`` does, on demand.
"""
from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import sys
import threading
from typing import Optional

from ..common.errors import DependencyError

PDAL_INSTALL = ("install the pdal Python package together with PDAL itself (libpdal), e.g. "
                "'conda install -c conda-forge pdal python-pdal', or 'pip install pdal' where "
                "PDAL 2.6 or newer is already installed")
STAGE_INSTALL = ("the stage runs inside PDAL's filters.python, which comes with the pdal-plugins "
                 "package ('pip install pdal-plugins', or conda-forge 'python-pdal'); PDAL finds "
                 "it through PDAL_DRIVER_PATH (see 'python -m pdal --pdal-plugin-path')")


def pdal_missing_message(reason: Optional[str] = None) -> str:
    """The one message for every host when pdal cannot be imported."""
    why = f" ({reason})" if reason and "No module named" not in reason else ""
    return (f"PDAL pipelines need the pdal Python package, which this Python "
            f"({sys.executable}) cannot import{why}: {PDAL_INSTALL}")


def _set_driver_path() -> None:
    """Point PDAL at the plugins shipped beside the pdal package (filters.python,
    readers.numpy) unless the user chose a path.  Must run before ``import pdal``."""
    if os.environ.get("PDAL_DRIVER_PATH") or "pdal" in sys.modules:
        return
    try:
        spec = importlib.util.find_spec("pdal")
    except (ImportError, ValueError):
        return
    if spec is None or not spec.origin:
        return
    folder = os.path.dirname(spec.origin)
    try:
        plugins = [n for n in os.listdir(folder) if n.startswith("libpdal_plugin_")]
    except OSError:
        return
    if plugins:
        os.environ["PDAL_DRIVER_PATH"] = folder


def import_pdal():
    """The pdal module, or DependencyError saying what to install."""
    _set_driver_path()
    try:
        import pdal
    except (ImportError, OSError) as exc:
        raise DependencyError(pdal_missing_message(str(exc))) from None
    if not hasattr(pdal, "Pipeline"):
        where = getattr(pdal, "__file__", None) or "an unknown place"
        raise DependencyError(pdal_missing_message(f"the 'pdal' module found at {where} has no Pipeline"))
    return pdal


@contextlib.contextmanager
def stdout_kept():
    """PDAL's Python plugins (readers.numpy, filters.python after an error)
    leave ``sys.stdout`` redirected into PDAL's log; put it back."""
    saved = sys.stdout
    try:
        yield
    finally:
        if sys.stdout is not saved:
            sys.stdout = saved


_TRACEBACK_SPLIT = re.compile(r"\\n|\n")


def pdal_problem(exc: BaseException) -> str:
    """One line out of a PDAL error (its C++ message, or the last line of a
    Python traceback that filters.python wrapped into one)."""
    text = str(exc).strip()
    if "Traceback (most recent call last)" in text:
        parts = [p.strip().strip("'\"").strip() for p in _TRACEBACK_SPLIT.split(text)]
        parts = [p for p in parts if p and p != "''"]
        text = parts[-1] if parts else text
    else:
        text = next((line.strip() for line in text.splitlines() if line.strip()), "")
    text = text or type(exc).__name__
    m = re.search(r"Couldn't create (\w+) stage of type '([^']+)'", text)
    if m:
        stage = m.group(2)
        hint = "check its spelling"
        if stage in ("filters.python", "readers.numpy"):
            hint = ("it comes with the pdal-plugins package, found through PDAL_DRIVER_PATH "
                    "(see 'python -m pdal --pdal-plugin-path')")
        text = f"PDAL has no stage '{stage}' ({hint})"
    return text


# PDAL (2.8) routes GDAL's errors, process-wide, to the log of the last stage
# it set up (pdal::gdal::ErrorHandler, installed with CPLSetErrorHandler), and
# its set/clear calls get out of step (a stage that throws, quickinfo), so the
# handler stays installed after the pipeline is gone.  That log writes into a
# stream the pdal.Pipeline owns: once the pipeline is freed, the next GDAL
# error anywhere in the process (QGIS probing a file with GDAL, say) writes
# into freed memory and crashes it.  After each pipeline, a one-point
# pipeline that is kept until the next one takes the handler's log over.
_KEEPER_STAGES = json.dumps([{"type": "readers.faux", "count": 1, "mode": "constant"}])
_KEEPERS: list = []
_KEEPER_LOCK = threading.RLock()   # re-entered when a finalizer closes a pipeline meanwhile


def leave_gdal_errors_a_live_log() -> None:
    """Point PDAL's GDAL error handler at the log of a pipeline that stays
    alive; call it once a pipeline is done with (and its stream finished)."""
    pdal = sys.modules.get("pdal")
    if pdal is None or not hasattr(pdal, "Pipeline"):
        return
    with _KEEPER_LOCK, stdout_kept():
        try:
            keeper = pdal.Pipeline(_KEEPER_STAGES)
        except Exception:         # never hide the error the caller is closing for
            return
        mine = [keeper]
        _KEEPERS.append(keeper)
        try:
            keeper.execute()      # its stage set-up hands the handler its log
        except Exception:         # its log is the handler's even so, and it is kept
            pass
        _KEEPERS[:] = mine        # the last to run, whatever ran in between

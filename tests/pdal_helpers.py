"""PDAL for the tests: found by capability, skipped cleanly when missing.

PDAL_DRIVER_PATH must be set before ``import pdal`` for PDAL to find the
plugins that ship beside the package (filters.python, readers.numpy); it is
set here from the package's location, found without importing it.
"""
from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Optional

import laspy
import numpy as np
import pytest

from fixtures import write_las, write_rich


def _set_driver_path() -> None:
    """The product's own: PDAL's plugins found before pdal is imported."""
    from copc_builder.algorithms.sources.pdal_support import _set_driver_path as product_setting

    product_setting()


# PDAL 2.8.4 built for the team's machines, beside the repository (its README).
SHARED_PDAL = Path(__file__).resolve().parents[2] / "shared" / "pdal"


@functools.lru_cache(maxsize=None)
def _import_pdal():
    """(the pdal module, None) when it can run pipelines, else (None, why not)."""
    _set_driver_path()
    try:
        import pdal
    except (ImportError, OSError) as exc:
        return None, str(exc)
    if not hasattr(pdal, "Pipeline"):
        return None, f"the pdal module at {getattr(pdal, '__file__', None)} has no Pipeline"
    return pdal, None


def pdal_module():
    """The pdal module when it can run pipelines, else None."""
    return _import_pdal()[0]


def require_pdal():
    pdal, why = _import_pdal()
    if pdal is None:
        if (SHARED_PDAL / "env.sh").is_file():
            hint = (f"{SHARED_PDAL} is there: run the tests with 'bash scripts/dev.sh test', which "
                    f"sources its env.sh before Python starts")
        else:
            hint = "install PDAL and the pdal package (README, PDAL), or put ../shared/pdal beside the repository"
        pytest.skip(f"the pdal Python package (with libpdal) is not importable ({why}); {hint}")
    return pdal


_CANNOT_CREATE_PYTHON_FILTER = "Couldn't create filter stage of type 'filters.python'"


@functools.lru_cache(maxsize=None)
def _python_filter_runs() -> bool:
    pdal = pdal_module()
    if pdal is None or not hasattr(pdal.Filter, "python"):
        return False
    folder = tempfile.mkdtemp(prefix="copc_builder-pdal-probe-")
    try:
        las = write_las(Path(folder) / "probe.las", n=10)
        stages = [{"type": "readers.las", "filename": str(las)},
                  {"type": "filters.python", "module": "probe", "function": "f",
                   "source": "def f(ins, outs):\n    return True\n"}]
        saved = sys.stdout
        try:
            count = pdal.Pipeline(json.dumps(stages)).execute()
        except RuntimeError as exc:
            # What PDAL says when it cannot load the plugin; any other error is a failure.
            if _CANNOT_CREATE_PYTHON_FILTER in str(exc):
                return False
            raise
        finally:
            sys.stdout = saved
        assert count == 10, f"filters.python passed {count} of 10 points"
        return True
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def require_python_filter():
    """pdal, when PDAL can create and run filters.python."""
    pdal = require_pdal()
    if not _python_filter_runs():
        pytest.skip("PDAL cannot run filters.python (pdal-plugins missing, or PDAL_DRIVER_PATH "
                    "does not lead to it)")
    return pdal


def pdal_cli() -> Optional[str]:
    """The pdal command line program, when there is one: on PATH, or beside
    the libpdal this process loaded."""
    found = shutil.which("pdal")
    if found:
        return found
    if pdal_module() is None:
        return None
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "libpdalcpp" in line}
    except OSError:
        return None
    for lib in libs:
        candidate = Path(lib).resolve().parent.parent / "bin" / "pdal"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def run_pipeline(stages) -> "object":
    """Execute a pipeline (a list of stages) with the Python API; its pdal.Pipeline."""
    pdal = require_pdal()
    saved = sys.stdout
    try:
        p = pdal.Pipeline(json.dumps(stages))
        p.execute()
    finally:
        sys.stdout = saved
    return p


def cli_pythonpath(tmp_path: Path) -> str:
    """PYTHONPATH for PDAL's embedded Python: a folder holding copc_builder
    (a link to this checkout, whatever its folder's name) and this Python's
    site-packages for copc_builder's dependencies."""
    import site

    import copc_builder

    link_dir = tmp_path / "pythonpath"
    link_dir.mkdir(exist_ok=True)
    link = link_dir / "copc_builder"
    if not link.exists():
        link.symlink_to(Path(copc_builder.__file__).resolve().parent, target_is_directory=True)
    paths = [str(link_dir)] + [p for p in site.getsitepackages() if os.path.isdir(p)]
    return os.pathsep.join(paths)


def run_pdal_cli(cli: str, pipeline_path: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = cli_pythonpath(tmp_path)
    return subprocess.run([cli, "pipeline", str(pipeline_path)], capture_output=True, text=True,
                          env=env, timeout=600, cwd=str(tmp_path))


# -- inputs and their checks ------------------------------------------------------
PDAL_EXTRA = [("amplitude", "f4"), ("echo_id", "u2"), ("deviation", "i1")]


def rich_las(path, point_format: int = 8, n: int = 20_000, seed: int = 1, extra: bool = True,
             crs: str = "EPSG:2056") -> Path:
    """fixtures.write_rich in a Swiss frame (Z 400 to 450 m, 1 mm in Z), with
    three typed extra dimensions unless extra=False, and no legacy class 12
    (PDAL reads it as the overlap flag)."""
    return write_rich(path, point_format, n=n, seed=seed, extra=PDAL_EXTRA if extra else (),
                      crs=crs, offset=(2_600_000.0, 1_200_000.0, 0.0), scales=(0.01, 0.01, 0.001),
                      origin=(2_600_000.0, 1_200_000.0, 400.0), extent=(400.0, 300.0, 50.0),
                      legacy_class_12=False)


def write_subset(src, mask, path) -> Path:
    """The points of ``src`` where ``mask`` holds, written with laspy in src's header."""
    las = laspy.read(str(src))
    out = laspy.LasData(las.header)
    out.points = las.points[mask]
    out.write(str(path))
    return Path(path)


def header_of(path) -> dict:
    """What a COPC's header says about its frame: format, scales, offsets,
    count, CRS, extra dimensions (name, numpy type)."""
    with laspy.open(str(path)) as r:
        h = r.header
        return dict(format=h.point_format.id, scales=tuple(h.scales), offsets=tuple(h.offsets),
                    count=h.point_count, crs=h.parse_crs(),
                    extra=[(d.name, np.dtype(d.dtype).str) for d in h.point_format.extra_dimensions])

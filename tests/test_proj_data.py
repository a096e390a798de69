"""No "Valid PROJ data directory not found" from pyproj, however copc-builder
is started: the installed script, ``python -m copc_builder`` and the API,
with PROJ_DATA and PROJ_LIB unset (in the venv ``scripts/dev.sh`` makes,
pyproj looks under the venv and finds nothing), and CRSs still convert.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import laspy
import pytest

from fixtures import write_las

SCRIPT = Path(sys.executable).parent / "copc-builder"


def no_proj_env(**more) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PROJ_DATA", "PROJ_LIB")}
    env.update(more)
    return env


def run(args, env=None, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600,
                          env=env or no_proj_env(), cwd=cwd)


def assert_quiet(r: subprocess.CompletedProcess) -> None:
    assert r.returncode == 0, r.stderr
    assert "PROJ" not in r.stderr and "Warning" not in r.stderr, r.stderr


@pytest.fixture(scope="module")
def geotiff_input(tmp_path_factory):
    """A LAS 1.2 file whose CRS is GeoTIFF keys only (no WKT): the build must
    convert them to WKT with pyproj."""
    path = write_las(tmp_path_factory.mktemp("proj") / "geotiff.las", n=3_000, point_format=1,
                     crs="EPSG:32633", offset=(500_000.0, 5_000_000.0, 0.0))
    with laspy.open(str(path)) as r:
        kinds = {type(v).__name__ for v in r.header.vlrs}
    assert "GeoKeyDirectoryVlr" in kinds and "WktCoordinateSystemVlr" not in kinds
    return path


@pytest.mark.skipif(not SCRIPT.is_file(), reason=f"no installed copc-builder script at {SCRIPT}")
def test_installed_script_prints_no_proj_warning(tmp_path, geotiff_input):
    out = tmp_path / "out.copc.laz"
    assert_quiet(run([SCRIPT, "--help"]))
    assert_quiet(run([SCRIPT, "build", geotiff_input, "-o", out, "--progress", "plain"]))
    info = run([SCRIPT, "info", out])
    assert_quiet(info)
    assert "CRS:" in info.stdout and "UTM zone 33N (EPSG:32633)" in info.stdout
    assert_quiet(run([SCRIPT, "validate", out]))
    with laspy.open(str(out)) as r:
        wkt = [v.string for v in r.header.vlrs if type(v).__name__ == "WktCoordinateSystemVlr"]
    assert len(wkt) == 1 and wkt[0].startswith("PROJCS[") and "UTM zone 33N" in wkt[0]


def test_module_and_api_print_no_proj_warning(tmp_path, geotiff_input):
    out = tmp_path / "api.copc.laz"
    assert_quiet(run([sys.executable, "-m", "copc_builder", "info", geotiff_input]))
    api = ("import sys\nfrom copc_builder import build_copc, copc_info\n"
           "build_copc([sys.argv[1]], sys.argv[2])\nprint(copc_info(sys.argv[2])['crs']['epsg'])\n")
    r = run([sys.executable, "-c", api, geotiff_input, out], cwd=tmp_path)
    assert_quiet(r)
    assert r.stdout.split() == ["32633"]


def test_a_working_proj_data_is_left_alone_and_a_broken_one_kept(tmp_path):
    show = ("import os, copc_builder.algorithms, pyproj\n"
            "print(os.environ.get('PROJ_DATA')); print(pyproj.datadir.get_data_dir())\n")
    found = run([sys.executable, "-c", show])
    assert_quiet(found)
    data_dir = found.stdout.splitlines()[1]
    assert any(Path(d, "proj.db").is_file() for d in data_dir.split(os.pathsep))
    working = run([sys.executable, "-c", show], env=no_proj_env(PROJ_DATA=data_dir))
    assert_quiet(working)
    assert working.stdout.splitlines()[0] == data_dir
    broken = run([sys.executable, "-c", show], env=no_proj_env(PROJ_DATA=str(tmp_path)))
    assert_quiet(broken)
    setting, used = broken.stdout.splitlines()
    assert str(tmp_path) in setting.split(os.pathsep)         # the user's own folder is still searched
    assert any(Path(d, "proj.db").is_file() for d in used.split(os.pathsep))


def test_wkt_from_geotiff_keys_parses_in_proj4js(tmp_path, geotiff_input):
    """The WKT pyproj made from the GeoTIFF keys (PROJ_DATA unset) is one
    proj4js, the CRS reader of copc.js, parses."""
    from js_readers import proj4_verdicts, require_node

    require_node()
    out = tmp_path / "out.copc.laz"
    assert_quiet(run([sys.executable, "-m", "copc_builder", "build", geotiff_input, "-o", out,
                      "--progress", "plain"]))
    with laspy.open(str(out)) as r:
        wkt = next(v.string for v in r.header.vlrs if type(v).__name__ == "WktCoordinateSystemVlr")
    assert proj4_verdicts({"out": wkt}) == {"out": "ok"}

""""Install Python dependencies" on a QGIS whose Python lacks them: Debian's QGIS 3.40
(qgis_process) on the system Python, which has numpy 1.x (and SciPy, GDAL built for it) but
no numba, laspy or lazrs; the user's site-packages and this repository's virtualenv are out
of the way (PYTHONNOUSERSITE, no PYTHONPATH).

The installer, given a target folder, installs there only what is missing, at versions that
work with the numpy QGIS has loaded; QGIS's numpy is untouched and nothing QGIS's Python has is
shadowed; a fresh Python (as QGIS starts it, the folder on its path) imports numba, laspy, lazrs,
lz4 and the plugin's core; the build's kernels are compiled (into a fresh numba cache), so the
first build compiles nothing.  pip downloads about 50 MB the first time (its cache then serves).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from copc_builder.demo import write_sample_scene
from qgis_helpers import stable_plugin_folder

QGIS_PROCESS = shutil.which("qgis_process") or "/usr/bin/qgis_process"
QGIS_PYTHON = os.path.join(sys.base_prefix, "bin", f"python{sys.version_info[0]}.{sys.version_info[1]}")

pytestmark = [
    pytest.mark.qgis,
    pytest.mark.slow,
    pytest.mark.skipif(not os.access(QGIS_PROCESS, os.X_OK), reason=f"{QGIS_PROCESS} not found"),
]

PROBE = """
import importlib, json, sys
found = {}
for name in sys.argv[1:]:
    try:
        module = importlib.import_module(name)
        found[name] = [getattr(module, "__version__", ""), module.__file__]
    except ImportError as exc:
        found[name] = None
from importlib import metadata
found["distributions"] = sorted({d.metadata["Name"].lower().replace("_", "-") for d in metadata.distributions()})
print(json.dumps(found))
"""


def bare_env(profile: Path, **extra) -> dict:
    """QGIS's own Python only: no virtualenv, no user site, a throwaway profile."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(QGIS_PLUGINPATH=str(stable_plugin_folder()), QGIS_CUSTOM_CONFIG_PATH=str(profile),
               QT_QPA_PLATFORM="offscreen", PYTHONNOUSERSITE="1",
               PROJ_DATA=os.environ.get("PROJ_DATA", "/usr/share/proj"))
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p)
    env.update(extra)
    return env


def probe(env: dict, *modules: str) -> dict:
    run = subprocess.run([QGIS_PYTHON, "-c", PROBE, *modules], capture_output=True, text=True, env=env,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def file_digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def qgis_process_json(env: dict, *args: str) -> dict:
    run = subprocess.run([QGIS_PROCESS, "--json", *args], capture_output=True, text=True, env=env, timeout=1200)
    assert run.returncode == 0, (run.stdout[-3000:], run.stderr[-3000:])
    return json.loads(run.stdout)


@pytest.fixture(scope="module")
def bare_qgis(tmp_path_factory):
    profile = tmp_path_factory.mktemp("bare-qgis-profile")
    env = bare_env(profile, NUMBA_CACHE_DIR=str(tmp_path_factory.mktemp("numba-cache")))   # nothing compiled
    before = probe(env, "numpy", "numba", "laspy", "lazrs", "lz4")
    if before["numba"] or before["laspy"] or before["lazrs"]:
        pytest.skip(f"{QGIS_PYTHON} has numba, laspy or lazrs already: nothing to show on it")
    enabled = subprocess.run([QGIS_PROCESS, "plugins", "enable", "copc_builder"], capture_output=True, text=True,
                             env=env, timeout=300)
    assert "* copc_builder" in enabled.stdout, enabled.stdout + enabled.stderr
    return env, before


def test_the_installer_keeps_qgis_numpy_and_a_fresh_python_imports_everything(bare_qgis, tmp_path):
    env, before = bare_qgis
    numpy_version, numpy_file = before["numpy"]
    numpy_digest = file_digest(numpy_file)
    target = tmp_path / "site"

    run = qgis_process_json(env, "run", "copcbuilder:installdependencies", "--", f"TARGET={target}")

    installed = run["results"]["INSTALLED"].split()
    names = {pin.split("==")[0].lower() for pin in installed}
    assert {"numba", "laspy", "lazrs"} <= names, installed          # what was missing ...
    assert not names & set(before["distributions"]), installed      # ... and nothing QGIS's Python has
    in_target = {p.name.split("-")[0].lower().replace("_", "-") for p in target.glob("*.dist-info")}
    assert in_target == names
    assert not (target / "numpy").exists()
    infos = run["log"]["info"]
    assert any(line.startswith("Keeping the ") and f"(numpy {numpy_version})" in line for line in infos), infos
    assert any(line.startswith(f"A fresh QGIS Python imports numpy {numpy_version}, numba ") for line in infos)

    # QGIS's numpy: the same file, the same bytes, the version a new QGIS Python loads
    after = probe(env, "numpy")
    assert after["numpy"] == [numpy_version, numpy_file] and file_digest(numpy_file) == numpy_digest

    # a fresh QGIS Python with the folder first on its path imports everything, QGIS's numpy included
    fresh = probe(dict(env, PYTHONPATH=os.pathsep.join([str(target), str(stable_plugin_folder())])),
                  "numpy", "numba", "laspy", "lazrs", "lz4", "copc_builder.algorithms.api")
    assert fresh["numpy"] == [numpy_version, numpy_file]
    for name in ("numba", "laspy", "lazrs"):
        assert fresh[name] and fresh[name][1].startswith(str(target)), (name, fresh[name])
    assert fresh["copc_builder.algorithms.api"][1].startswith(str(stable_plugin_folder()))
    assert fresh["lz4"] == before["lz4"]                               # QGIS's own, not a second copy

    # the installer compiled the build's kernels: the first build compiles nothing
    assert any(line.startswith("The build's kernels are compiled and loaded") for line in infos), infos
    scene = write_sample_scene(tmp_path / "scene.laz", points=20_000, seed=9)
    build = subprocess.run([QGIS_PROCESS, "run", "copcbuilder:buildcopc", "--", f"INPUT={scene}",
                            f"OUTPUT={tmp_path / 'scene.copc.laz'}"], capture_output=True, text=True, timeout=600,
                           env=dict(env, PYTHONPATH=str(target)))
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    assert "Wrote " in build.stdout and "compil" not in build.stdout.lower()


def test_nothing_missing_nothing_installed(bare_qgis, tmp_path):
    """Asked for what QGIS's Python has (numpy, any version): left as it is, pip never runs."""
    env, before = bare_qgis
    run = qgis_process_json(env, "run", "copcbuilder:installdependencies", "--", "PACKAGES=numpy lz4",
                            f"TARGET={tmp_path / 'site'}")
    assert run["results"]["INSTALLED"] == ""
    infos = run["log"]["info"]
    assert f"numpy {before['numpy'][0]} is installed already: left as it is" in infos
    assert not any("-m pip install" in line for line in infos)
    assert list((tmp_path / "site").iterdir()) == []

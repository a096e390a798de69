"""The plugin's algorithms through qgis_process, QGIS's command line runner.

Run as the README says: QGIS_PLUGINPATH names a folder holding the plugin
as ``copc_builder`` (here a symlink to this repository), PYTHONPATH adds the
site-packages holding numba/laspy/lazrs, the plugin is enabled once with
``qgis_process plugins enable copc_builder``.  The ``qgis_process`` command
itself is run: Debian's wrapper script (which sets the library path for
GRASS, then runs ``qgis_process.bin``) works on QGIS 3.40.
"""
import json
import os
import shutil
import subprocess
import sysconfig
from pathlib import Path

import laspy
import pytest

import copc_builder
from copc_builder.demo import write_sample_scene
from copc_builder.algorithms.validate import validate_copc
from hostile_helpers import assert_holds_files
from qgis_helpers import stable_plugin_folder

ROOT = Path(copc_builder.__file__).resolve().parent
QGIS_PROCESS = shutil.which("qgis_process") or "/usr/bin/qgis_process"
MODEL = Path(__file__).resolve().parent / "data" / "build_and_validate.model3"

pytestmark = [
    pytest.mark.qgis,
    pytest.mark.skipif(not os.access(QGIS_PROCESS, os.X_OK), reason=f"{QGIS_PROCESS} not found"),
]


@pytest.fixture(scope="module")
def qgis_env(tmp_path_factory):
    profile = tmp_path_factory.mktemp("qgis_process-profile")
    site = sysconfig.get_paths()["purelib"]
    env = dict(os.environ)
    env.update(
        QGIS_PLUGINPATH=str(stable_plugin_folder()),
        PYTHONPATH=os.pathsep.join(p for p in (site, os.environ.get("PYTHONPATH")) if p),
        QT_QPA_PLATFORM="offscreen",
        QGIS_CUSTOM_CONFIG_PATH=str(profile),      # a throwaway profile, not the user's
        PROJ_DATA=os.environ.get("PROJ_DATA", "/usr/share/proj"),
    )
    listing = qgis_process(env, "plugins")
    assert "copc_builder" in listing.stdout, listing.stdout
    enabled = qgis_process(env, "plugins", "enable", "copc_builder")
    assert enabled.returncode == 0, enabled.stderr
    assert "* copc_builder" in enabled.stdout       # loaded, with a Processing provider
    return env


def qgis_process(env, *args, timeout=600):
    return subprocess.run([QGIS_PROCESS, *args], capture_output=True, text=True, env=env, timeout=timeout)


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("qgis_process-scenes")
    return (write_sample_scene(folder / "a.laz", points=40_000, seed=7),
            write_sample_scene(folder / "b.laz", points=30_000, seed=8))


def test_algorithms_are_listed(qgis_env):
    listing = qgis_process(qgis_env, "list")
    assert listing.returncode == 0, listing.stderr
    assert "copcbuilder:buildcopc\tBuild COPC" in listing.stdout
    assert "copcbuilder:validatecopc\tValidate COPC" in listing.stdout
    assert "copcbuilder:installdependencies\tInstall Python dependencies" in listing.stdout
    help_text = qgis_process(qgis_env, "help", "copcbuilder:buildcopc")
    assert help_text.returncode == 0
    assert "MEMORY_BUDGET" in help_text.stdout and "TEMP_FOLDER" in help_text.stdout


def test_build_exits_0_and_writes_a_valid_file(qgis_env, scenes, tmp_path):
    out = tmp_path / "qp.copc.laz"
    run = qgis_process(qgis_env, "run", "copcbuilder:buildcopc", "--",
                       f"INPUT={scenes[0]}", f"INPUT={scenes[1]}", f"OUTPUT={out}", "THREADS=1")
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    total = 0
    for p in scenes:                                # counted by laspy, not the product
        with laspy.open(str(p)) as f:
            total += f.header.point_count
    assert total > 0
    report = validate_copc(out)
    assert report.ok and report.points == total
    assert_holds_files(out, scenes)                 # every input point once (CopcReader, test parser)
    assert f"POINTS:\t{total}" in run.stdout
    assert "...100" in run.stdout                  # qgis_process's own progress line reached the end
    assert os.listdir(tmp_path) == ["qp.copc.laz"]


def test_bad_input_exits_1_with_the_clear_message(qgis_env, tmp_path):
    bad = tmp_path / "notes.laz"
    bad.write_text("not a point cloud\n")
    run = qgis_process(qgis_env, "run", "copcbuilder:buildcopc", "--", f"INPUT={bad}",
                       f"OUTPUT={tmp_path / 'x.copc.laz'}")
    assert run.returncode == 1
    assert f"{bad}: not a LAS/LAZ file (no LASF signature)" in run.stdout + run.stderr
    assert os.listdir(tmp_path) == ["notes.laz"]


def test_model_file_runs_in_qgis_process(qgis_env, scenes, tmp_path):
    copc = tmp_path / "model.copc.laz"
    report = tmp_path / "model.html"
    run = qgis_process(qgis_env, "--json", "run", str(MODEL), "--", f"las_files={scenes[0]}",
                       f"copc_file={copc}", f"validation_report={report}", "validation_findings=TEMPORARY_OUTPUT")
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    results = json.loads(run.stdout)["results"]
    assert results["copc_file"] == str(copc)
    assert validate_copc(copc).ok
    assert_holds_files(copc, [scenes[0]])
    assert "valid COPC 1.0" in report.read_text(encoding="utf-8")


def test_validate_takes_a_file_path(qgis_env, scenes, tmp_path):
    """Validate COPC's INPUT is a point-cloud layer parameter; a file path still works from the
    command line, a good file and one QGIS cannot open alike."""
    copc = tmp_path / "v.copc.laz"
    build = qgis_process(qgis_env, "run", "copcbuilder:buildcopc", "--", f"INPUT={scenes[1]}", f"OUTPUT={copc}")
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-3000:]
    run = qgis_process(qgis_env, "--json", "run", "copcbuilder:validatecopc", "--", f"INPUT={copc}",
                       f"REPORT={tmp_path / 'r.html'}")
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    results = json.loads(run.stdout)["results"]
    with laspy.open(str(scenes[1])) as f:
        points = f.header.point_count
    assert results["VALID"] is True and results["POINTS"] == points > 0
    bad = tmp_path / "bad.copc.laz"
    bad.write_text("plain text\n")
    run = qgis_process(qgis_env, "--json", "run", "copcbuilder:validatecopc", "--", f"INPUT={bad}",
                       f"REPORT={tmp_path / 'bad.html'}")
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    assert json.loads(run.stdout)["results"]["VALID"] is False


def test_install_dependencies_runs_pip_of_qgis_python(qgis_env, tmp_path):
    """In qgis_process sys.executable is qgis_process itself: the algorithm still finds QGIS's
    Python and its pip, installs a small pure-Python package into a folder, and imports it."""
    target = tmp_path / "site"
    run = qgis_process(qgis_env, "--json", "run", "copcbuilder:installdependencies", "--",
                       "PACKAGES=cowsay", f"TARGET={target}")
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    results = json.loads(run.stdout)["results"]
    assert results["INSTALLED"].startswith("cowsay==") and results["FOLDER"] == str(target)
    assert (target / "cowsay" / "__init__.py").is_file()

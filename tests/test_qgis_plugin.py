"""The QGIS plugin: metadata, icon, load/unload, missing dependencies, the zip."""
import configparser
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from qgis.core import QgsApplication, QgsProcessingException

import copc_builder

ROOT = Path(copc_builder.__file__).resolve().parent
REQUIRED_KEYS = ("name", "description", "about", "version", "author", "email", "repository", "tracker",
                 "homepage", "tags", "icon", "qgisMinimumVersion", "hasProcessingProvider")

pytestmark = pytest.mark.qgis


def read_metadata(text: str) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read_string(text)
    return parser["general"]


def plugin_folder(tmp_path: Path) -> Path:
    """A plugins folder holding this repository as ``copc_builder``."""
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "copc_builder").symlink_to(ROOT, target_is_directory=True)
    return folder


def test_metadata_is_complete():
    meta = read_metadata((ROOT / "metadata.txt").read_text(encoding="utf-8"))
    for key in REQUIRED_KEYS:
        assert meta.get(key, "").strip(), f"metadata.txt lacks {key}"
    assert meta["version"] == copc_builder.__version__ == "0.1.0"
    assert meta["qgisMinimumVersion"] == "3.40"        # the oldest QGIS the suite runs on
    assert meta["qgisMaximumVersion"] == "4.99"        # else QGIS takes 3.99 and QGIS 4 refuses the plugin
    assert meta["hasProcessingProvider"] == "yes"
    assert meta["author"] == "copc_builder developers"
    for key in ("repository", "tracker", "homepage"):
        assert meta[key].startswith("https://github.com/copc-builder/copc_builder")
    assert (ROOT / meta["icon"]).is_file()


def test_qgis_reads_the_metadata(tmp_path):
    """QGIS's own plugin finder sees the folder as a plugin with a Processing provider."""
    import qgis.utils

    folder = plugin_folder(tmp_path)
    found = dict(qgis.utils.findPlugins(str(folder)))
    assert "copc_builder" in found
    meta = found["copc_builder"]
    assert meta.get("general", "name") == "COPC Builder"
    assert meta.get("general", "hasProcessingProvider") == "yes"


def test_icons_load():
    from qgis.PyQt.QtGui import QIcon, QImage

    from copc_builder.plugin.qgis_support import ICON_PATH

    assert not QIcon(ICON_PATH).isNull()
    png = QImage(str(ROOT / "icon.png"))
    assert not png.isNull() and png.width() == png.height() >= 32


def test_plugin_registers_and_removes_the_provider(copc_processing):
    registry = QgsApplication.processingRegistry()
    registry.removeProvider("copcbuilder")          # the fixture's; the plugin brings its own
    assert registry.providerById("copcbuilder") is None

    plugin = copc_builder.classFactory(None)        # QGIS passes iface; the plugin needs none
    plugin.initProcessing()                          # what QGIS and qgis_process call first
    plugin.initGui()                                 # then the GUI: no second provider
    provider = registry.providerById("copcbuilder")
    assert provider is plugin.provider
    assert provider.name() == "COPC Builder"
    assert not provider.icon().isNull()
    assert sorted(a.id() for a in provider.algorithms()) == ["copcbuilder:buildcopc", "copcbuilder:buildcopctiles",
                                                             "copcbuilder:installdependencies",
                                                             "copcbuilder:validatecopc"]
    assert [p.id() for p in registry.providers()].count("copcbuilder") == 1

    plugin.unload()
    assert registry.providerById("copcbuilder") is None
    assert plugin.provider is None
    assert registry.algorithmById("copcbuilder:buildcopc") is None


@pytest.mark.parametrize("alg_id", ["copcbuilder:buildcopc", "copcbuilder:validatecopc"])
def test_missing_dependency_is_reported_not_raised(copc_processing, monkeypatch, tmp_path, alg_id):
    """With lazrs unimportable the algorithm is listed, refuses to run, and says how to install."""
    monkeypatch.setitem(sys.modules, "lazrs", None)     # "import lazrs" now raises ImportError
    alg = QgsApplication.processingRegistry().createAlgorithmById(alg_id)
    ok, message = alg.canExecute()
    assert not ok
    assert message.startswith("missing Python packages: lazrs.")
    assert "-m pip install" in message and "lazrs" in message.split("pip install", 1)[1]
    assert "Cannot run yet" in alg.shortHelpString()

    import processing

    params = {"INPUT": [str(tmp_path / "a.laz")], "OUTPUT": str(tmp_path / "a.copc.laz")}
    if alg_id.endswith("validatecopc"):
        params = {"INPUT": str(tmp_path / "a.copc.laz"), "REPORT": str(tmp_path / "r.html")}
    with pytest.raises(QgsProcessingException) as caught:
        processing.run(alg_id, params)
    assert str(caught.value) == message
    assert os.listdir(tmp_path) == []


def test_broken_dependency_says_why(monkeypatch):
    from copc_builder.plugin import qgis_support

    real_import = qgis_support.importlib.import_module

    def fake_import(name, *args):
        if name == "numba":
            raise ImportError("Numba needs NumPy 1.26 or less")
        return real_import(name, *args)

    monkeypatch.setattr(qgis_support.importlib, "import_module", fake_import)
    problem = qgis_support.dependency_problem(qgis_support.BUILD_MODULES)
    assert problem.startswith("missing Python packages: numba (numba installed but cannot be imported: "
                              "ImportError: Numba needs NumPy 1.26 or less).")


def test_install_command_names_a_python_and_the_packages():
    from copc_builder.plugin.qgis_support import install_command

    command = install_command(["numba", "numpy"])
    python, rest = command.split(" -m pip install ", 1)
    python = python.strip('"')
    assert os.path.basename(python).startswith("python")
    # the interpreter of the running installation, not whatever python3 is on PATH
    assert os.path.dirname(os.path.dirname(python)) == sys.exec_prefix
    assert rest.endswith('numba "numpy<2"')


QGIS_START_WITHOUT_DEPS = textwrap.dedent("""
    import importlib.abc, os, sys

    BLOCKED = {"numba", "laspy", "lazrs"}

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}")
            return None

    sys.meta_path.insert(0, Block())
    from qgis.core import QgsApplication
    app = QgsApplication([], False)
    app.initQgis()
    sys.path.append(os.path.join(QgsApplication.pkgDataPath(), "python", "plugins"))

    import copc_builder
    plugin = copc_builder.classFactory(None)
    plugin.initProcessing()
    plugin.initGui()
    registry = QgsApplication.processingRegistry()
    ids = sorted(a.id() for a in registry.providerById("copcbuilder").algorithms())
    ok, message = registry.createAlgorithmById("copcbuilder:buildcopc").canExecute()
    print("ALGORITHMS", ids)
    print("CAN_EXECUTE", ok)
    print("MESSAGE", message)
    print("IMPORTED", sorted(m for m in BLOCKED if m in sys.modules))
    plugin.unload()
    app.exitQgis()
""")


def test_qgis_starts_without_the_dependencies(tmp_path):
    """A fresh QGIS whose Python lacks numba, laspy and lazrs still loads the plugin."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QGIS_CUSTOM_CONFIG_PATH=str(tmp_path))
    run = subprocess.run([sys.executable, "-c", QGIS_START_WITHOUT_DEPS], capture_output=True, text=True,
                         env=env, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    lines = {line.split(" ", 1)[0]: line.split(" ", 1)[1] for line in run.stdout.splitlines() if " " in line}
    assert lines["ALGORITHMS"] == ("['copcbuilder:buildcopc', 'copcbuilder:buildcopctiles', "
                                   "'copcbuilder:installdependencies', 'copcbuilder:validatecopc']")
    assert lines["CAN_EXECUTE"] == "False"
    assert lines["MESSAGE"].startswith("missing Python packages: numba, laspy, lazrs.")
    assert "pip install" in lines["MESSAGE"]
    assert lines["IMPORTED"] == "[]"


# -- the plugin zip ---------------------------------------------------------------
def make_zip(tmp_path: Path) -> Path:
    out = tmp_path / "dist" / "copc_builder-0.1.0.zip"
    run = subprocess.run([sys.executable, "-m", "copc_builder.plugin.package", "--output", str(out)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(f"wrote {out}")
    return out


def test_package_zip_holds_the_plugin_and_nothing_else(tmp_path):
    out = make_zip(tmp_path)
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        meta = read_metadata(zf.read("copc_builder/metadata.txt").decode("utf-8"))
        assert zf.testzip() is None
    assert all(n.startswith("copc_builder/") for n in names)
    for required in ("metadata.txt", "__init__.py", "icon.svg", "icon.png", "algorithms/__init__.py",
                     "algorithms/api.py", "plugin/__init__.py", "plugin/qgis_plugin.py", "plugin/qgis_provider.py",
                     "plugin/qgis_build_algorithm.py", "plugin/qgis_validate_algorithm.py"):
        assert f"copc_builder/{required}" in names
    assert "copc_builder/LICENSE" in names
    for name in names:
        rel = name.split("/", 1)[1]
        assert "__pycache__" not in name and not name.endswith((".pyc", ".pyo"))
        assert rel.split("/")[0] not in ("tests", "benchmarks", "demo", "scripts", ".venv", ".git", ".ci", "dist")
        assert not any(part.startswith(".") for part in rel.split("/"))
    # every Python file of the two packages, and nothing else from them
    expected = sorted(
        f"copc_builder/{p.relative_to(ROOT).as_posix()}"
        for package in ("algorithms", "plugin") for p in (ROOT / package).rglob("*.py")
        if "__pycache__" not in p.parts)
    assert sorted(n for n in names if n.split("/")[1] in ("algorithms", "plugin")) == expected
    repo_meta = read_metadata((ROOT / "metadata.txt").read_text(encoding="utf-8"))
    assert dict(meta) == dict(repo_meta)                 # the zip carries the repository's metadata.txt
    assert meta["version"] == copc_builder.__version__ and meta["hasProcessingProvider"] == "yes"

    again = make_zip(tmp_path / "again")
    assert again.read_bytes() == out.read_bytes()       # reproducible


def test_zip_leaves_out_tests_benchmarks_and_the_demo_generator(tmp_path):
    """The lean zip: none of tests/, benchmarks/, demo/ at any depth, while the repository has them."""
    for folder in ("tests", "benchmarks", "demo"):
        assert (ROOT / folder).is_dir()
    assert (ROOT / "demo" / "writer.py").is_file() and not (ROOT / "algorithms" / "sample_scene").exists()
    with zipfile.ZipFile(make_zip(tmp_path)) as zf:
        names = zf.namelist()
    parts = {part for name in names for part in name.split("/")[1:-1]}
    assert parts.isdisjoint({"tests", "benchmarks", "demo", "sample_scene"}), sorted(parts)
    assert not [n for n in names if "sample_scene" in n or n.split("/")[-1].startswith("test_")]
    top = {name.split("/")[1] for name in names}
    assert top <= {"metadata.txt", "__init__.py", "__main__.py", "icon.svg", "icon.png", "LICENSE", "README.md",
                   "algorithms", "plugin"}, sorted(top)


def test_unzipped_plugin_loads_in_qgis(tmp_path):
    """What "Install from ZIP" does: unzip into the plugins folder, import by folder name."""
    out = make_zip(tmp_path)
    plugins = tmp_path / "profile" / "python" / "plugins"
    with zipfile.ZipFile(out) as zf:
        zf.extractall(plugins)
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(plugins)!r})
        from qgis.core import QgsApplication
        app = QgsApplication([], False)
        app.initQgis()
        import copc_builder
        assert copc_builder.__file__.startswith({str(plugins)!r}), copc_builder.__file__
        plugin = copc_builder.classFactory(None)
        plugin.initProcessing()
        provider = QgsApplication.processingRegistry().providerById("copcbuilder")
        print("ALGORITHMS", sorted(a.id() for a in provider.algorithms()))
        plugin.unload()
        app.exitQgis()
    """)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QGIS_CUSTOM_CONFIG_PATH=str(tmp_path / "settings"))
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    assert ("ALGORITHMS ['copcbuilder:buildcopc', 'copcbuilder:buildcopctiles', 'copcbuilder:installdependencies', "
            "'copcbuilder:validatecopc']" in run.stdout)


# -- the test session itself ---------------------------------------------------------
def test_session_leaves_no_qgis_profile_behind(tmp_path):
    """pytest-qgis puts a profile in <rootdir>/.qgis-settings; the conftest removes it at the end.
    Checked on a nested run whose rootdir is a throwaway folder."""
    root = tmp_path / "root"
    root.mkdir()
    test = f"{Path(__file__).resolve()}::test_metadata_is_complete"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(root),
                          "-c", str(ROOT / "pyproject.toml"), test], capture_output=True, text=True, env=env,
                         timeout=300, cwd=str(root))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "1 passed" in run.stdout
    assert os.listdir(root) == []


def test_session_runs_headless(request):
    """pyproject's qgis_gui_enabled = false reaches pytest-qgis: no display is used."""
    from qgis.PyQt.QtGui import QGuiApplication

    assert request.config.getini("qgis_gui_enabled") is False
    assert QGuiApplication.platformName() == "offscreen"

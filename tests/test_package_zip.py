"""The plugin zip: written whole or not at all, and uploadable to the QGIS plugin repository."""
from __future__ import annotations

import errno
import os
import shutil
import zipfile
from pathlib import Path

import pytest

import copc_builder
from copc_builder.plugin.package import PackageError, build_zip, plugin_files
from plugin_repository import repository_problems

ROOT = Path(copc_builder.__file__).resolve().parent


def test_a_failed_zip_leaves_nothing(tmp_path, monkeypatch):
    real = zipfile.ZipFile.writestr
    written = []

    def failing(self, info, data, *args, **kw):
        if len(written) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        written.append(info)
        return real(self, info, data, *args, **kw)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing)
    out = tmp_path / "dist" / "plugin.zip"
    with pytest.raises(OSError, match="No space"):
        build_zip(str(out))
    assert len(written) == 3
    assert os.listdir(tmp_path / "dist") == []


def test_the_zip_replaces_an_older_one_whole(tmp_path):
    out = tmp_path / "plugin.zip"
    out.write_bytes(b"an older zip")
    entries = build_zip(str(out))
    with zipfile.ZipFile(out) as zf:
        assert zf.namelist() == entries
    assert os.listdir(tmp_path) == ["plugin.zip"]


# -- what the QGIS plugin repository checks on upload (tests/plugin_repository.py) --------
def test_the_zip_passes_the_plugin_repository_checks(tmp_path):
    out = tmp_path / "copc_builder-0.1.0.zip"
    build_zip(str(out))
    assert repository_problems(out) == []
    with zipfile.ZipFile(out) as zf:
        licence = zf.read("copc_builder/LICENSE").decode("utf-8")
    assert licence.startswith("MIT License\n") and "copc_builder contributors" in licence
    assert licence == (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert 'license = { text = "MIT" }' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def test_no_licence_no_zip(tmp_path):
    tree = copy_of_the_plugin(tmp_path)
    (tree / "LICENSE").unlink()
    with pytest.raises(PackageError, match="LICENSE is missing"):
        build_zip(str(tmp_path / "out.zip"), root=str(tree))


def copy_of_the_plugin(tmp_path):
    """The files the zip is made of, copied to a folder a test may spoil."""
    tree = tmp_path / "tree"
    for rel in plugin_files(str(ROOT)):
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / rel, tree / rel)
    return tree


def rezip(source, target, change):
    """``source`` written again as ``target`` with ``change(name, data)`` -> [(name, data)...] per entry."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for name in zin.namelist():
            for new_name, data in change(name, zin.read(name)):
                zout.writestr(new_name, data)
    return target


def metadata_edit(old, new):
    def change(name, data):
        if name.endswith("/metadata.txt"):
            data = data.decode("utf-8").replace(old, new).encode("utf-8")
        return [(name, data)]
    return change


SPOILERS = {
    "no licence": (lambda n, d: [] if n == "copc_builder/LICENSE" else [(n, d)],
                   "Cannot find LICENSE in the plugin package."),
    "a .pyc": (lambda n, d: [(n, d)] + ([("copc_builder/plugin/cli.cpython-311.pyc", b"x")]
                                         if n.endswith("plugin/cli.py") else []), "cannot contain .pyc"),
    "a __pycache__": (lambda n, d: [(n, d)] + ([("copc_builder/plugin/__pycache__/x", b"x")]
                                                if n.endswith("plugin/cli.py") else []), "'__pycache__' directory"),
    "path information": (lambda n, d: [(n, d)] + ([("copc_builder/../evil.py", b"x")]
                                                   if n.endswith("plugin/cli.py") else []), "path information"),
    "a folder name with a dot": (lambda n, d: [(n.replace("copc_builder/", "copc.builder/", 1), d)],
                                 "not a Python identifier"),
    "two top folders": (lambda n, d: [(n, d)] + ([("other/x.py", b"x")] if n.endswith("plugin/cli.py") else []),
                        "several top folders"),
    "no metadata.txt": (lambda n, d: [] if n == "copc_builder/metadata.txt" else [(n, d)],
                        "Cannot find metadata.txt"),
    "no email": (metadata_edit("\nemail=", "\nmail="), "Cannot find metadata email"),
    "no tracker": (metadata_edit("\ntracker=", "\nbugs="), "Cannot find metadata tracker"),
    "a bare % (interpolation)": (metadata_edit("\nabout=", "\nabout=100% "), "Errors parsing"),
    "a placeholder URL": (metadata_edit("\nrepository=https://github.com/copc-builder/copc_builder",
                                        "\nrepository=http://repo"), "url link for the following key(s)"),
    "a slash in the author": (metadata_edit("\nauthor=copc_builder developers", "\nauthor=a/b"),
                              "Author name cannot contain slashes"),
}


@pytest.mark.parametrize("spoiled", sorted(SPOILERS))
def test_the_checks_refuse_what_the_repository_refuses(tmp_path, spoiled):
    """Each check fires on a zip spoiled in its one way (so a passing zip means something)."""
    good = tmp_path / "good.zip"
    build_zip(str(good))
    change, expected = SPOILERS[spoiled]
    problems = repository_problems(rezip(good, tmp_path / "bad.zip", change))
    assert problems and any(expected in p for p in problems), problems


def test_a_zip_over_25_mb_is_refused(tmp_path):
    big = tmp_path / "big.zip"
    build_zip(str(big))
    with zipfile.ZipFile(big, "a", zipfile.ZIP_STORED) as zf:
        zf.writestr("copc_builder/padding.bin", os.urandom(25_000_001))
    assert any("File is too big" in p for p in repository_problems(big))

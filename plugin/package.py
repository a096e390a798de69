"""Make the plugin zip that QGIS's "Install from ZIP" accepts.

    python -m copc_builder.plugin.package [--output dist/copc_builder-0.1.0.zip]

The zip holds one top folder, ``copc_builder/`` (the name the plugin is
imported by), with metadata.txt, __init__.py, __main__.py, the icons, the
LICENSE (the QGIS plugin repository refuses a zip without one), the README
when present, and the Python files of algorithms/ and
plugin/: no tests, benchmarks, demo scene generator (demo/), scripts, caches
or build leftovers; no algorithm needs them.  Entries
are sorted and dated 1980-01-01, so the same tree gives the same bytes.
"""
from __future__ import annotations

import argparse
import configparser
import os
import sys
import zipfile
from typing import List, Optional

TOP = "copc_builder"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOP_FILES = ("metadata.txt", "__init__.py", "__main__.py", "icon.svg", "icon.png", "LICENSE", "README.md")
REQUIRED = ("metadata.txt", "__init__.py", "icon.png", "icon.svg", "LICENSE")
PACKAGES = ("algorithms", "plugin")
LEFT_OUT = ("tests", "benchmarks", "demo", "__pycache__")   # folders never packed, at any depth
METADATA_KEYS = ("name", "qgisMinimumVersion", "description", "about", "version", "author", "email",
                 "repository")
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


class PackageError(Exception):
    pass


def read_metadata(root: str = ROOT) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str          # QGIS's keys are case-sensitive (qgisMinimumVersion)
    path = os.path.join(root, "metadata.txt")
    if not parser.read(path, encoding="utf-8") or not parser.has_section("general"):
        raise PackageError(f"{path}: no [general] section")
    general = parser["general"]
    missing = [key for key in METADATA_KEYS if not general.get(key, "").strip()]
    if missing:
        raise PackageError(f"{path}: missing {', '.join(missing)}")
    return general


def plugin_files(root: str = ROOT) -> List[str]:
    """Paths relative to root, sorted: what goes into the zip."""
    for name in REQUIRED:
        if not os.path.isfile(os.path.join(root, name)):
            raise PackageError(f"{os.path.join(root, name)} is missing")
    files = [name for name in TOP_FILES if os.path.isfile(os.path.join(root, name))]
    for package in PACKAGES:
        for folder, dirs, names in os.walk(os.path.join(root, package)):
            dirs[:] = sorted(d for d in dirs if d not in LEFT_OUT and not d.startswith("."))
            for name in sorted(names):
                if name.endswith(".py"):
                    files.append(os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/"))
    return sorted(files)


def build_zip(output: str, root: str = ROOT) -> List[str]:
    """Write the zip; returns its entry names."""
    metadata = read_metadata(root)
    from copc_builder import __version__

    if metadata["version"].strip() != __version__:
        raise PackageError(f"metadata.txt says version {metadata['version']}, the package says {__version__}")
    files = plugin_files(root)
    folder = os.path.dirname(os.path.abspath(output))
    os.makedirs(folder, exist_ok=True)
    entries = []
    temp = output + ".part"
    try:
        with zipfile.ZipFile(temp, "w", zipfile.ZIP_DEFLATED) as zf:
            for rel in files:
                entry = f"{TOP}/{rel}"
                info = zipfile.ZipInfo(entry, FIXED_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                with open(os.path.join(root, rel), "rb") as f:
                    zf.writestr(info, f.read())
                entries.append(entry)
        os.replace(temp, output)
    except BaseException:
        if os.path.exists(temp):
            os.remove(temp)
        raise
    return entries


def default_output() -> str:
    return os.path.join("dist", f"{TOP}-{read_metadata()['version'].strip()}.zip")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m copc_builder.plugin.package",
                                     description="Make the QGIS plugin zip (Plugins > Install from ZIP).")
    parser.add_argument("--output", "-o", help="zip to write (default: dist/copc_builder-VERSION.zip)")
    args = parser.parse_args(argv)
    try:
        output = args.output or default_output()
        entries = build_zip(output)
    except (PackageError, OSError) as exc:
        print(f"package: error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {output}: {len(entries)} files under {TOP}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())

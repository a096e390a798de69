"""The checks the QGIS plugin repository runs on an uploaded zip, offline.

The repository (qgis/QGIS-Plugins-Website, ``qgis-app/plugins/validator.py``)
refuses an upload at the first of these that fails; ``repository_problems``
runs them all and returns every refusal as one line, in the repository's
order, so a test can show what it would say:

- the file is at most 25,000,000 bytes;
- it unzips; no name holds ``..`` or starts with ``/``; no name contains
  ``.pyc``; no ``__MACOSX``, ``.git`` or ``__pycache__`` folder at any depth;
  ``testzip()`` finds no bad entry;
- one top folder (the repository warns on several), named after the first
  entry: a Python identifier (required of new plugins) matching
  ``^[A-Za-z][A-Za-z0-9-_]+$``;
- ``__init__.py`` and ``metadata.txt`` in it; ``metadata.txt`` parses with
  Python's ``configparser.ConfigParser()`` (its default interpolation: a
  stray ``%`` is an error), has a ``[general]`` section, and holds the
  required keys name, description, version, qgisMinimumVersion, author,
  email, about, tracker, repository;
- tracker, repository and homepage are URLs with a scheme and a host, and
  not the template's placeholders (the repository also fetches them, which
  this offline check cannot: that part is left out);
- ``LICENSE`` in the top folder;
- the author has no slash.

Beyond the repository's own checks, the icon named by ``icon=`` must be in
the zip (the repository silently drops a missing icon; the plugin manager
then shows none).
"""
from __future__ import annotations

import configparser
import os
import re
import zipfile
from io import StringIO
from typing import List
from urllib.parse import urlparse

MAX_UPLOAD_BYTES = 25_000_000
REQUIRED_METADATA = ("name", "description", "version", "qgisMinimumVersion", "author", "email", "about",
                     "tracker", "repository")
FORBIDDEN_FOLDERS = ("__MACOSX", ".git", "__pycache__")
PLACEHOLDER_URLS = {"tracker": "http://bugs", "repository": "http://repo", "homepage": "http://homepage"}


def repository_problems(path) -> List[str]:
    """What the plugin repository would say when refusing ``path``; [] when it accepts it."""
    problems: List[str] = []
    size = os.path.getsize(path)
    if size > MAX_UPLOAD_BYTES:
        problems.append(f"File is too big ({size:,} bytes). Max size is {MAX_UPLOAD_BYTES / 1e6:g} Megabytes")
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        return problems + ["Could not unzip file."]
    with archive:
        names = archive.namelist()
        problems += _name_problems(names)
        bad = archive.testzip()
        if bad:
            problems.append(f"Bad zip (maybe a CRC error) on file {bad}")
        if not names or "/" not in names[0]:
            return problems + ["Cannot find a folder inside the compressed package"]
        top = names[0].split("/", 1)[0]
        problems += _folder_problems(top, names)
        if f"{top}/metadata.txt" in names:
            problems += _metadata_problems(archive, top)
        if f"{top}/LICENSE" not in names:
            problems.append("Cannot find LICENSE in the plugin package.")
    return problems


def _name_problems(names: List[str]) -> List[str]:
    problems = []
    for name in names:
        if ".." in name or name.startswith(os.path.sep) or name.startswith("/"):
            problems.append(f"zip file cannot contain path information (found '{name}')")
        if ".pyc" in name:
            problems.append(f"zip file cannot contain .pyc file ({name})")
        for folder in FORBIDDEN_FOLDERS:
            if folder in name.split("/"):
                problems.append(f"zip file cannot contain '{folder}' directory (found at '{name}')")
    return problems


def _folder_problems(top: str, names: List[str]) -> List[str]:
    problems = []
    parents = sorted({name.split("/")[0] for name in names})
    if len(parents) > 1:
        problems.append(f"several top folders: {', '.join(parents)}")
    if not top.isidentifier():
        problems.append(f"the top folder {top!r} is not a Python identifier (PEP 8)")
    if not re.match(r"^[A-Za-z][A-Za-z0-9-_]+$", top):
        problems.append(f"the top folder {top!r} must start with an ASCII letter, then letters, digits, - or _")
    for required in ("__init__.py", "metadata.txt"):
        if f"{top}/{required}" not in names:
            problems.append(f"Cannot find {required} in plugin package.")
    return problems


def _metadata_problems(archive: zipfile.ZipFile, top: str) -> List[str]:
    parser = configparser.ConfigParser()        # as the repository makes it: default interpolation
    parser.optionxform = str
    try:
        parser.read_file(StringIO(archive.read(f"{top}/metadata.txt").decode("utf8")))
        if not parser.has_section("general"):
            return [f"Cannot find a section named 'general' in {top}/metadata.txt"]
        metadata = dict(parser.items("general"))
    except (configparser.Error, UnicodeDecodeError) as exc:
        return [f"Errors parsing {top}/metadata.txt. {exc}"]
    problems = []
    missing = [key for key in REQUIRED_METADATA if key not in metadata]
    if missing:
        problems.append(f"Cannot find metadata {', '.join(missing)} in metadata source metadata.txt")
    for key, placeholder in PLACEHOLDER_URLS.items():
        url = metadata.get(key)
        parsed = urlparse(url or "")
        if url == placeholder or not (parsed.scheme and parsed.netloc):
            problems.append(f"Please provide valid url link for the following key(s) in the metadata source: {key}")
    if not re.match(r"^[^/]+$", metadata.get("author", "")):
        problems.append("Author name cannot contain slashes.")
    icon = metadata.get("icon", "")
    icon = icon[2:] if icon.startswith("./") else icon
    if not icon or f"{top}/{icon}" not in archive.namelist():
        problems.append(f"the icon {icon or '(none)'} named in metadata.txt is not in the zip")
    return problems

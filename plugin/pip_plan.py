"""What "Install Python dependencies" may install, so QGIS's own Python stays as it is.

pip left to itself upgrades what a new package asks for, and with
``--target`` it ignores what is installed altogether: asked for numba into a
folder, it put numpy 2.x there, which a QGIS built against numpy 1.x must
never import.  So the installer

1. pins every distribution QGIS's Python can import, at its installed
   version, and every module QGIS has already imported at the version it
   loaded (a constraints file: ``numpy==1.24.2``...);
2. asks pip which distributions the requested packages need beyond those
   (``pip install --dry-run --report``, with the target folder on the path,
   so what it holds counts as installed);
3. installs exactly those, pinned, with ``--no-deps``, so pip touches nothing
   else;
4. imports everything in a fresh Python, as QGIS would at its next start,
   and checks that numpy is still QGIS's.

No qgis here: the algorithm passes its feedback in.
"""
from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
import tempfile
from typing import Callable, Dict, Iterable, List, Optional, Tuple

# PEP 440's version grammar (its appendix's regular expression, trimmed of the
# named groups): a constraint pip cannot parse would stop the whole install.
_VERSION = re.compile(r"^\s*v?(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*(?:[-_.]?(?:a|b|c|rc|alpha|beta|pre|preview)"
                      r"[-_.]?[0-9]*)?(?:-[0-9]+|[-_.]?(?:post|rev|r)[-_.]?[0-9]*)?(?:[-_.]?dev[-_.]?[0-9]*)?"
                      r"(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?\s*$", re.IGNORECASE)
_PROJECT = re.compile(r"^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$")     # a canonical project name
_NAME = re.compile(r"^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(\[[^\]]*\])?")


class PlanError(Exception):
    """The packages cannot be installed without changing what QGIS uses; says why."""


def canonical(name: str) -> str:
    """PEP 503's normalised project name: ``Foo_Bar`` -> ``foo-bar``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> Tuple[str, bool]:
    """(canonical name, has extras) of ``"numpy<2"``, ``"dask[distributed]"``..."""
    match = _NAME.match(requirement)
    if not match:
        raise PlanError(f"{requirement!r} is not a package requirement")
    return canonical(match.group(1)), bool(match.group(2))


def installed_versions(paths: Iterable[str]) -> Dict[str, str]:
    """Canonical name -> version of every distribution found on ``paths`` (the first one wins,
    as for imports)."""
    versions: Dict[str, str] = {}
    for dist in importlib.metadata.distributions(path=[p for p in paths if p]):
        name = dist.metadata.get("Name")
        if name and dist.version:
            versions.setdefault(canonical(name), dist.version)
    return versions


def loaded_versions(modules=None) -> Dict[str, str]:
    """Canonical distribution name -> version of the top-level modules already imported here,
    as loaded (a package upgraded on disk since still runs its loaded version)."""
    modules = sys.modules if modules is None else modules
    # Python 3.9 has no packages_distributions: a module then stands for the project of its name
    owners = getattr(importlib.metadata, "packages_distributions", dict)()
    versions = {}
    for name, module in list(modules.items()):
        # the module's own attribute: no module __getattr__ (some warn that __version__ is deprecated)
        version = getattr(module, "__dict__", {}).get("__version__")
        if "." in name or not isinstance(version, str):
            continue
        for dist in owners.get(name, [name]):
            versions[canonical(dist)] = version
    return versions


def constraint_lines(installed: Dict[str, str], loaded: Dict[str, str]) -> List[str]:
    """``name==version`` for each installed distribution, at its loaded version when imported;
    names and versions pip could not parse are left out."""
    pins = dict(installed)
    pins.update((name, version) for name, version in loaded.items() if name in installed)
    return [f"{name}=={version.strip()}" for name, version in sorted(pins.items())
            if _PROJECT.match(name) and _VERSION.match(version)]


def wanted(requirements: List[str], installed: Dict[str, str]) -> Tuple[List[str], List[str]]:
    """(requirements to resolve, notes on those skipped because already installed).

    A requirement with extras (``dask[distributed]``) is kept even when its
    project is installed: its extras may not be; the pins keep the project.
    """
    keep, notes = [], []
    for requirement in requirements:
        name, extras = requirement_name(requirement)
        if name in installed and not extras:
            notes.append(f"{name} {installed[name]} is installed already: left as it is")
        else:
            keep.append(requirement)
    return keep, notes


def resolve(python: str, requirements: List[str], constraints: str, path: List[str],
            run: Callable[[List[str], dict], int]) -> List[Tuple[str, str]]:
    """(name, version) of each distribution pip would install for ``requirements`` within
    ``constraints``, with ``path`` (the target folder, then QGIS's sys.path) seen as installed."""
    with tempfile.TemporaryDirectory(prefix="copc_builder-pip-") as folder:
        report = os.path.join(folder, "report.json")
        command = [python, "-m", "pip", "install", "--dry-run", "--report", report, "--quiet",
                   "--disable-pip-version-check", "--no-input", "--progress-bar", "off",
                   "--constraint", constraints] + list(requirements)
        code = run(command, python_path_env(path))
        if code != 0:
            raise PlanError(f"pip found no versions of {' '.join(requirements)} that work with the packages "
                            f"QGIS's Python has (exit code {code}); its output is above")
        with open(report, encoding="utf-8") as f:
            items = json.load(f).get("install", [])
    return sorted((item["metadata"]["name"], item["metadata"]["version"]) for item in items)


def python_path_env(path: List[str]) -> dict:
    """The environment for a child Python that imports as this one does, ``path`` first."""
    entries = [p for p in path if p]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(dict.fromkeys(entries)))


FRESH_CHECK = """
import importlib, json, sys
found = {}
for name in sys.argv[1:]:
    module = importlib.import_module(name)
    found[name] = [getattr(module, "__version__", ""), getattr(module, "__file__", "") or ""]
print("COPC_BUILDER_FOUND " + json.dumps(found))
"""


def fresh_import(python: str, modules: List[str], path: List[str], timeout: float = 300) -> Dict[str, list]:
    """Import ``modules`` in a new Python with ``path`` first: module -> [version, file].

    A failure is a PlanError with the child's last lines (the import error)."""
    run = subprocess.run([python, "-c", FRESH_CHECK] + list(modules), capture_output=True, text=True,
                         env=python_path_env(path), timeout=timeout, stdin=subprocess.DEVNULL)
    lines = [line for line in run.stdout.splitlines() if line.startswith("COPC_BUILDER_FOUND ")]
    if run.returncode != 0 or not lines:
        tail = " | ".join((run.stderr or run.stdout).strip().splitlines()[-3:])
        raise PlanError(f"a fresh QGIS Python cannot import them: {tail}")
    return json.loads(lines[-1].split(" ", 1)[1])


def same_module(found: list, module) -> bool:
    """Did the fresh Python load ``module`` (loaded here) from the same file, at the same version?"""
    version, file = found
    here = os.path.realpath(getattr(module, "__file__", "") or "")
    return version == getattr(module, "__version__", "") and os.path.realpath(file) == here


def site_path(target: Optional[str]) -> List[str]:
    """The import path of a fresh QGIS Python that uses ``target``: it first, then this one's."""
    return ([target] if target else []) + [p for p in sys.path if p]

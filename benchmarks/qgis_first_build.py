#!/usr/bin/env python3
"""The first build in QGIS after "Install Python dependencies", against the second.

    python benchmarks/qgis_first_build.py [--points 1000000] [--work benchmarks/work/first_build]

Runs QGIS 3.40 headless (a QgsApplication in the system Python QGIS runs on,
without this repository's virtualenv and without the user site, so numba,
laspy and lazrs are missing as on a new QGIS), on a fresh numba cache
(NUMBA_CACHE_DIR) and the built-in sample scene (``copc-builder sample``'s,
1 M points):

  after install   one QGIS session: "Install Python dependencies" into a
                  target folder, then Build COPC twice
  next session    a new QGIS session on that cache: Build COPC twice
  no install      a new QGIS session on a fresh cache, the packages already
                  there (installed by hand): Build COPC twice; the first
                  compiles the kernels itself, saying so

and prints each build's wall time (processing.run, as the dialog runs it),
the first over the second, the CPU model and the load (uptime) before each.
pip needs its index (the packages are downloaded, or taken from pip's cache).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from scale import cpu_model  # noqa: E402  (benchmarks/scale.py, beside this script)

QGIS_PYTHON = os.path.join(sys.base_prefix, "bin", f"python{sys.version_info[0]}.{sys.version_info[1]}")

SESSION = r"""
import json, os, sys, time
from qgis.core import QgsApplication
app = QgsApplication([], False)
app.initQgis()
sys.path.append(os.path.join(QgsApplication.pkgDataPath(), "python", "plugins"))
import processing
from processing.core.Processing import Processing
Processing.initialize()
from copc_builder.plugin.qgis_provider import CopcBuilderProvider
provider = CopcBuilderProvider()
QgsApplication.processingRegistry().addProvider(provider)
scene, out, target, install = sys.argv[1:5]
times = {}
if install == "yes":
    start = time.perf_counter()
    processing.run("copcbuilder:installdependencies", {"TARGET": target})
    times["install"] = time.perf_counter() - start
else:
    sys.path.insert(0, target)
for i in (1, 2):
    start = time.perf_counter()
    processing.run("copcbuilder:buildcopc", {"INPUT": [scene], "OUTPUT": f"{out}{i}.copc.laz"})
    times[f"build{i}"] = time.perf_counter() - start
print("TIMES " + json.dumps(times), flush=True)
os._exit(0)
"""


def load() -> str:
    return "load %.2f %.2f %.2f" % os.getloadavg()


def session(work: Path, plugins: Path, scene: Path, target: Path, cache: Path, install: bool, name: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(PYTHONPATH=str(plugins), PYTHONNOUSERSITE="1", NUMBA_CACHE_DIR=str(cache), QT_QPA_PLATFORM="offscreen",
               QGIS_CUSTOM_CONFIG_PATH=str(work / f"profile-{name}"),
               PROJ_DATA=os.environ.get("PROJ_DATA", "/usr/share/proj"))
    print(f"{name}: {load()}", flush=True)   # the machine's load, beside the figures
    run = subprocess.run([QGIS_PYTHON, "-c", SESSION, str(scene), str(work / f"{name}-"), str(target),
                          "yes" if install else "no"], capture_output=True, text=True, env=env, timeout=3600)
    lines = [line for line in run.stdout.splitlines() if line.startswith("TIMES ")]
    if run.returncode != 0 or not lines:
        sys.exit(f"{name}: the QGIS session failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
    return json.loads(lines[-1][len("TIMES "):])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=HERE / "work" / "first_build")
    args = parser.parse_args()
    work = args.work.resolve()
    shutil.rmtree(work, ignore_errors=True)
    (work / "plugins").mkdir(parents=True)
    (work / "plugins" / "copc_builder").symlink_to(REPO, target_is_directory=True)
    sys.path.insert(0, str(work / "plugins"))
    from copc_builder.demo import write_sample_scene

    scene = write_sample_scene(work / "sample_scene.laz", points=args.points, seed=0)
    target = work / "site"
    header = f"CPU: {cpu_model()}; QGIS's Python: {QGIS_PYTHON}; scene: {args.points:,} points"
    print(header, flush=True)
    loads, rows = [], []
    for name, cache, install, key in (("after install", "numba", True, "install"),
                                      ("next session", "numba", False, "next"),
                                      ("no install", "numba-fresh", False, "fresh")):
        loads.append(f"{name}: {load()}")
        rows.append((name, session(work, work / "plugins", scene, target, work / cache, install, key)))
    table = ["| session | install s | first build s | second build s | first / second |",
             "|---|---:|---:|---:|---:|"]
    for name, t in rows:
        install = f"{t['install']:.1f}" if "install" in t else "-"
        table.append(f"| {name} | {install} | {t['build1']:.2f} | {t['build2']:.2f} | "
                     f"{t['build1'] / t['build2']:.2f} |")
    print("\n" + "\n".join(table))
    results = HERE / "results" / "qgis_first_build.md"
    results.write_text(
        f"# First build in QGIS after \"Install Python dependencies\"\n\n"
        f"`python benchmarks/qgis_first_build.py --points {args.points}`, "
        f"{time.strftime('%Y-%m-%d %H:%M')}\n\n{header}\n\nLoad (uptime) before each session: "
        + "; ".join(loads) + "\n\n" + "\n".join(table) + "\n", encoding="utf-8")
    print(f"wrote {results}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""What --t-srs costs: the same build with and without reprojection.

The input is the 10.5 M-point mosaic of ../shared/data/lastools_zurich.laz
(``python ../shared/tools/mosaic.py lastools_zurich.laz OUT --copies 16``),
which has no CRS: both builds assign CH1903 / LV03 (--a-srs EPSG:21781), one
of them also reprojects (--t-srs, EPSG:4326 by default).  Each build is its
own process (``copc-builder build``, as the command line and QGIS run it),
after one untimed build of each kind (numba's cache filled); the two kinds
alternate, so a change in the machine's load falls on both.  Printed: the CPU
model, the load average around each round, every build's wall and CPU
seconds and peak RSS, the build's own step timings (``read.reproject`` is
the reprojection inside ``read.convert``), and the medians and the ratio.

A geographic target also changes the octree (its cube takes degrees and
metres as the same numbers: README, Reprojection).  ``--already`` adds a
kind that tells the two costs apart: the mosaic's points already in the
first target (transformed by PROJ point by point, in the mosaic's order,
with the frame --t-srs picks) built without --t-srs, which pays for that
octree but not for the reprojection.

    python benchmarks/reproject.py                       # 16 copies, EPSG:4326, 5 rounds
    python benchmarks/reproject.py --targets EPSG:4326,EPSG:2056,EPSG:4978 --rounds 3
    python benchmarks/reproject.py --already       # and the EPSG:4326 file built without --t-srs
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from scale import cpu_model  # noqa: E402  (benchmarks/scale.py, beside this script)

SHARED = HERE.parent.parent / "shared"
LIMIT = 1.25   # issue 22: --t-srs EPSG:4326 costs at most this times the build without it


def make_mosaic(source: Path, copies: int, work: Path) -> Path:
    out = work / f"{source.stem}_x{copies}_pf1.laz"
    if not out.exists():
        print(f"making {out.name}: python {SHARED / 'tools' / 'mosaic.py'} {source} OUT --copies {copies}",
              flush=True)
        tmp = out.with_suffix(".part.laz")
        subprocess.run([sys.executable, str(SHARED / "tools" / "mosaic.py"), str(source), str(tmp),
                        "--copies", str(copies)], check=True)
        tmp.rename(out)
    return out


def already_in(src: Path, target: str, work: Path) -> Path:
    """The mosaic's points in ``target``, in the mosaic's order (PROJ point by
    point), as a LAZ with the frame --t-srs chooses: what building without
    --t-srs costs for the same octree."""
    import laspy
    import numpy as np
    import pyproj

    out = work / f"{src.stem}_{target.replace(':', '')}.laz"
    if out.exists():
        return out
    from copc_builder.algorithms.api import dry_run

    plan = dry_run([str(src)], a_srs="EPSG:21781", t_srs=target)
    transformer = pyproj.Transformer.from_crs("EPSG:21781", target, always_xy=True)
    tmp = out.with_suffix(".part.laz")
    with laspy.open(str(src)) as reader:
        header = laspy.LasHeader(point_format=reader.header.point_format, version=reader.header.version)
        header.scales, header.offsets = np.array(plan.scale), np.array(plan.offset)
        header.add_crs(pyproj.CRS.from_user_input(target))
        with laspy.open(str(tmp), mode="w", header=header) as writer:
            for points in reader.chunk_iterator(1_000_000):
                x, y = transformer.transform(np.asarray(points.x), np.asarray(points.y), np.asarray(points.z))[:2]
                moved = laspy.ScaleAwarePointRecord.zeros(len(points), header=header)
                for name in points.array.dtype.names:
                    if name not in ("X", "Y", "Z"):
                        moved[name] = points[name]
                moved.x, moved.y, moved.z = x, y, np.asarray(points.z)
                writer.write_points(moved)
    tmp.rename(out)
    return out


def build(src: Path, out: Path, extra) -> dict:
    """One build in a new process: wall, CPU seconds, peak RSS, the build's step timings."""
    cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "copc_builder", "build", str(src), "-o", str(out),
           "--progress", "json", *extra]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{run.stderr[-2000:]}")
    result = json.loads(run.stdout.strip().splitlines()[-1])["result"]
    fields = {}
    for line in run.stderr.splitlines():
        key, _, value = line.strip().partition(": ")
        fields[key] = value
    wall = fields["Elapsed (wall clock) time (h:mm:ss or m:ss)"].split(":")
    out.unlink()
    return dict(wall=float(wall[-1]) + 60 * float(wall[-2]) + (3600 * float(wall[-3]) if len(wall) > 2 else 0),
                cpu=float(fields["User time (seconds)"]) + float(fields["System time (seconds)"]),
                rss=int(fields["Maximum resident set size (kbytes)"]) * 1024, points=result["points"],
                steps=result["stats"].get("seconds", {}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", type=Path, default=SHARED / "data" / "lastools_zurich.laz")
    ap.add_argument("--copies", type=int, default=16)
    ap.add_argument("--targets", default="EPSG:4326", help="comma-separated --t-srs values")
    ap.add_argument("--rounds", type=int, default=5, help="builds of each kind, taking turns")
    ap.add_argument("--work", type=Path, default=HERE / "work")
    ap.add_argument("--results", type=Path, default=HERE / "results" / "reproject.md")
    ap.add_argument("--already", action="store_true",
                    help="also build the first target's output again without --t-srs (its octree, no PROJ)")
    args = ap.parse_args()

    args.work.mkdir(parents=True, exist_ok=True)
    src = make_mosaic(args.source, args.copies, args.work)
    out = args.work / "reproject.copc.laz"
    assign = ["--a-srs", "EPSG:21781"]
    targets = args.targets.split(",")
    kinds = [("none", src, assign)] + [(t, src, assign + ["--t-srs", t]) for t in targets]
    if args.already:
        kinds.append((f"{targets[0]}, already", already_in(src, targets[0], args.work), []))
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores; input {src.name}", flush=True)
    for _, path, extra in kinds:
        build(path, out, extra)          # untimed: numba's cache, the page cache
    runs = {name: [] for name, _, _ in kinds}
    loads = []
    for i in range(args.rounds):
        before = os.getloadavg()
        for name, path, extra in kinds:
            r = build(path, out, extra)
            runs[name].append(r)
            print(f"round {i + 1}: {name:>18}  wall {r['wall']:6.2f} s  CPU {r['cpu']:6.2f} s  "
                  f"RSS {r['rss'] / 2**20:5.0f} MiB  reproject {r['steps'].get('read.reproject', 0):5.2f} s  "
                  f"convert {r['steps'].get('read.convert', 0):5.2f} s", flush=True)
        loads.append((before, os.getloadavg()))
        print(f"        load average before {before[0]:.2f}, after {loads[-1][1][0]:.2f}", flush=True)
    write_results(args, src, runs, loads)


def write_results(args, src: Path, runs, loads) -> None:
    base = runs["none"]
    lines = [f"# --t-srs cost, {datetime.date.today()}", "",
             f"Command: `python benchmarks/reproject.py {' '.join(sys.argv[1:])}`",
             f"Machine: {os.cpu_count()} cores ({cpu_model()}), Python {platform.python_version()}; input "
             f"{src.name} ({base[0]['points']:,} points, mosaic.py --copies {args.copies}), --a-srs EPSG:21781.",
             f"Load average (1 min) before/after each round: "
             + ", ".join(f"{a[0]:.2f}/{b[0]:.2f}" for a, b in loads), "",
             "| --t-srs | median wall s | min wall s | median CPU s | peak RSS MiB | read.reproject s (median) | "
             "median wall / without | min wall / without | median CPU / without |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    med = {name: statistics.median(r["wall"] for r in rs) for name, rs in runs.items()}
    low = {name: min(r["wall"] for r in rs) for name, rs in runs.items()}
    cpu = {name: statistics.median(r["cpu"] for r in rs) for name, rs in runs.items()}
    for name, rs in runs.items():
        rep = statistics.median(r["steps"].get("read.reproject", 0.0) for r in rs)
        lines.append(f"| {name} | {med[name]:.2f} | {low[name]:.2f} | {cpu[name]:.2f} | "
                     f"{max(r['rss'] for r in rs) / 2**20:.0f} | {rep:.2f} | {med[name] / med['none']:.3f} | "
                     f"{low[name] / low['none']:.3f} | {cpu[name] / cpu['none']:.3f} |")
    lines += ["", "Every build (wall s, CPU s):", ""]
    for name, rs in runs.items():
        lines.append(f"- {name}: " + ", ".join(f"{r['wall']:.2f}/{r['cpu']:.2f}" for r in rs))
    lines += ["", "Step timings of the last build of each kind:", ""]
    for name, rs in runs.items():
        lines.append(f"- {name}: `{json.dumps({k: round(v, 3) for k, v in rs[-1]['steps'].items()})}`")
    text = "\n".join(lines) + "\n"
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(text)
    print(text)
    for name in runs:
        if name != "none" and not name.endswith("already"):
            verdict = "within" if med[name] / med["none"] <= LIMIT else "OVER"
            print(f"{name}: {med[name] / med['none']:.3f} times the build without it ({verdict} {LIMIT})")


if __name__ == "__main__":
    main()

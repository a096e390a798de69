#!/usr/bin/env python3
"""What a tiled build costs beside the single-COPC build of the same input.

On a mosaic of lastools_zurich.laz (../shared/tools/mosaic.py, 16 copies:
10.5 M points over 400 m x 400 m), each as its own process, alternating,
``--repeat`` times (after one untimed build of each, so numba's cache is
warm):
  - copc-builder build INPUT -o ONE.copc.laz            (the single COPC)
  - copc-builder build INPUT -o TILES.vpc --tile-size S  (16 tiles of 125 m, the
                                                          overview, the .vpc)
both with the same options (memory budget, threads, --a-srs EPSG:21781: the
zurich tile has no CRS and a tiled build needs one), plus the floor of
../shared/tools/laz_limit.py on the same input.  Prints the CPU model, the
load average around every pair, and per run: wall, points/s, CPU s, peak RSS
(/usr/bin/time -v) of both builds, tiled / single and tiled / floor; then the
median and lowest ratio.  The acceptance: tiled / single <= 1.15, and the
tiled build's peak RSS within the memory budget as the single build's is.

    python benchmarks/tiles_scale.py                       # 16 copies, 2G, 3 pairs
    python benchmarks/tiles_scale.py --copies 16 --budget 512M --repeat 5
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from scale import (SHARED, cpu_model, cpu_seconds_from_time, floor_seconds, make_input,  # noqa: E402
                   peak_rss_from_time, run_measured)


def build_cmd(src: Path, out: Path, temp: Path, args, tiled: bool):
    cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "copc_builder", "build", str(src), "-o", str(out),
           "--temp-dir", str(temp), "--progress", "json", "--a-srs", args.crs, "--memory-budget", args.budget]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    if tiled:
        cmd += ["--tile-size", str(args.tile_size)]
    return cmd


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def measure(src, out, temp, args, tiled: bool) -> dict:
    wall, peak_temp, stdout, err = run_measured(build_cmd(src, out, temp, args, tiled), temp)
    result = json.loads(stdout.strip().splitlines()[-1])["result"]
    return dict(wall=wall, points=result["points"], rss=peak_rss_from_time(err), cpu=cpu_seconds_from_time(err),
                temp=peak_temp, tiles=len(result.get("tiles", [])) or 1,
                overview=sum(o["points"] for o in result.get("overviews", [])),
                bytes=result["bytes"], steps=result.get("stats", {}).get("seconds", {}))


def clean(work: Path) -> None:
    import shutil

    for name in ("one.copc.laz", "tiles.vpc", "tiles-overview.copc.laz"):
        (work / name).unlink(missing_ok=True)
    shutil.rmtree(work / "tiles-tiles", ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", type=Path, default=SHARED / "data" / "lastools_zurich.laz")
    ap.add_argument("--copies", type=int, default=16)
    ap.add_argument("--tile-size", type=float, default=125.0)
    ap.add_argument("--crs", default="EPSG:21781")
    ap.add_argument("--budget", default="2G")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--work", type=Path, default=HERE / "work")
    args = ap.parse_args()

    args.work.mkdir(parents=True, exist_ok=True)
    temp = args.work / "tmp"
    temp.mkdir(exist_ok=True)
    src = make_input(args.source, args.copies, args.work)
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores; input {src.name}; budget {args.budget}; "
          f"tile size {args.tile_size:g}", flush=True)
    floor, floor_line = floor_seconds(src)
    print(f"floor: {floor_line}", flush=True)
    one, tiles = args.work / "one.copc.laz", args.work / "tiles.vpc"
    measure(src, one, temp, args, False)   # warm-up: numba's cache
    measure(src, tiles, temp, args, True)
    clean(args.work)
    ratios = []
    for run in range(args.repeat):
        before = load()
        a = measure(src, one, temp, args, False)
        b = measure(src, tiles, temp, args, True)
        clean(args.work)
        ratio = b["wall"] / a["wall"]
        ratios.append(ratio)
        print(f"run {run + 1}: load {before} -> {load()}\n"
              f"  single {a['wall']:6.2f} s  {a['points'] / a['wall'] / 1e6:5.2f} Mpts/s  CPU {a['cpu']:5.1f} s  "
              f"RSS {a['rss'] / 2**20:6.0f} MiB  temp {a['temp'] / 2**20:5.0f} MiB  x{a['wall'] / floor:.2f} floor\n"
              f"  tiled  {b['wall']:6.2f} s  {b['points'] / b['wall'] / 1e6:5.2f} Mpts/s  CPU {b['cpu']:5.1f} s  "
              f"RSS {b['rss'] / 2**20:6.0f} MiB  temp {b['temp'] / 2**20:5.0f} MiB  x{b['wall'] / floor:.2f} floor  "
              f"{b['tiles']} tiles, overview {b['overview']:,} points\n"
              f"  tiled / single: wall {ratio:.3f}  CPU {b['cpu'] / a['cpu']:.3f}  RSS {b['rss'] / a['rss']:.3f}",
              flush=True)
        print(f"  steps single: {json.dumps(a['steps'])}\n  steps tiled:  {json.dumps(b['steps'])}", flush=True)
    print(f"tiled / single wall: median {statistics.median(ratios):.3f}, lowest {min(ratios):.3f} "
          f"over {len(ratios)} pairs (floor {floor:.2f} s)")


if __name__ == "__main__":
    main()

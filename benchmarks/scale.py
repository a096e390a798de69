#!/usr/bin/env python3
"""Throughput and memory of `copc-builder build` beside the LAZ floor.

For each mosaic size (copies of a real tile, made with ../shared/tools/mosaic.py)
this runs, each as its own process (the first size after one untimed build, so
numba's kernel cache is warm; --no-warm-up skips it):
  - ../shared/tools/laz_limit.py INPUT   (the floor: lazrs decode + encode)
  - copc-builder build INPUT -o OUT      (the cold build, as the command line and
                                          QGIS run it: a new process; peak RSS
                                          from the OS, temp folder polled)
  - two builds of INPUT in one process   (first and second build in a process)
  - copc-builder validate OUT
and prints the CPU model, then one row per size: points, cold wall s, points/s,
ratio to the floor, the first and second in-process builds, peak RSS, peak
temp-folder bytes, output bytes.  The table is also written to
benchmarks/results/ with the command that made it.

    python benchmarks/scale.py                  # 2 and 16 copies at 2G, 160 copies at 1G
    python benchmarks/scale.py --runs 16:2G     # COPIES:MEMORY_BUDGET, comma-separated
    python benchmarks/scale.py --runs 16:default  # the build's default memory budget
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SHARED = REPO.parent / "shared"


def compile_package() -> None:
    """Byte-compile the package's modules where they are out of date, as pip
    leaves an installed wheel (scripts/dev.sh does it at setup): a cold build
    of an edited checkout would otherwise time the compiling of every module it
    imports when PYTHONDONTWRITEBYTECODE is set, as on CI images."""
    names = [str(REPO / n) for n in ("__init__.py", "__main__.py", "algorithms", "plugin")]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *names], check=True, stdout=subprocess.DEVNULL)


def folder_bytes(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                pass
    return total


def run_measured(cmd, temp_dir: Path = None):
    """Run cmd; return (wall s, peak bytes in temp_dir, stdout, stderr).

    The peak RSS comes from /usr/bin/time -v in front of the command."""
    peak_temp = [0]
    done = threading.Event()

    def poll():
        while not done.is_set():
            peak_temp[0] = max(peak_temp[0], folder_bytes(temp_dir))
            done.wait(0.05)

    poller = threading.Thread(target=poll, daemon=True) if temp_dir else None
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if poller:
        poller.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    done.set()
    if poller:
        poller.join()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{err[-2000:]}")
    return wall, peak_temp[0], out, err


def peak_rss_from_time(err: str) -> int:
    for line in err.splitlines():
        if "Maximum resident set size" in line:
            return int(line.split(":")[1]) * 1024
    return 0


def cpu_seconds_from_time(err: str) -> float:
    """User + system seconds from /usr/bin/time -v."""
    total = 0.0
    for line in err.splitlines():
        if "User time (seconds)" in line or "System time (seconds)" in line:
            total += float(line.split(":")[1])
    return total


def make_input(source: Path, copies: int, work: Path) -> Path:
    out = work / f"{source.stem}_x{copies}.laz"
    if not out.exists():
        print(f"making {out.name} ({copies} copies of {source.name}) ...", flush=True)
        tmp = out.with_suffix(".part.laz")
        subprocess.run([sys.executable, str(SHARED / "tools" / "mosaic.py"), str(source), str(tmp),
                        "--copies", str(copies), "--point-format", "6"], check=True)
        tmp.rename(out)
    return out


# Runs in its own process: the same build twice, printing both walls as JSON.
_TWICE = r"""
import json, sys, time
from copc_builder import build_copc
src, out, temp, budget, threads = sys.argv[1:6]
kwargs = dict(temp_dir=temp, threads=int(threads) or None)
if budget != "default":
    kwargs["memory_budget"] = budget
walls, cpus, steps = [], [], []
for _ in range(2):
    t0, c0 = time.perf_counter(), time.process_time()
    summary = build_copc([src], out, **kwargs)
    walls.append(time.perf_counter() - t0)
    cpus.append(time.process_time() - c0)
    steps.append(summary.stats["seconds"])
print(json.dumps(dict(walls=walls, cpus=cpus, steps=steps)))
"""


def cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def huge_pages() -> str:
    """The kernel's transparent huge page settings (the bracketed choices),
    which move first touches of large arrays by tenths of a second."""
    said = []
    for name in ("enabled", "defrag"):
        try:
            text = open(f"/sys/kernel/mm/transparent_hugepage/{name}").read()
        except OSError:
            return "THP: unknown"
        chosen = [w.strip("[]") for w in text.split() if w.startswith("[")]
        said.append(f"{name} {chosen[0] if chosen else '?'}")
    return "THP " + ", ".join(said)


def builds_in_one_process(src: Path, out: Path, temp: Path, budget: str, threads) -> dict:
    """Two builds of src in one new process: walls, cpus (process CPU s, less
    moved by other load on a shared machine) and steps (step timings)."""
    run = subprocess.run([sys.executable, "-c", _TWICE, str(src), str(out), str(temp), budget, str(threads or 0)],
                         capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"two builds in one process failed ({run.returncode}):\n{run.stderr[-2000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def floor_seconds(path: Path):
    r = subprocess.run([sys.executable, str(SHARED / "tools" / "laz_limit.py"), str(path)],
                       capture_output=True, text=True, check=True)
    line = r.stdout.strip().splitlines()[-1]
    words = line.split()
    return float(words[words.index("floor") + 1].rstrip("s")), line


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", type=Path, default=SHARED / "data" / "lastools_zurich.laz")
    ap.add_argument("--runs", default="2:2G,16:2G,160:1G",
                    help="comma-separated COPIES:MEMORY_BUDGET (mosaic size, --memory-budget)")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--work", type=Path, default=HERE / "work", help="inputs, outputs, temp")
    ap.add_argument("--results", type=Path, default=HERE / "results" / "scale.md")
    ap.add_argument("--no-validate", action="store_true")
    ap.add_argument("--no-warm-up", action="store_true",
                    help="skip the untimed build of the first input that fills numba's cache")
    ap.add_argument("--note", default="", help="a line for the results file (e.g. that the machine was shared)")
    args = ap.parse_args()

    args.work.mkdir(parents=True, exist_ok=True)
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores; {huge_pages()}", flush=True)
    rows = []
    details = []
    for spec in args.runs.split(","):
        copies, budget = spec.split(":")
        copies = int(copies)
        src = make_input(args.source, copies, args.work)
        floor, floor_line = floor_seconds(src)
        out = args.work / f"{src.stem}.copc.laz"
        temp = args.work / "tmp"
        temp.mkdir(exist_ok=True)
        cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "copc_builder", "build", str(src), "-o", str(out),
               "--temp-dir", str(temp), "--progress", "json"]
        if budget != "default":
            cmd += ["--memory-budget", budget]
        if args.threads:
            cmd += ["--threads", str(args.threads)]
        if not args.no_warm_up and not rows:
            compile_package()
            # numba compiles a kernel the first time it meets its types (some only
            # for big nodes, over 2**20 points) and caches it in the checkout: on
            # a fresh checkout the first cold build would time the compiler.
            warm = subprocess.run(cmd[2:], capture_output=True, text=True)
            if warm.returncode != 0:
                raise SystemExit(f"warm-up build failed:\n{warm.stderr[-2000:]}")
            out.unlink()
        wall, peak_temp, stdout, err = run_measured(cmd, temp)
        result = json.loads(stdout.strip().splitlines()[-1])["result"]
        rss = peak_rss_from_time(err)
        points = result["points"]
        valid = "-"
        if not args.no_validate:
            v = subprocess.run([sys.executable, "-m", "copc_builder", "validate", str(out)],
                               capture_output=True, text=True)
            valid = "valid" if v.returncode == 0 else "INVALID"
        row = dict(copies=copies, budget=budget, points=points, wall=wall, pps=points / wall, floor=floor,
                   ratio=wall / floor, rss=rss, temp=peak_temp, out=os.path.getsize(out),
                   valid=valid)
        out.unlink()
        twice = builds_in_one_process(src, out, temp, budget, args.threads)
        out.unlink()
        (row["first"], row["second"]), (row["first_cpu"], row["second_cpu"]) = twice["walls"], twice["cpus"]
        row["cpu"] = cpu_seconds_from_time(err)
        rows.append(row)
        details.append((copies, floor_line, result.get("stats", {}), twice["steps"]))
        print(f"{points:>12,} pts  budget {budget:>4}  cold {wall:7.1f} s  {points / wall / 1e6:5.2f} Mpts/s  "
              f"floor {floor:6.1f} s  x{wall / floor:4.2f}  in one process: first {row['first']:6.1f} s  "
              f"second {row['second']:6.1f} s  x{row['first'] / row['second']:4.2f}  (CPU s: cold {row['cpu']:.1f}, "
              f"first {row['first_cpu']:.1f}, second {row['second_cpu']:.1f})  RSS {rss / 2**20:7.0f} MiB  "
              f"temp {peak_temp / 2**20:7.0f} MiB  out {row['out'] / 1e6:7.1f} MB  {valid}", flush=True)

    write_results(args, rows, details)


def write_results(args, rows, details) -> None:
    args.results.parent.mkdir(parents=True, exist_ok=True)
    cpu = cpu_model()
    lines = [
        f"# copc-builder scale benchmark, {datetime.date.today()}",
        "",
        f"Command: `python benchmarks/scale.py {' '.join(sys.argv[1:])}`",
        f"Machine: {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {huge_pages()}; "
        f"source {args.source.name} tiled with mosaic.py --point-format 6.",
        *([args.note] if args.note else []),
        "",
        "Cold: `copc-builder build` in a new process (interpreter start included), after "
        + ("no warm-up build" if args.no_warm_up else "one untimed build of the first input (numba's cache filled)")
        + ".  First, second: two builds of the same input in one process (the library call's wall).",
        "",
        "CPU s: user + system seconds of the cold process, and process CPU seconds of each in-process build.",
        "",
        "| points | memory budget | cold wall s | M points/s | floor s | cold / floor | first build s | "
        "second build s | first / second | CPU s cold / first / second | peak RSS MiB (cold) | peak temp MiB | "
        "output MB | validate |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(f"| {r['points']:,} | {r['budget']} | {r['wall']:.1f} | {r['pps'] / 1e6:.2f} | {r['floor']:.1f} | "
                     f"{r['ratio']:.2f} | {r['first']:.1f} | {r['second']:.1f} | {r['first'] / r['second']:.2f} | "
                     f"{r['cpu']:.1f} / {r['first_cpu']:.1f} / {r['second_cpu']:.1f} | "
                     f"{r['rss'] / 2**20:.0f} | {r['temp'] / 2**20:.0f} | {r['out'] / 1e6:.1f} | {r['valid']} |")
    lines += ["", "Floor lines (laz_limit.py) and the build's own step timings (cold; first and second in one process):",
              ""]
    for copies, floor_line, stats, steps in details:
        lines.append(f"- {copies} copies: `{floor_line}`")
        if stats:
            lines.append(f"  - cold: `{json.dumps(stats)}`")
        for label, seconds in zip(("first", "second"), steps):
            lines.append(f"  - {label}: `{json.dumps(seconds)}`")
    args.results.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.results}")


if __name__ == "__main__":
    main()

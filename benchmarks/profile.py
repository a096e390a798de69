#!/usr/bin/env python3
"""Where the wall time of one `copc-builder build` goes, stage by stage.

Samples the build's main thread with py-spy (``--idle``, so time spent waiting
for lazrs's worker threads counts too), groups every sample under the first
stage its stack passes through, and prints one row per stage beside the
build's own step timings.  The table is written to benchmarks/results/.

    pip install py-spy
    python benchmarks/profile.py                 # 16 copies of lastools_zurich.laz (10.5 M points)
    python benchmarks/profile.py --copies 2
"""
from __future__ import annotations

import argparse
import collections
import datetime
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from scale import HERE, SHARED, compile_package, cpu_model, make_input

RATE = 200  # samples per second

# (stage, functions that mark it); a sample goes to the first stage whose function is on its stack.
STAGES = [
    ("start-up: imports, numba cache loads", ["_find_and_load", "_compile_for_args"]),
    ("write: node records + lazrs compression", ["CopcWriter.add_nodes", "CopcWriter.add_node_stream"]),
    ("read: lazrs decode", ["LasFile.chunks"]),
    ("read: LAS records to columns", ["RecordConverter.convert"]),
    ("read: distribution to the store", ["Build._read"]),
    ("build: keys", ["point_keys", "Cube.fine_codes"]),
    ("build: partition", ["partition"]),
    ("build: level-of-detail sampling", ["lod_step"]),
    ("build: the rest of the tree", ["TreeBuilder.run"]),
    ("finish: hierarchy, header, rename", ["CopcWriter.close"]),
    ("open and scan the inputs", ["open_sources"]),
]
_FRAME_NAME = re.compile(r" \(.*$")


BESIDE = "beside the main thread: the statistics fold's thread, alive while lazrs compresses (not in the total)"


def stage_seconds(raw: Path) -> collections.Counter:
    """Seconds per stage of the main thread from py-spy's raw (collapsed-stack)
    output; the samples of threads the build starts go to BESIDE."""
    seconds = collections.Counter()
    for line in raw.read_text().splitlines():
        stack, count = line.rsplit(" ", 1)
        frames = stack.split(";")
        names = {_FRAME_NAME.sub("", frame) for frame in frames[1:]}
        if _FRAME_NAME.sub("", frames[0]) == "Thread._bootstrap":
            stage = BESIDE
        else:
            stage = next((label for label, marks in STAGES if names.intersection(marks)),
                         "other (interpreter start, exit)")
        seconds[stage] += int(count) / RATE
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", type=Path, default=SHARED / "data" / "lastools_zurich.laz")
    ap.add_argument("--copies", type=int, default=16)
    ap.add_argument("--work", type=Path, default=HERE / "work")
    ap.add_argument("--results", type=Path, default=HERE / "results" / "profile.md")
    args = ap.parse_args()
    # py-spy on PATH, or installed beside this Python (a venv run without activating it)
    py_spy = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if py_spy is None:
        raise SystemExit("py-spy is not installed: pip install py-spy")

    args.work.mkdir(parents=True, exist_ok=True)
    src = make_input(args.source, args.copies, args.work)
    compile_package()
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        out, raw = Path(tmp) / "out.copc.laz", Path(tmp) / "profile.raw"
        build = [sys.executable, "-m", "copc_builder", "build", str(src), "-o", str(out), "--progress", "json"]
        run = subprocess.run([py_spy, "record", "--idle", "--rate", str(RATE), "--format", "raw",
                              "-o", str(raw), "--", *build], capture_output=True, text=True)
        if run.returncode != 0:
            raise SystemExit(f"py-spy failed ({run.returncode}):\n{run.stderr[-2000:]}")
        # py-spy writes its own lines to the same stdout; the build's last JSON line holds the result.
        last = [line for line in run.stdout.splitlines() if line.startswith("{")][-1]
        result = json.loads(last)["result"]
        seconds = stage_seconds(raw)

    beside = seconds.pop(BESIDE, 0.0)
    total = sum(seconds.values())
    lines = [
        f"# Where the time goes: copc-builder build, {result['points']:,} points, {datetime.date.today()}",
        "",
        f"Command: `python benchmarks/profile.py {' '.join(sys.argv[1:])}` (py-spy record --idle, "
        f"{RATE} Hz, main thread; {args.copies} copies of {args.source.name})",
        "",
        f"CPU: {cpu_model()}",
        "",
        "| stage | seconds | share |",
        "|---|---:|---:|",
    ]
    lines += [f"| {stage} | {s:.2f} | {s / total:.0%} |" for stage, s in seconds.most_common()]
    lines += [f"| total sampled (main thread) | {total:.2f} | |"]
    if beside:
        lines += [f"| {BESIDE} | {beside:.2f} | |"]
    lines += ["",
              f"The build's own step timings (seconds): `{json.dumps(result['stats']['seconds'])}`"]
    text = "\n".join(lines) + "\n"
    print(text)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(text)
    print(f"wrote {args.results}")


if __name__ == "__main__":
    main()

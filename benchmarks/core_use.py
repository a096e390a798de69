#!/usr/bin/env python3
"""How many cores a cold ``copc-builder build`` keeps busy, stage by stage.

``perf record -a`` samples every CPU while one cold build runs (a new
process, ``--progress json``); a sample in the kernel's idle loop is an idle
core.  The build's progress events mark its stages (``start`` until the scan
event, then scan, read, build and finish; "read" lasts until the first node
is written, so it holds the octree's steps too).  Prints the cores in use per
--window seconds and the idle core-seconds of each stage, with the CPU model
and the kernel's transparent huge page settings.  Needs ``perf`` and the
right to sample every CPU (root, or ``kernel.perf_event_paranoid`` <= 0);
nothing else should run meanwhile.

    python benchmarks/core_use.py INPUT.laz [--window 0.05] [--build-args "--memory-budget 1G"]
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from scale import cpu_model, huge_pages  # noqa: E402  (benchmarks/scale.py, beside this script)

IDLE = ("safe_halt", "default_idle", "cpu_idle", "intel_idle", "acpi_idle", "mwait_idle", "poll_idle")


def record(src: Path, work: Path, build_args: str):
    """Perf samples [(time, idle)] and the stages' first events {stage: time}, on CLOCK_MONOTONIC."""
    data = work / "perf.data"
    perf = subprocess.Popen(["perf", "record", "-F", "499", "-a", "-k", "CLOCK_MONOTONIC", "-o", str(data)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    t0 = time.monotonic()
    build = subprocess.Popen([sys.executable, "-m", "copc_builder", "build", str(src), "-o", str(work / "out.copc.laz"),
                              "--progress", "json", *shlex.split(build_args)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=work)
    stages = {"start": t0}
    for line in build.stdout:
        if line.startswith('{"stage"'):
            stages.setdefault(json.loads(line)["stage"], time.monotonic())
    if build.wait() != 0:
        raise SystemExit(f"the build failed (exit {build.returncode})")
    stages["end"] = time.monotonic()
    time.sleep(0.2)
    perf.send_signal(signal.SIGINT)
    perf.wait()
    script = subprocess.run(["perf", "script", "-i", str(data), "-F", "time,ip,sym"],
                            capture_output=True, text=True).stdout
    samples = []
    for line in script.splitlines():
        words = line.split()
        if words and words[0].endswith(":"):
            try:
                samples.append((float(words[0][:-1]), any(name in line for name in IDLE)))
            except ValueError:
                continue
    return samples, stages


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input", type=Path)
    ap.add_argument("--window", type=float, default=0.05, help="seconds per line (default 0.05)")
    ap.add_argument("--build-args", default="", help="more options for copc-builder build")
    args = ap.parse_args()
    if shutil.which("perf") is None:
        raise SystemExit("perf is not installed (Debian: apt install linux-perf)")
    with tempfile.TemporaryDirectory(prefix="core_use_") as tmp:
        samples, stages = record(args.input.resolve(), Path(tmp), args.build_args)
    if not samples:
        raise SystemExit("perf recorded nothing: is sampling every CPU allowed here (perf_event_paranoid)?")
    t0, end = stages["start"], stages.pop("end")
    order = sorted(stages.items(), key=lambda kv: kv[1])
    cpus = os.cpu_count() or 1
    print(f"CPU: {cpu_model()}, {cpus} cores; {huge_pages()}; input {args.input.name}; wall {end - t0:.2f} s")
    print("stages from:", ", ".join(f"{name} {at - t0:.3f} s" for name, at in order))
    windows = int((end - t0) / args.window) + 1
    busy, seen = [0] * windows, [0] * windows
    for at, idle in samples:
        i = int((at - t0) / args.window)
        if 0 <= i < windows:
            seen[i] += 1
            busy[i] += not idle
    idle_by = {}
    for i in range(windows):
        if not seen[i]:
            continue
        start = t0 + i * args.window
        stage = [name for name, at in order if at <= start][-1]
        cores = cpus * busy[i] / seen[i]
        idle_by[stage] = idle_by.get(stage, 0.0) + (cpus - cores) * min(args.window, end - start)
        print(f"{i * args.window:6.2f} {stage:7s} {cores:4.2f} {'#' * round(cores * 20)}")
    print("idle core-seconds:", ", ".join(f"{name} {seconds:.2f}" for name, seconds in idle_by.items()),
          f"(all {sum(idle_by.values()):.2f} of {cpus * (end - t0):.2f})")


if __name__ == "__main__":
    main()

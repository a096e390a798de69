#!/usr/bin/env python3
"""The same build in one process and on local Dask clusters, side by side.

For one mosaic (copies of a real tile, made with ../shared/tools/mosaic.py
--point-format 6, as benchmarks/scale.py makes them) this runs, each as its
own new process:
  - in-process:  copc-builder build INPUT -o OUT
  - workers-1:   copc-builder build INPUT -o OUT --workers 1
  - workers-2:   copc-builder build INPUT -o OUT --workers 2
  - report-2:    build_copc(..., scheduler=ADDRESS) on a LocalCluster of 2
                 worker processes the child process starts itself, inside
                 distributed.performance_report (the HTML is saved) and
                 get_task_stream: per task kind (key prefix) the compute
                 seconds and count, projected to 10 billion points
and prints the CPU model, then per run: wall, CPU seconds (user + system of
the whole process tree, /usr/bin/time -v), peak RSS of the largest single
process and of the whole tree (client + workers, polled), the output's
sha256 and whether every output is the same bytes.  The table goes to
benchmarks/results/dask_scale.md with the command that made it.

    python benchmarks/dask_scale.py                       # 16 copies, every run
    python benchmarks/dask_scale.py --copies 2 --runs in-process,workers-2
    python benchmarks/dask_scale.py --threads-per-worker 2

The work folder (--work, default benchmarks/work) holds the mosaic, the
outputs and the shared temp folder (benchmarks/work/tmp) every worker sees.
A run that fails (e.g. the cluster build not written yet) is reported as
failed with its last error line; the other runs go on, and the exit status
is 1.  The HTML performance report needs bokeh (pip install 'bokeh>=3.1');
without it the report run still sums the task stream.
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import shlex
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from scale import SHARED, cpu_model, cpu_seconds_from_time, make_input, peak_rss_from_time  # noqa: E402

RUNS = ("in-process", "workers-1", "workers-2", "report-2")
TEN_BILLION = 10_000_000_000


# -- measuring a process tree ---------------------------------------------------------
def children_of() -> dict:
    """pid -> [child pids], from /proc."""
    tree = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(ppid, []).append(int(name))
    return tree


def tree_rss(root: int, cpu: dict) -> int:
    """Resident bytes of ``root`` and all its descendants, now; ``cpu`` gets
    each one's user + system seconds so far (workers started from a fork
    server are not waited for by the command, so /usr/bin/time misses them)."""
    tree, todo, total = children_of(), [root], 0
    tick = os.sysconf("SC_CLK_TCK")
    while todo:
        pid = todo.pop()
        todo += tree.get(pid, [])
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            cpu[pid] = max(cpu.get(pid, 0.0), (int(fields[11]) + int(fields[12])) / tick)
        except (OSError, IndexError, ValueError):
            pass
    return total


def run_measured(cmd) -> dict:
    """Run cmd (under /usr/bin/time -v); wall, CPU s, peak RSS (largest process and tree), output."""
    peak = [0]
    cpu = {}
    done = threading.Event()
    t0 = time.perf_counter()
    proc = subprocess.Popen(["/usr/bin/time", "-v", *map(str, cmd)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)

    def poll():
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss(proc.pid, cpu))
            done.wait(0.1)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    done.set()
    poller.join()
    # The command and what it waited for (time -v), or the tree as polled, whichever saw more.
    polled = sum(seconds for pid, seconds in cpu.items() if pid != proc.pid)
    return dict(wall=wall, cpu=max(cpu_seconds_from_time(err), polled), rss=peak_rss_from_time(err),
                tree_rss=peak[0], code=proc.returncode, stdout=out, stderr=err)


def last_error(err: str) -> str:
    """The child's last stderr line, before /usr/bin/time's own report."""
    own = err.splitlines()
    for marker in ("Command exited with non-zero status", "\tCommand being timed"):
        own = next((own[:i] for i, line in enumerate(own) if line.startswith(marker)), own)
    lines = [line for line in own if line.strip()]
    return (lines or ["?"])[-1][:300]


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# -- the report run: a LocalCluster of the child's own, the performance report, the task stream ---------------
# Runs in its own process; prints one JSON line: the build's summary and the task stream's records.
_REPORT = r"""
import contextlib, importlib.util, json, sys, time
from dask.utils import key_split
from distributed import Client, LocalCluster, get_task_stream, performance_report
from copc_builder import build_copc
src, out, temp, workers, threads, html = sys.argv[1:7]
if importlib.util.find_spec("bokeh") is None:   # the HTML report needs bokeh; the task stream does not
    print("no performance report: it needs bokeh (pip install 'bokeh>=3.1')", file=sys.stderr)
    html = None
with LocalCluster(n_workers=int(workers), threads_per_worker=int(threads), processes=True,
                  host="127.0.0.1", dashboard_address="127.0.0.1:0") as cluster, Client(cluster) as client:
    t0 = time.perf_counter()
    with (performance_report(filename=html) if html else contextlib.nullcontext()), \
            get_task_stream(client) as stream:
        summary = build_copc([src], out, temp_dir=temp, scheduler=cluster.scheduler_address)
    wall = time.perf_counter() - t0
    records = [dict(kind=key_split(r["key"]), status=r.get("status"),
                    startstops=[dict(action=s["action"], start=s["start"], stop=s["stop"])
                                for s in r.get("startstops", ())]) for r in stream.data]
print(json.dumps(dict(result=summary.as_dict(), wall=wall, html=html, tasks=records), default=str))
"""


def covered_seconds(intervals) -> float:
    """Seconds covered by the union of (start, stop) intervals."""
    total, end = 0.0, float("-inf")
    for start, stop in sorted(intervals):
        if stop > end:
            total += stop - max(start, end)
            end = stop
    return total


def task_kinds(records) -> dict:
    """Task-stream records (kind: the key's prefix, as the dashboard groups them)
    -> kind -> count, compute s, other s (transfer, disk), first start, last stop, errors."""
    kinds = {}
    for record in records:
        kind = kinds.setdefault(record["kind"], dict(count=0, compute=0.0, other=0.0, errors=0,
                                                               start=float("inf"), stop=float("-inf")))
        kind["count"] += 1
        kind["errors"] += record["status"] == "error"
        for ss in record["startstops"]:
            seconds = ss["stop"] - ss["start"]
            kind["compute" if ss["action"] == "compute" else "other"] += seconds
            kind["start"], kind["stop"] = min(kind["start"], ss["start"]), max(kind["stop"], ss["stop"])
    return kinds


def projection_lines(kinds: dict, records, points: int, wall: float, worker_threads: int):
    """Per task kind: compute seconds, count, throughput, and what 10 billion points would take."""
    scale = TEN_BILLION / max(points, 1)
    busy = covered_seconds([(s["start"], s["stop"]) for r in records for s in r["startstops"]
                            if s["action"] == "compute"])
    lines = ["| task kind | tasks | compute s | mean s | other s (transfer, disk) | M points/s per thread | "
             "compute s for 10 G points | errors |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    total = 0.0
    for name, k in sorted(kinds.items(), key=lambda item: item[1]["start"]):
        total += k["compute"]
        lines.append(f"| {name} | {k['count']:,} | {k['compute']:.2f} | {k['compute'] / k['count']:.3f} | "
                     f"{k['other']:.2f} | {points / max(k['compute'], 1e-9) / 1e6:.2f} | "
                     f"{k['compute'] * scale:,.0f} | {k['errors']} |")
    outside = max(wall - busy, 0.0)
    lines += ["", f"Task compute: {total:.1f} s over {len(records):,} tasks; some task was running for "
                  f"{busy:.1f} s of the {wall:.1f} s build wall; {outside:.1f} s with no task running "
                  f"(the client's planning and assembly, scheduling gaps).",
              f"Linear projection to 10 G points ({scale:,.0f} x): task compute {total * scale / 3600:,.1f} "
              f"thread-hours, i.e. {total * scale / 3600 / worker_threads:,.1f} h on {worker_threads} worker "
              f"threads, {total * scale / 3600 / 64:,.2f} h on 64; plus {outside * scale / 3600:,.1f} h "
              f"outside tasks if that part also grows linearly (it runs on the client alone)."]
    return lines


# -- projection to a large cluster ------------------------------------------------------------
def cluster_projection(kinds: dict, result: dict, args) -> list:
    """Wall time of a 10 G-point build on 8, 32 and 128 worker threads, from
    this run's measured per-point task compute and the assumptions given."""
    points, stats = result["points"], result["stats"]
    scale = TEN_BILLION / points
    read_c = kinds.get("read_range", {}).get("compute", 0.0) + kinds.get("rebucket", {}).get("compute", 0.0)
    unit_c = kinds.get("build_units", {}).get("compute", 0.0)
    shard, spool, out = stats["shard_bytes"] * scale, stats["spool_bytes"] * scale, result["bytes"] * scale
    top_s = stats["seconds"].get("build.top", 0.0)
    unit_points = args.unit_points
    fs, client_bw = args.fs_gbps * 1e9, args.client_gbps * 1e9
    lines = ["| worker threads | read h | units h | top levels h | assembly h | scheduler h | total h |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    for threads in (8, 32, 128):
        read = max(read_c * scale / threads, shard / fs)
        units_wall = max(unit_c * scale / threads, (shard + spool) / fs)
        units = TEN_BILLION / min(TEN_BILLION / (4 * threads), unit_points)
        top = top_s * units / max(stats["units"], 1)
        assembly = 2 * out / client_bw
        tasks = 4 * threads + units
        scheduler = tasks * args.task_ms / 1000
        total = args.startup + read + units_wall + top + assembly + scheduler
        lines.append(f"| {threads} | {read / 3600:.2f} | {units_wall / 3600:.2f} | {top / 3600:.2f} | "
                     f"{assembly / 3600:.2f} | {scheduler / 3600:.3f} | {total / 3600:.2f} |")
    lines += ["", "Measured here (this run, per point, scaled to 10 G points): read_range "
              f"{read_c / points * 1e6:.2f} s per M points, build_units {unit_c / points * 1e6:.2f} s per M points "
              f"(task compute, one thread each); shards {stats['shard_bytes'] / points:.1f} B/point, LAZ spools "
              f"{stats['spool_bytes'] / points:.1f} B/point, output {result['bytes'] / points:.1f} B/point; "
              f"top levels {top_s:.2f} s for {stats['units']} units on the client.",
              "Assumptions: task compute per point as measured here (a worker thread of this CPU); a shared "
              f"file system of {args.fs_gbps:g} GB/s in all (shards written once and read once, spools written "
              f"once; a stage takes the longer of its compute and its I/O); the client copies the output's "
              f"chunks at {args.client_gbps:g} GB/s (read and write, serial); the top levels grow with the "
              f"number of units (units of at most {unit_points / 1e6:g} M points, the 2G budget's, and at least "
              f"4 unit tasks per thread); the scheduler spends {args.task_ms:g} ms per task, serially; "
              f"{args.startup:g} s to connect and check the workers; inputs spread evenly (a range of about "
              f"10 G / (4 x threads) points per read task) and no worker lost."]
    return lines


# -- the runs ---------------------------------------------------------------------------
def cli_build(src: Path, out: Path, temp: Path, extra) -> dict:
    run = run_measured([sys.executable, "-m", "copc_builder", "build", src, "-o", out, "--temp-dir", temp,
                        "--progress", "json", *extra])
    if run["code"] == 0:
        run["result"] = json.loads(run["stdout"].strip().splitlines()[-1])["result"]
    return run


def report_build(src: Path, out: Path, temp: Path, args) -> dict:
    html = args.results.with_suffix(".report.html")
    run = run_measured([sys.executable, "-c", _REPORT, src, out, temp, 2, args.threads_per_worker, html])
    if run["code"] == 0:
        data = json.loads(run["stdout"].strip().splitlines()[-1])
        run["result"], run["html"] = data["result"], data["html"]
        kinds = task_kinds(data["tasks"])
        run["kinds_lines"] = projection_lines(kinds, data["tasks"], data["result"]["points"],
                                              data["wall"], 2 * args.threads_per_worker)
        run["kinds_lines"] += ["", "### Projected wall of a 10 G-point build", "",
                               *cluster_projection(kinds, data["result"], args)]
    return run


def one_run(name: str, src: Path, args) -> dict:
    out = args.work / f"{src.stem}.{name}.copc.laz"
    temp = args.work / "tmp"
    temp.mkdir(exist_ok=True)
    if out.exists():
        out.unlink()
    if name == "report-2":
        run = report_build(src, out, temp, args)
    else:
        extra = [] if name == "in-process" else ["--workers", name.split("-")[1]]
        run = cli_build(src, out, temp, extra)
    run["name"] = name
    run["sha256"] = sha256(out) if run["code"] == 0 else None
    run["error"] = None if run["code"] == 0 else last_error(run["stderr"])
    if out.exists():
        out.unlink()
    return run


def print_run(run: dict) -> None:
    if run["error"]:
        print(f"{run['name']:>10}  FAILED ({run['code']}) after {run['wall']:.1f} s: {run['error']}", flush=True)
        return
    points = run["result"]["points"]
    print(f"{run['name']:>10}  {points:,} pts  wall {run['wall']:7.1f} s  {points / run['wall'] / 1e6:5.2f} "
          f"Mpts/s  CPU {run['cpu']:7.1f} s  RSS largest {run['rss'] / 2**20:6.0f} MiB  "
          f"tree {run['tree_rss'] / 2**20:6.0f} MiB  sha256 {run['sha256'][:16]}", flush=True)
    for line in run.get("kinds_lines", ()):
        print("    " + line)


def same_bytes(runs) -> str:
    digests = {r["sha256"] for r in runs if r["sha256"]}
    built = [r["name"] for r in runs if r["sha256"]]
    if len(built) < 2:
        return f"only {len(built)} output(s) to compare"
    return ("all outputs are the same bytes" if len(digests) == 1
            else f"OUTPUTS DIFFER: {len(digests)} distinct sha256 among {', '.join(built)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", type=Path, default=SHARED / "data" / "lastools_zurich.laz")
    ap.add_argument("--copies", type=int, default=16, help="tiles in the mosaic (default 16)")
    ap.add_argument("--runs", default=",".join(RUNS), help=f"comma-separated, from {', '.join(RUNS)}")
    ap.add_argument("--threads-per-worker", type=int, default=1, help="for the report run's LocalCluster")
    ap.add_argument("--work", type=Path, default=HERE / "work", help="mosaic, outputs, the shared temp folder")
    ap.add_argument("--results", type=Path, default=HERE / "results" / "dask_scale.md")
    ap.add_argument("--fs-gbps", type=float, default=1.0, help="projection: shared file system, GB/s in all")
    ap.add_argument("--client-gbps", type=float, default=0.5, help="projection: the client's copy of the output")
    ap.add_argument("--task-ms", type=float, default=1.0, help="projection: scheduler time per task")
    ap.add_argument("--startup", type=float, default=5.0, help="projection: seconds to connect and check")
    ap.add_argument("--unit-points", type=float, default=12e6, help="projection: points of the largest unit")
    ap.add_argument("--note", default="", help="a line for the results file (e.g. that the machine was shared)")
    args = ap.parse_args()
    names = [n.strip() for n in args.runs.split(",") if n.strip()]
    unknown = sorted(set(names) - set(RUNS))
    if unknown:
        ap.error(f"unknown runs {', '.join(unknown)}; choose from {', '.join(RUNS)}")

    args.work.mkdir(parents=True, exist_ok=True)
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores", flush=True)
    src = make_input(args.source, args.copies, args.work)
    runs = []
    for name in names:
        runs.append(one_run(name, src, args))
        print_run(runs[-1])
    verdict = same_bytes(runs)
    print(verdict)
    write_results(args, src, runs, verdict)
    if any(r["error"] for r in runs) or "DIFFER" in verdict:
        sys.exit(1)


def write_results(args, src: Path, runs, verdict: str) -> None:
    args.results.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        f"# copc-builder on a local Dask cluster, {datetime.date.today()}",
        "",
        f"Command: `{shlex.join(['python', 'benchmarks/dask_scale.py', *sys.argv[1:]])}`",
        f"Machine: {os.cpu_count()} cores ({cpu_model()}), Python {platform.python_version()}; "
        f"input {src.name} ({args.copies} copies of {args.source.name}, mosaic.py --point-format 6).",
        *([args.note] if args.note else []),
        "",
        "Each run is a new process.  CPU s: user + system of the whole process tree (the command, a fork "
        "server, the workers), as polled, or as /usr/bin/time -v counts it, whichever is more.  RSS largest: the largest single process; tree: client and workers summed "
        "(polled every 0.1 s).",
        "",
        "| run | points | wall s | M points/s | CPU s | peak RSS MiB largest / tree | sha256 |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for r in runs:
        if r["error"]:
            lines.append(f"| {r['name']} | failed: {r['error'].replace('|', '/')} | {r['wall']:.1f} | | | | |")
            continue
        points = r["result"]["points"]
        lines.append(f"| {r['name']} | {points:,} | {r['wall']:.1f} | {points / r['wall'] / 1e6:.2f} | "
                     f"{r['cpu']:.1f} | {r['rss'] / 2**20:.0f} / {r['tree_rss'] / 2**20:.0f} | "
                     f"`{r['sha256'][:16]}` |")
    lines += ["", f"Same bytes: {verdict}."]
    for r in runs:
        if r.get("kinds_lines"):
            report = Path(r["html"]).name if r["html"] else "none: bokeh is not installed"
            lines += ["", f"## Task stream of {r['name']} (performance report: {report})", "",
                      *r["kinds_lines"]]
    args.results.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.results}")


if __name__ == "__main__":
    main()

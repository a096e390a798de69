"""The copc-builder command line (also ``python -m copc_builder``).

    copc-builder build [INPUT ...] [--pipeline PIPELINE] -o OUTPUT.copc.laz [options]
    copc-builder build [INPUT ...] -o OUTPUT.vpc --tile-size SIZE [options]
    copc-builder validate FILE.copc.laz
    copc-builder info FILE [--compare OTHER] [--png OUT.png]
    (FILE, INPUT and OUTPUT may be s3:// or http(s):// URLs: --storage-option KEY=VALUE)
    copc-builder sample [--dir DIR] [--points N]
"""
from __future__ import annotations

import argparse
import atexit
import gc
import json
import os
import signal
import sys
import threading
from typing import List, Optional

from copc_builder import DEFAULT_MEMORY_BUDGET
from copc_builder.plugin.progress_printers import MessagePrinter, make_progress

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CANCELLED = 130


# -- commands ----------------------------------------------------------------------
def _cancel_on_signals() -> threading.Event:
    """SIGINT/SIGTERM ask the build to stop; it cleans up and exits 130."""
    flag = threading.Event()

    def handler(signum, frame):
        if flag.is_set():   # second Ctrl-C: give up at once
            raise KeyboardInterrupt
        flag.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            signal.signal(sig, handler)
        except (ValueError, OSError):   # not the main thread
            pass
    return flag


def cmd_build(args) -> int:
    from copc_builder.algorithms.api import build_copc

    inputs = list(args.inputs)
    if args.pipeline is not None:
        from copc_builder.algorithms.api import PipelineInput

        inputs.append(PipelineInput(args.pipeline))   # a JSON file (any name) or a JSON string
    if not inputs:
        args.build_parser.error("give INPUT files, --pipeline PIPELINE, or both")
    if args.dry_run:
        return build_dry_run(args, inputs)
    if args.output is None:
        args.build_parser.error("the following arguments are required: -o/--output")
    progress = make_progress(args.progress)
    cancel = _cancel_on_signals()
    try:
        summary = build_copc(
            inputs, args.output, memory_budget=args.memory_budget, temp_dir=args.temp_dir,
            threads=args.threads, scale=args.scale, offset=args.offset, a_srs=args.a_srs,
            temporal_index=args.temporal_index, statistics=args.statistics, recursive=args.recursive,
            scheduler=args.scheduler, workers=args.workers, observer=progress,
            cancel=cancel.is_set, storage_options=args.storage_option, t_srs=args.t_srs, **tile_options(args))
    finally:
        progress.close()
    if args.progress == "json":
        print(json.dumps({"result": summary.as_dict()}))
    else:
        print(summary.describe())
    return EXIT_OK


def tile_options(args) -> dict:
    """build_copc's tile options from --tile-size, --no-overview, --overview-size."""
    return dict(tile_size=args.tile_size, overview=args.overview, overview_size=args.overview_size)


def build_dry_run(args, inputs) -> int:
    """The plan and the expected temp bytes and peak memory, from the headers alone."""
    from copc_builder.algorithms.api import dry_run

    progress = make_progress("json") if args.progress == "json" else MessagePrinter()
    if args.scheduler or args.workers:   # the plan does not depend on where the build runs
        print("copc-builder: --dry-run plans from the headers here; --scheduler and --workers are ignored",
              file=sys.stderr)
    estimate = dry_run(inputs, args.output, memory_budget=args.memory_budget, temp_dir=args.temp_dir,
                       scale=args.scale, offset=args.offset, a_srs=args.a_srs, recursive=args.recursive,
                       observer=progress, storage_options=args.storage_option, t_srs=args.t_srs)
    if args.progress == "json":
        print(json.dumps({"dry_run": estimate.as_dict()}))
    else:
        print(estimate.describe())
    return EXIT_OK


def cmd_validate(args) -> int:
    from copc_builder.algorithms.api import format_report, validate_copc

    code = EXIT_OK
    for path in args.files:
        report = validate_copc(path, storage=storage(args))
        if args.json:
            print(json.dumps({"path": report.path, "ok": report.ok,
                              "findings": [f.__dict__ for f in report.findings]}))
        else:
            print(format_report(report))
        if not report.ok:
            code = EXIT_ERROR
    return code


def cmd_info(args) -> int:
    from copc_builder.algorithms.api import copc_info, format_info

    if args.compare is not None:
        return info_compare(args)
    if args.png is not None and len(args.files) != 1:
        args.info_parser.error("--png draws one FILE")
    for path in args.files:
        info = copc_info(path, storage(args))
        print(json.dumps(info, indent=1, default=str) if args.json else format_info(info))
    if args.png is not None:
        from copc_builder.algorithms.api import draw_info_png

        picture = draw_info_png(info, args.png)
        print(f"wrote {args.png}: levels 0-{picture.levels - 1} from above, coloured by {picture.colour_by}",
              file=sys.stderr if args.json else sys.stdout)
    return EXIT_OK


def info_compare(args) -> int:
    from copc_builder.algorithms.api import compare_infos, copc_info, format_compare

    if len(args.files) != 1:
        args.info_parser.error("--compare takes one FILE to hold against OTHER")
    a, b = copc_info(args.files[0], storage(args)), copc_info(args.compare, storage(args))
    print(json.dumps(compare_infos(a, b), indent=1, default=str) if args.json else format_compare(a, b))
    return EXIT_OK


def storage(args):
    """The --storage-option values, parsed (None: the environment's alone)."""
    from copc_builder.algorithms.api import parse_storage_options

    return parse_storage_options(args.storage_option) if args.storage_option else None


def add_storage_option(parser) -> None:
    parser.add_argument(
        "--storage-option", action="append", default=None, metavar="KEY=VALUE",
        help="for s3:// and http(s):// files (needs 'copc-builder[storage]'), over the AWS environment "
             "variables and profiles: anon=true, region=..., endpoint_url=..., profile=..., key=... "
             "secret=... token=..., max_concurrency=N, retries=N, part_size=SIZE; repeat for several")


def cmd_sample(args) -> int:
    from copc_builder.algorithms.api import build_copc
    from copc_builder.demo import write_sample_scene
    from copc_builder.algorithms.api import format_report, validate_copc

    os.makedirs(args.dir, exist_ok=True)
    scene = os.path.join(args.dir, "sample_scene.laz")
    output = os.path.join(args.dir, "sample_scene.copc.laz")
    print(f"generating the built-in sample scene ({args.points:,} points) ...", flush=True)
    write_sample_scene(scene, points=args.points, seed=0)
    progress = make_progress(args.progress)
    try:
        summary = build_copc([scene], output, threads=args.threads, observer=progress,
                             cancel=_cancel_on_signals().is_set)
    finally:
        progress.close()
    print(f"input:  {os.path.abspath(scene)}")
    print(f"output: {summary.output}  ({summary.points:,} points, {summary.nodes:,} nodes, "
          f"{summary.bytes / 1e6:.1f} MB, {summary.seconds:.1f} s)")
    report = validate_copc(output)
    print("validation: " + format_report(report).replace("\n", "\n  "))
    return EXIT_OK if report.ok else EXIT_ERROR


def add_build_command(sub) -> None:
    """The ``build`` command and its options."""
    b = sub.add_parser("build", help="convert LAS/LAZ files or a PDAL pipeline into one COPC file",
                       description="Convert one or more LAS/LAZ files, or the points of a PDAL "
                                   "pipeline, into one COPC file.")
    b.add_argument("inputs", nargs="*", metavar="INPUT",
                   help="LAS/LAZ files (merged into one COPC), folders (their .las/.laz files) or "
                        "@LIST.txt (one path per line); s3://bucket/key.laz and http(s):// URLs, "
                        "s3://bucket/prefix/ (its LAS/LAZ objects); optional with --pipeline")
    b.add_argument("--recursive", action="store_true",
                   help="input folders: take the LAS/LAZ files of their subfolders too")
    b.add_argument("--pipeline", metavar="PIPELINE",
                   help="a PDAL pipeline, as a JSON file or a JSON string, whose points are "
                        "converted (needs the pdal Python package)")
    b.add_argument("-o", "--output", metavar="OUTPUT.copc.laz", help="the COPC file to write, or "
                   "s3://bucket/key.copc.laz (built in the temp folder, then uploaded); required unless --dry-run")
    b.add_argument("--dry-run", action="store_true",
                   help="print the plan (frame, cube, expected depth, units, bucket level, temp bytes, "
                        "peak memory) from the inputs' headers; read no point, write nothing")
    b.add_argument("--memory-budget", default=DEFAULT_MEMORY_BUDGET, metavar="SIZE",
                   help=f"memory for points before they spill to the temp folder "
                        f"(default {DEFAULT_MEMORY_BUDGET})")
    b.add_argument("--temp-dir", metavar="DIR",
                   help="folder for spilled pages (default: system temp); on a Dask cluster, the "
                        "work folder every worker shares")
    b.add_argument("--threads", type=int, metavar="N", help="worker threads (default: all cores)")
    b.add_argument("--scale", metavar="S|SX,SY,SZ", help="output scale (default: the inputs')")
    b.add_argument("--offset", metavar="OX,OY,OZ", help="output offset (default: the inputs')")
    b.add_argument("--a-srs", metavar="CRS", help="assign this CRS (EPSG:n or WKT), overriding the inputs'")
    b.add_argument("--t-srs", metavar="CRS",
                   help="reproject every point to this CRS (EPSG:n, WKT, PROJJSON or a PROJ string) as it "
                        "is read, each input from its own CRS (or --a-srs), so inputs in different CRSs "
                        "merge; heights too when both CRSs have a vertical axis")
    b.add_argument("--temporal-index", type=int, metavar="STRIDE",
                   help="add the COPC temporal index: each node's GPS times at every STRIDE-th point "
                        "(100 suits most files); needs inputs with GPS time")
    b.add_argument("--no-statistics", dest="statistics", action="store_false",
                   help="leave out the exact statistics QGIS reads (the 'qgis' EVLR)")
    b.add_argument("--progress", choices=("bar", "plain", "json"),
                   help="progress display (default: bar on a terminal, else plain)")
    add_storage_option(b)
    add_cluster_options(b)
    add_tile_options(b)
    b.set_defaults(func=cmd_build, build_parser=b, kernels=True, las=True)


def add_tile_options(b) -> None:
    """``--tile-size`` and the overview: COPC tiles and a virtual point cloud (.vpc)."""
    g = b.add_argument_group(
        "tiles (OUTPUT names a virtual point cloud, OUTPUT.vpc)",
        "One COPC per non-empty cell of a grid of SIZE (output CRS units, corners at multiples of SIZE) in the "
        "folder OUTPUT-tiles, an overview OUTPUT-overview.copc.laz of every tile's coarsest level, and "
        "OUTPUT.vpc listing them (QGIS opens it as one layer). The inputs are read once. "
        "OUTPUT s3://bucket/prefix/OUTPUT.vpc: all built in the temp folder, then uploaded, the .vpc last.")
    g.add_argument("--tile-size", type=float, metavar="SIZE", help="cut the points into square tiles of SIZE")
    g.add_argument("--no-overview", dest="overview", action="store_false", help="write no overview")
    g.add_argument("--overview-size", type=float, metavar="SIZE",
                   help="split the overview into files covering SIZE x SIZE (rounded up to whole tiles); "
                        "default: one overview, split only past 100 M points")


def add_cluster_options(b) -> None:
    """``--scheduler`` and ``--workers``: the same build on a Dask cluster."""
    g = b.add_argument_group(
        "on a Dask cluster (needs dask[distributed]; the output is the same bytes)",
        "The work folder (--temp-dir) must be visible to every worker at the same path, and so must "
        "the INPUT files. --dry-run ignores these options.")
    g.add_argument("--scheduler", metavar="ADDRESS|FILE",
                   help="run the build on the Dask cluster of this scheduler: its address "
                        "(tcp://host:8786) or its scheduler JSON file")
    g.add_argument("--workers", type=int, default=0, metavar="N",
                   help="run the build on a local Dask cluster of N worker processes "
                        "(default 0: in this process; not with --scheduler)")


def build_parser() -> argparse.ArgumentParser:
    from copc_builder import __version__

    parser = argparse.ArgumentParser(
        prog="copc-builder", description="Build, check and inspect COPC (Cloud Optimized Point Cloud) files.")
    parser.add_argument("--version", action="version", version=f"copc-builder {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    add_build_command(sub)

    v = sub.add_parser("validate", help="check COPC files against the COPC 1.0 spec")
    v.add_argument("files", nargs="+", metavar="FILE")
    v.add_argument("--json", action="store_true", help="one JSON object per file")
    add_storage_option(v)
    v.set_defaults(func=cmd_validate)

    i = sub.add_parser("info", help="header, CRS, COPC info; per level nodes, points and bytes")
    i.add_argument("files", nargs="+", metavar="FILE")
    i.add_argument("--json", action="store_true", help="print JSON")
    i.add_argument("--compare", metavar="OTHER",
                   help="put FILE and OTHER side by side: per level nodes, points, bytes, bytes per point")
    i.add_argument("--png", metavar="OUT.png",
                   help="draw the file: its coarse levels from above (by RGB, class or height) and "
                        "points and bytes per level as bars (needs matplotlib)")
    add_storage_option(i)
    i.set_defaults(func=cmd_info, info_parser=i, las=True)

    s = sub.add_parser("sample", help="generate the built-in sample scene and convert it")
    s.add_argument("--dir", default="copc_builder_sample", help="where to write (default ./copc_builder_sample)")
    s.add_argument("--points", type=int, default=1_000_000, help="points in the scene (default 1,000,000)")
    s.add_argument("--threads", type=int, metavar="N")
    s.add_argument("--progress", choices=("bar", "plain", "json"))
    s.set_defaults(func=cmd_sample, kernels=True, las=True)
    return parser


def main(argv: Optional[List[str]] = None, own_process: bool = False) -> int:
    """One command.  ``own_process`` (run(), the process's own entry): a
    build's first LAZ chunk is decoded by a forked process while this one
    imports, and the objects the imports made are frozen before the command
    runs.  Called in someone else's process, main() does neither."""
    parser = build_parser()
    args = parser.parse_args(argv)
    threads = getattr(args, "threads", None)
    if threads is not None and threads < 1:
        parser.error("--threads must be at least 1")
    if own_process:
        start_first_chunk(args)
    if threads:
        from copc_builder.algorithms.api import prepare_threads

        prepare_threads(threads)   # before lazrs starts its thread pool
    from copc_builder.algorithms.api import BuildCancelled, CopcBuilderError, load_laspy, load_numba_target

    # This process is all ours: laspy, for a command that reads LAS files, loads
    # without pyproj and requests (0.08 s), and numba, for a command that runs
    # kernels, without the packages it needs only for np.dot and cffi (0.1 s of
    # every build).
    if getattr(args, "las", False):
        load_laspy(alone=True)
    if getattr(args, "kernels", False):
        load_numba_target(alone=True)
    if own_process:
        # What the imports made lives until the exit: frozen, it is left out of
        # the garbage collections the command's own objects trigger (numba's
        # registries made the full one in a 10.5 M-point build take 47 ms).
        # run() turned the collector off for the imports, whose objects are
        # nearly all kept: collecting while numba imports walked them again
        # and again; it is on again for the command.
        gc.freeze()
        gc.enable()
    try:
        return args.func(args)
    except BuildCancelled:
        print("copc-builder: cancelled; nothing was written", file=sys.stderr)
        return EXIT_CANCELLED
    except KeyboardInterrupt:
        print("copc-builder: interrupted", file=sys.stderr)
        return EXIT_CANCELLED
    except CopcBuilderError as exc:
        print(f"copc-builder: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:   # e.g. `copc-builder info x | head`
        sys.stderr = open(os.devnull, "w")
        return EXIT_OK
    finally:
        from copc_builder import close_first_chunks

        close_first_chunks()


def start_first_chunk(args) -> None:
    """A build of local LAZ files: a forked process decodes the first one's
    first chunk while this one imports (sources/first_chunk.py).  Not for a
    dry run, a build on Dask workers, which decode elsewhere, or one asked to
    use one thread (--threads 1), whose second core is not ours to take."""
    if (getattr(args, "func", None) is not cmd_build or args.dry_run or args.scheduler or args.workers
            or args.threads == 1 or not args.inputs):
        return
    from copc_builder import CHUNK_POINTS, decode_first_chunk

    decode_first_chunk(args.inputs[0], CHUNK_POINTS)


def run() -> None:
    """The ``copc-builder`` command and ``python -m copc_builder``: main(),
    with the imports' objects frozen before the command, then exit.  Every
    object left is frozen first, so the interpreter's last garbage collection
    does not walk them all (numba's and the build's objects: 0.12 s of a 4 s
    build), and leave() ends the process without the interpreter's teardown;
    atexit handlers and buffered output still run and flush.  The
    collector is off until the imports are frozen (main()).

    numpy is told not to madvise transparent huge pages for its large arrays
    (its documented ``NUMPY_MADVISE_HUGEPAGE=0``, read when numpy is imported;
    a value the user set is kept).  Such a page is found and zeroed whole at
    the first touch, and can stall there (numpy issue #31590): on the
    benchmark's VM one 84 MB array took 0.5-0.7 s to fill in some runs and
    0.01 s in others, 0.03 s every time without the advice
    (``benchmarks/results/floor_gap.md``, sixth round)."""
    os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")
    gc.disable()
    code = main(own_process=True)
    gc.freeze()
    leave(code)


def leave(code: int) -> None:
    """End the process with ``code`` as the interpreter's own exit would:
    atexit handlers run (temporary folders, logging) and stdout and stderr
    are flushed (a failed flush of stdout makes status 120, as it does then).
    What is skipped is tearing the interpreter down object by object
    (numba's and LLVM's modules, the build's arrays), whose memory the kernel
    frees at once anyway; that took 18 ms of a 10.5 M-point build's end,
    under strace (``benchmarks/results/floor_gap.md``, eighth round).  Where
    another thread that is not a daemon still runs, or this Python has no
    ``atexit._run_exitfuncs``, the ordinary exit runs, which waits for it."""
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    run_exit_functions = getattr(atexit, "_run_exitfuncs", None)
    if others or run_exit_functions is None:
        sys.exit(code)
    run_exit_functions()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            if stream is sys.stdout and code == EXIT_OK:
                code = 120
    os._exit(code)


if __name__ == "__main__":
    run()

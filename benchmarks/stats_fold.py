#!/usr/bin/env python3
"""What the writer's record statistics cost, kernel by kernel.

Every record the writer makes is folded twice: into the header's figures
(``record_stats``: bounds, counts by return, GPS range; both cores) and, by
default, into the exact QGIS statistics (``attribute_stats``: histograms,
32-bit fields, a compensated float sum per node; one thread, beside lazrs's
compressor, whose cores it takes).  This reads the first --points records of
a LAZ of point format 6, cuts them into nodes of --node points, and prints
the best of --repeat for each kernel, scaled to 10.5 M points (the mosaic of
``scale.py --runs 16:default``), with the CPU model.

    python benchmarks/stats_fold.py INPUT.laz [--points 3000000] [--node 20000] [--repeat 5]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import laspy
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from scale import cpu_model  # noqa: E402  (benchmarks/scale.py, beside this script)

from copc_builder.algorithms.kernels import attribute_stats as ks  # noqa: E402
from copc_builder.algorithms.kernels.records import record_stats  # noqa: E402
from copc_builder.algorithms.points.point_layout import PointLayout  # noqa: E402
from copc_builder.algorithms.writer.output_header import HeaderTemplate  # noqa: E402
from copc_builder.algorithms.writer.qgis_stats_extension import QgisStatisticsExtension  # noqa: E402

SCALED_TO = 10_509_392   # the points of 16 copies of lastools_zurich.laz
BATCH = 280_000          # about the writer's 8 MB compressor batch of 30-byte records


def best(fn, repeat: int) -> float:
    fn()   # the first call loads the kernel
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input", type=Path)
    ap.add_argument("--points", type=int, default=3_000_000)
    ap.add_argument("--node", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    with laspy.open(args.input) as reader:
        if reader.header.point_format.id != 6:
            sys.exit(f"{args.input}: point format {reader.header.point_format.id}; this takes format 6")
        points = reader.read_points(args.points)
    records = np.ascontiguousarray(points.array).view(np.uint8).reshape(len(points), -1)
    nodes = len(records) // args.node
    records = records[:nodes * args.node]
    bounds = np.arange(nodes + 1, dtype=np.int64) * args.node
    ext = QgisStatisticsExtension(HeaderTemplate(layout=PointLayout(6, ()), scales=(0.01, 0.01, 0.01),
                                                 offsets=(0.0, 0.0, 0.0), wkt=None))
    states = np.zeros((nodes, len(ext.float_attrs), ks.FLOAT_FIELDS))

    def floats():
        for j in range(nodes):
            ks.fold_floats(records[bounds[j]:bounds[j + 1]], ext._float_spec, states[j])

    def header_figures():
        mins, maxs = np.full(3, np.iinfo(np.int64).max), np.full(3, np.iinfo(np.int64).min)
        by_return, gps = np.zeros(15, np.int64), np.array([np.inf, -np.inf])
        for s in range(0, len(records), BATCH):
            record_stats(records[s:s + BATCH], mins, maxs, by_return, gps)

    kernels = [
        (f"QGIS histograms ({len(ext._hist_spec)} fields)", lambda: ks.fold_histograms(records, ext._hist_spec, ext._hist)),
        (f"QGIS 32-bit fields ({len(ext._wide_spec)})", lambda: ks.fold_wide(records, ext._wide_spec, ext._wide)),
        (f"QGIS floats ({len(ext._float_spec)}), node by node", floats),
        ("QGIS all, one call (fold_nodes)", lambda: ks.fold_nodes(records, bounds, ext._hist_spec, ext._hist,
                                                                   ext._wide_spec, ext._wide, ext._float_spec, states)),
        ("header figures (record_stats, all threads)", header_figures),
    ]
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores; {len(records):,} records of {args.input.name}, "
          f"{nodes:,} nodes of {args.node:,}; best of {args.repeat}, seconds per {SCALED_TO:,} points")
    for name, fn in kernels:
        print(f"{best(fn, args.repeat) * SCALED_TO / len(records):8.3f} s  {name}")


if __name__ == "__main__":
    main()

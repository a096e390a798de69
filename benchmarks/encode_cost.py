#!/usr/bin/env python3
"""What the LAZ encoding of a COPC costs beside the floor's encoding.

The floor (../shared/tools/laz_limit.py) encodes the input's points in their
file order, in chunks of 60,000; a COPC encodes each node as a chunk, its
points in the node's order.  This takes an input LAZ and the COPC built from
it, decodes both, and times lazrs's parallel compressor (best of --repeat)
on the same records three ways:

  - the COPC's nodes, one chunk each                 (what the writer does)
  - the COPC's points in node order, 60,000 a chunk   (the nodes' order, the floor's chunks)
  - the input's points in file order, 60,000 a chunk  (the floor)

and prints seconds, output bytes and chunk counts, the CPU model and the
load, so a change of node size or of the order within nodes can be judged
by what it does to the encoder.

    python benchmarks/encode_cost.py INPUT.laz OUTPUT.copc.laz [--repeat 3]
"""
from __future__ import annotations

import argparse
import io
import os
import sys
import time
from pathlib import Path

import laspy
import lazrs
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from scale import cpu_model  # noqa: E402  (benchmarks/scale.py, beside this script)

FLOOR_CHUNK = 60_000   # laz_limit.py's default chunk


def copc_nodes(path: Path):
    """(records (n, size) uint8 in file order, points per chunk, the LAZ VLR) of a COPC."""
    data = path.read_bytes()
    with laspy.open(path) as reader:
        header = reader.header
    vlr = next(v for v in header.vlrs if v.record_id == 22204)
    laz_vlr = lazrs.LazVlr(vlr.record_data)
    start = header.offset_to_point_data
    stream = io.BytesIO(data)
    stream.seek(start)   # the chunk table's offset is the point data's first 8 bytes, from the file's start
    table = lazrs.read_chunk_table(stream, laz_vlr)
    counts = [count for count, _ in table]
    size = header.point_format.size
    out = np.empty(sum(counts) * size, np.uint8)
    compressed = data[start + 8:start + 8 + sum(s for _, s in table)]
    lazrs.decompress_points_with_chunk_table(compressed, vlr.record_data, out, table)
    return out.reshape(-1, size), counts, laz_vlr


def split(records: np.ndarray, counts):
    chunks, pos = [], 0
    for count in counts:
        chunks.append(records[pos:pos + count])
        pos += count
    return chunks


def encode(chunks, laz_vlr, repeat: int):
    best, size = float("inf"), 0
    for _ in range(repeat):
        buffer = io.BytesIO()
        t0 = time.perf_counter()
        compressor = lazrs.ParLasZipCompressor(buffer, laz_vlr)
        compressor.compress_chunks(chunks)
        compressor.done()
        best = min(best, time.perf_counter() - t0)
        size = buffer.tell()
    return best, size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input", type=Path)
    ap.add_argument("copc", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores; load {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    records, counts, laz_vlr = copc_nodes(args.copc)
    with laspy.open(args.input, laz_backend=laspy.LazBackend.LazrsParallel) as reader:
        points = reader.read_points(reader.header.point_count)
    source = np.frombuffer(points.array.tobytes(), np.uint8).reshape(len(points), -1)
    if source.shape != records.shape:
        sys.exit(f"{args.input} and {args.copc} do not hold records of the same size and count "
                 f"({source.shape} against {records.shape}); give an input and the COPC built from it")
    rows = [("the COPC's nodes, one chunk each", split(records, counts)),
            (f"the COPC's points in node order, {FLOOR_CHUNK:,} a chunk",
             [records[i:i + FLOOR_CHUNK] for i in range(0, len(records), FLOOR_CHUNK)]),
            (f"the input's points in file order, {FLOOR_CHUNK:,} a chunk",
             [source[i:i + FLOOR_CHUNK] for i in range(0, len(source), FLOOR_CHUNK)])]
    print(f"{len(records):,} points of {records.shape[1]} bytes; best of {args.repeat}")
    for label, chunks in rows:
        seconds, size = encode(chunks, laz_vlr, args.repeat)
        print(f"  {seconds:6.3f} s  {size / 1e6:7.1f} MB  {len(chunks):6,} chunks  {label}")


if __name__ == "__main__":
    main()

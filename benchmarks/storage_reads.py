"""What reading from object storage costs: bytes and requests against the
objects' sizes, for a build from s3:// and http:// inputs and for ``info``
and ``validate`` of a remote COPC.

Servers on loopback (moto's S3 behind the tests' counting front, and the
tests' HTTP server with ranges; tests/storage_servers.py) count what they
send; the figures are theirs.  Needs the test extra (moto[server]).

    python benchmarks/storage_reads.py                  # the 10.5 M-point mosaic of lastools_zurich.laz
    python benchmarks/storage_reads.py --input big.laz  # any LAS/LAZ
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))
from scale import cpu_model  # noqa: E402  (benchmarks/scale.py, beside this script)

SHARED = HERE.parent.parent / "shared"


def mosaic(folder: Path) -> Path:
    out = folder / "zurich_x16.laz"
    subprocess.run([sys.executable, str(SHARED / "tools" / "mosaic.py"), str(SHARED / "data" / "lastools_zurich.laz"),
                    str(out), "--copies", "16"], check=True)
    return out


def row(label: str, read: int, size: int, requests: int, seconds: float) -> None:
    print(f"{label:<38} {read:>14,} B of {size:>14,} B  {read / size:8.3%}  {requests:>6} requests  "
          f"{seconds:6.1f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", type=Path, help="a LAS/LAZ file (default: a 16-copy mosaic of lastools_zurich.laz)")
    args = ap.parse_args()

    from copc_builder import build_copc
    from copc_builder.algorithms.api import copc_info, validate_copc
    from storage_servers import RangeServer, S3Server

    print(f"CPU: {cpu_model()}; load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    with tempfile.TemporaryDirectory(prefix="storage_reads-") as tmp:
        folder = Path(tmp)
        source = args.input or mosaic(folder)
        size = source.stat().st_size
        s3 = S3Server()
        os.environ.update(s3.environment())
        client = s3.client()
        client.create_bucket(Bucket="bench")
        client.upload_file(str(source), "bench", "in/input.laz")
        http = RangeServer(source.parent)
        try:
            s3.front.reset()
            t0 = time.perf_counter()
            summary = build_copc(["s3://bench/in/input.laz"], "s3://bench/out/output.copc.laz", temp_dir=tmp)
            t1 = time.perf_counter()
            gets = sum(1 for r in s3.front.seen if r.startswith("GET"))
            print(f"input {source.name}: {summary.points:,} points, {size:,} bytes; output {summary.bytes:,} bytes")
            row("build s3:// -> s3:// (input GETs)", s3.front.bytes_sent, size, gets, t1 - t0)
            parts = sum(1 for r in s3.front.seen if "partNumber=" in r)
            print(f"{'  upload':<38} {summary.bytes:>14,} B in {parts} parts")
            http.clear_counts()
            t0 = time.perf_counter()
            build_copc([http.url(source.name)], folder / "from_http.copc.laz", temp_dir=tmp)
            row("build http:// -> local", http.bytes_sent, size, len(http.requests), time.perf_counter() - t0)
            out_size = summary.bytes
            for label, run in (("info s3://", lambda: copc_info("s3://bench/out/output.copc.laz")),
                               ("validate s3://", lambda: validate_copc("s3://bench/out/output.copc.laz"))):
                s3.front.reset()
                t0 = time.perf_counter()
                result = run()
                seconds = time.perf_counter() - t0
                requests = sum(1 for r in s3.front.seen)
                row(label, s3.front.bytes_sent, out_size, requests, seconds)
                if label.startswith("info"):
                    print(f"{'  info says':<38} {result['transfer']['bytes_read']:>14,} B in "
                          f"{result['transfer']['requests']} range requests")
                else:
                    print(f"{'  valid':<38} {result.ok}")
        finally:
            http.close()
            s3.close()


if __name__ == "__main__":
    main()

"""Builds from http:// inputs on a real HTTP server with Range support (ours,
on loopback): the same bytes as the local build with each byte read about
once, Basic auth from the URL, one-line errors for 404, 401/403 and a
server without ranges, retries; a 2-worker Dask build whose workers read the
server themselves (http, and s3 through moto); the ordinary build never
imports the storage libraries, and without them an URL is one line saying
what to install."""
from __future__ import annotations

import subprocess
import sys

import pytest

from copc_builder import build_copc
from copc_builder.algorithms.api import InputError
from copc_builder.algorithms.storage.transfers import TRANSFERS
from fixtures import write_las
from storage_servers import RangeServer

pytest.importorskip("urllib3")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Two LAZ files (1.2 M points) on an HTTP server that wants Basic auth."""
    folder = tmp_path_factory.mktemp("http_files")
    files = [write_las(folder / f"part-{i}.laz", n=600_000, point_format=1, seed=20 + i,
                       offset=(600_000.0, 5_000_000.0 + 300 * i, 10.0), extent=300.0) for i in range(2)]
    server = RangeServer(folder, user="reader", password="pa ss")
    yield server, files
    server.close()


@pytest.fixture(scope="module")
def local_build(served, tmp_path_factory):
    out = tmp_path_factory.mktemp("http_local") / "local.copc.laz"
    build_copc(served[1], out)
    return out.read_bytes()


def urls(server, files):
    return [server.url(p.name, auth="reader:pa%20ss") for p in files]


def test_http_build_same_bytes_each_byte_read_once(served, local_build, tmp_path):
    server, files = served
    server.clear_counts()
    out = tmp_path / "http.copc.laz"
    summary = build_copc(urls(server, files), out)
    assert out.read_bytes() == local_build
    sizes = sum(p.stat().st_size for p in files)
    assert sizes <= server.bytes_sent <= 1.05 * sizes, (server.bytes_sent, sizes)
    ranged = [r for r in server.requests if r[0] == "GET"]
    assert ranged and all(r[2] and r[2].startswith("bytes=") for r in ranged)   # never a whole-file GET
    assert "pa ss" not in repr(summary.as_dict()) and "reader" not in summary.output


def test_http_dask_workers_read_the_server_themselves(served, local_build, tmp_path):
    pytest.importorskip("distributed")
    server, files = served
    server.clear_counts()
    before = TRANSFERS.snapshot()
    out = tmp_path / "dask.copc.laz"
    build_copc(urls(server, files), out, workers=2, temp_dir=tmp_path, memory_budget="64M")
    assert out.read_bytes() == local_build
    sizes = sum(p.stat().st_size for p in files)
    assert sizes <= server.bytes_sent <= 1.05 * sizes, (server.bytes_sent, sizes)
    # The client read the headers and chunk tables; the points came to the workers.
    here = TRANSFERS.snapshot().bytes_read - before.bytes_read
    assert here < 0.05 * sizes, (here, sizes)


def test_s3_dask_workers_read_the_store_themselves(s3, served, local_build, tmp_path):
    pytest.importorskip("distributed")
    _, files = served
    client = s3.client()
    client.create_bucket(Bucket="dask-in")
    for p in files:
        client.upload_file(str(p), "dask-in", p.name)
    out = tmp_path / "s3-dask.copc.laz"
    # The workers get the endpoint and keys from the options (their own
    # environment may hold none); the build's output is uploaded by the client.
    options = {"endpoint_url": s3.endpoint, "key": "testing", "secret": "testing", "region": "us-east-1"}
    build_copc([f"s3://dask-in/{p.name}" for p in files], out, workers=2, temp_dir=tmp_path,
               memory_budget="64M", storage_options=options)
    assert out.read_bytes() == local_build
    sizes = sum(p.stat().st_size for p in files)
    assert sizes <= s3.front.bytes_sent <= 1.05 * sizes, (s3.front.bytes_sent, sizes)


def test_http_errors_are_one_line(served, tmp_path):
    server, files = served
    with pytest.raises(InputError, match=r"not found: the server has no file at this URL \(HTTP 404\)") as caught:
        build_copc([server.url("missing.laz", auth="reader:pa%20ss")], tmp_path / "o.copc.laz")
    assert str(caught.value).startswith(f"http://127.0.0.1:{server.port}/missing.laz: ")
    with pytest.raises(InputError, match=r"access denied \(HTTP 401\)") as caught:
        build_copc([server.url(files[0].name, auth="reader:wrong-password")], tmp_path / "o.copc.laz")
    assert "wrong-password" not in str(caught.value) and "reader" not in str(caught.value)
    server.denied.add(files[0].name)
    try:
        with pytest.raises(InputError, match=r"access denied \(HTTP 403\)"):
            build_copc(urls(server, files[:1]), tmp_path / "o.copc.laz")
    finally:
        server.denied.clear()
    server.ranges = False
    try:
        with pytest.raises(InputError, match="does not answer range requests"):
            build_copc(urls(server, files[:1]), tmp_path / "o.copc.laz")
    finally:
        server.ranges = True
    assert list(tmp_path.iterdir()) == []


def test_http_resets_are_retried_then_one_line(served, tmp_path):
    server, files = served
    server.reset_next(2)
    out = tmp_path / "retried.copc.laz"
    build_copc(urls(server, files[:1]), out, storage_options={"retries": 3, "retry_wait": 0.05})
    assert out.exists()
    server.reset_next(10 ** 6)
    try:
        with pytest.raises(InputError) as caught:
            build_copc(urls(server, files[:1]), tmp_path / "never.copc.laz",
                       storage_options={"retries": 2, "retry_wait": 0.01})
    finally:
        server.reset_next(0)
    text = str(caught.value)
    assert text.startswith(f"http://127.0.0.1:{server.port}/{files[0].name}: cannot read it: ")
    assert "after 3 attempts" in text and "\n" not in text


IMPORTS = """
import sys
from copc_builder import build_copc
build_copc([sys.argv[1]], sys.argv[2])
# (urllib3 may be there anyway: laspy imports requests when it can, for its CopcReader's URLs)
mods = [m for m in ("boto3", "botocore", "copc_builder.algorithms.storage.s3_object",
                    "copc_builder.algorithms.storage.http_object", "copc_builder.algorithms.storage.range_file")
        if m in sys.modules]
print("imported:", mods)
"""


def test_ordinary_build_imports_no_storage_library(tmp_path):
    src = write_las(tmp_path / "a.laz", n=2_000)
    r = subprocess.run([sys.executable, "-c", IMPORTS, str(src), str(tmp_path / "a.copc.laz")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "imported: []" in r.stdout, r.stdout


def test_url_without_the_extra_says_what_to_install(tmp_path):
    hide = "import sys; sys.modules['boto3'] = None; sys.modules['urllib3'] = None\n"
    run = "from copc_builder.plugin.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    for url in ("s3://bucket/a.laz", "https://example.invalid/a.laz"):
        r = subprocess.run([sys.executable, "-c", hide + run, "build", url, "-o", str(tmp_path / "o.copc.laz")],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 1, r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "pip install 'copc-builder[storage]'" in lines[0], r.stderr
        assert lines[0].startswith(f"copc-builder: error: {url}: ")

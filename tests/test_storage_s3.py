"""Builds from and to s3:// on a real S3 server (moto in server mode, over
HTTP on loopback, behind a front of ours that counts and breaks things):
the same bytes as the local build, each input byte read about once, a
prefix and an @list of URLs, info and validate of a remote COPC reading
only what they need, and the faults: a missing key or bucket, a 403, a
reset connection, an upload broken or cancelled mid-way, the server killed
mid-upload."""
from __future__ import annotations

import re
import struct

import pytest

from copc_builder import build_copc
from copc_builder.algorithms.api import BuildCancelled, InputError, OutputError, copc_info, validate_copc
from copc_builder.algorithms.storage.transfers import TRANSFERS
from fixtures import write_las
from hostile_helpers import one_error_line, run_cli

BUCKET = "lidar"
FAST = {"retries": 1, "retry_wait": 0.05}     # faults fail fast in tests


@pytest.fixture(scope="module")
def tiles(tmp_path_factory, s3_server):
    """Three LAZ tiles (2.1 M points, about 25 MB), in a folder and under s3://lidar/tiles/."""
    folder = tmp_path_factory.mktemp("s3_tiles")
    files = [write_las(folder / f"tile-{i}.laz", n=700_000, point_format=3, seed=10 + i,
                       offset=(500_000.0 + 400 * i, 4_000_000.0, 0.0), extent=400.0) for i in range(3)]
    (folder / "notes.txt").write_text("not a point cloud")
    client = s3_server.client()
    client.create_bucket(Bucket=BUCKET)
    for path in files + [folder / "notes.txt"]:
        client.upload_file(str(path), BUCKET, f"tiles/{path.name}")
    return files


@pytest.fixture(scope="module")
def local_build(tiles, tmp_path_factory):
    out = tmp_path_factory.mktemp("s3_local") / "local.copc.laz"
    build_copc(tiles, out)
    return out.read_bytes()


def get_object(server, key: str) -> bytes:
    return server.client().get_object(Bucket=BUCKET, Key=key)["Body"].read()


def no_object(server, key: str) -> bool:
    return key not in server.keys(BUCKET)


def test_s3_to_s3_same_bytes_each_byte_read_once(s3, tiles, local_build, tmp_path):
    urls = [f"s3://{BUCKET}/tiles/{p.name}" for p in tiles]
    before = TRANSFERS.snapshot()
    summary = build_copc(urls, f"s3://{BUCKET}/out/merged.copc.laz", temp_dir=tmp_path,
                         storage_options={"part_size": "5M"})
    after = TRANSFERS.snapshot()
    assert summary.output == f"s3://{BUCKET}/out/merged.copc.laz"
    assert get_object(s3, "out/merged.copc.laz") == local_build
    assert s3.unfinished_uploads(BUCKET) == []
    sizes = sum(p.stat().st_size for p in tiles)
    # The server's own count, and ours: each input byte about once.
    assert sizes <= s3.front.bytes_sent <= 1.05 * sizes, (s3.front.bytes_sent, sizes)
    assert after.bytes_read - before.bytes_read == s3.front.bytes_sent
    assert after.bytes_written - before.bytes_written == len(local_build)
    parts = [r for r in s3.front.seen if re.match(r"PUT .*partNumber=", r)]
    assert len(parts) == -(-len(local_build) // (5 << 20)) >= 2, parts
    assert list(tmp_path.iterdir()) == [], "the local copy and work files are removed"


def test_prefix_stands_for_its_las_objects_sorted(s3, tiles, local_build, tmp_path):
    notes = []

    class Observer:
        def on_message(self, level, text):
            notes.append(text)

    out = tmp_path / "prefix.copc.laz"
    build_copc(f"s3://{BUCKET}/tiles/", out, observer=Observer())
    assert out.read_bytes() == local_build
    assert any("notes.txt" in n and f"s3://{BUCKET}/tiles/" in n for n in notes), notes
    listed = tmp_path / "tiles.txt"
    listed.write_text("".join(f"s3://{BUCKET}/tiles/{p.name}\n" for p in tiles))
    out2 = tmp_path / "list.copc.laz"
    build_copc(f"@{listed}", out2)
    assert out2.read_bytes() == local_build


def test_info_of_a_remote_copc_reads_under_two_percent(s3, tiles, local_build):
    s3.client().put_object(Bucket=BUCKET, Key="copc/info.copc.laz", Body=local_build)
    s3.front.reset()
    r = run_cli("info", f"s3://{BUCKET}/copc/info.copc.laz", env=_env(s3))
    assert r.returncode == 0, r.stderr
    match = re.search(r"Read:\s+([\d,]+) bytes \(([\d.]+)% of the file\) in (\d+) requests", r.stdout)
    assert match, r.stdout
    read = int(match.group(1).replace(",", ""))
    assert read == s3.front.bytes_sent, (read, s3.front.bytes_sent)   # the server agrees
    assert int(match.group(3)) == len(s3.front.seen), s3.front.seen
    assert read < 0.02 * len(local_build), (read, len(local_build))
    assert "2,100,000 points" in r.stdout
    info = copc_info(f"s3://{BUCKET}/copc/info.copc.laz")
    assert info["copc"]["points"] == 2_100_000 and info["transfer"]["bytes_read"] < 0.02 * len(local_build)


def test_validate_of_a_remote_copc(s3, local_build):
    s3.client().put_object(Bucket=BUCKET, Key="copc/valid.copc.laz", Body=local_build)
    report = validate_copc(f"s3://{BUCKET}/copc/valid.copc.laz")
    assert report.ok, report.findings
    assert report.points == 2_100_000
    broken = bytearray(local_build)
    broken[429:437] = struct.pack("<d", 1e9)    # the COPC info VLR's centre x: nodes' cubes miss their points
    s3.client().put_object(Bucket=BUCKET, Key="copc/broken.copc.laz", Body=bytes(broken))
    assert not validate_copc(f"s3://{BUCKET}/copc/broken.copc.laz").ok


def test_missing_key_and_bucket_are_one_line(s3, tmp_path):
    r = run_cli("build", f"s3://{BUCKET}/tiles/nope.laz", "-o", tmp_path / "o.copc.laz", env=_env(s3))
    line = one_error_line(r)
    assert f"s3://{BUCKET}/tiles/nope.laz" in line and "tiles/nope.laz" in line and "no object" in line
    r = run_cli("build", "s3://no-such-bucket/a.laz", "-o", tmp_path / "o.copc.laz", env=_env(s3))
    assert "no-such-bucket" in one_error_line(r)
    r = run_cli("build", f"s3://{BUCKET}/empty/", "-o", tmp_path / "o.copc.laz", env=_env(s3))
    assert "no LAS/LAZ objects" in one_error_line(r)
    assert list(tmp_path.iterdir()) == []


def test_access_denied_is_one_line_naming_bucket_and_key(s3, tiles, tmp_path):
    s3.set_auth(True)     # moto now checks keys: "testing" is unknown to it
    r = run_cli("build", f"s3://{BUCKET}/tiles/{tiles[0].name}", "-o", tmp_path / "o.copc.laz", env=_env(s3))
    line = one_error_line(r)
    assert "access denied" in line and "403" in line
    assert f"bucket {BUCKET}" in line and f"tiles/{tiles[0].name}" in line


def test_missing_output_bucket_found_before_any_point_is_read(s3, tiles, tmp_path):
    with pytest.raises(OutputError, match="the bucket no-such-bucket does not exist"):
        build_copc([f"s3://{BUCKET}/tiles/{tiles[0].name}"], "s3://no-such-bucket/out.copc.laz")
    assert not any(r.startswith("GET") for r in s3.front.seen), s3.front.seen
    with pytest.raises(OutputError, match="give the object's key"):
        build_copc([str(tiles[0])], f"s3://{BUCKET}/")


def test_reset_connections_are_retried(s3, tiles, tmp_path):
    s3.front.fail(r"^GET /lidar/tiles/tile-0", "reset", times=2)
    out = tmp_path / "retried.copc.laz"
    build_copc([f"s3://{BUCKET}/tiles/{tiles[0].name}"], out, storage_options={"retries": 3, "retry_wait": 0.05})
    assert out.exists()
    s3.front.fail(r"^GET /lidar/tiles/tile-1", "reset")
    with pytest.raises(InputError) as caught:
        build_copc([f"s3://{BUCKET}/tiles/{tiles[1].name}"], tmp_path / "never.copc.laz", storage_options=FAST)
    text = str(caught.value)
    assert text.startswith(f"s3://{BUCKET}/tiles/{tiles[1].name}: ") and "after 2 attempts" in text
    assert "\n" not in text
    assert not (tmp_path / "never.copc.laz").exists()


def test_upload_broken_mid_way_is_aborted(s3, tiles, tmp_path):
    s3.front.fail(r"^PUT /lidar/out/broken\.copc\.laz\?.*partNumber=2", "reset")
    with pytest.raises(OutputError) as caught:
        build_copc(tiles, f"s3://{BUCKET}/out/broken.copc.laz", temp_dir=tmp_path,
                   storage_options=dict(FAST, part_size="5M"))
    assert "the upload was aborted, nothing was stored" in str(caught.value)
    assert any(r.startswith("DELETE /lidar/out/broken.copc.laz?uploadId=") for r in s3.front.seen)
    assert no_object(s3, "out/broken.copc.laz")
    assert s3.unfinished_uploads(BUCKET) == []     # asked of the live server
    assert list(tmp_path.iterdir()) == []


def test_cancel_during_the_upload_aborts_it(s3, tiles, tmp_path):
    def cancel():
        return any("partNumber=1" in r for r in s3.front.seen)

    with pytest.raises(BuildCancelled):
        build_copc(tiles, f"s3://{BUCKET}/out/cancelled.copc.laz", temp_dir=tmp_path, cancel=cancel,
                   storage_options={"part_size": "5M", "max_concurrency": 1})
    assert no_object(s3, "out/cancelled.copc.laz")
    assert s3.unfinished_uploads(BUCKET) == []
    assert list(tmp_path.iterdir()) == []


def test_server_killed_mid_upload_leaves_nothing(s3, tiles, tmp_path):
    """The server dies at part 2 (every connection cut) and is back a second
    later: the parts in flight fail, the abort waits for the server and goes
    through; no object, no unfinished upload."""
    s3.front.revive_after = 1.0
    s3.front.fail(r"^PUT /lidar/out/killed\.copc\.laz\?.*partNumber=2", "kill", times=1)
    with pytest.raises(OutputError) as caught:
        build_copc(tiles, f"s3://{BUCKET}/out/killed.copc.laz", temp_dir=tmp_path,
                   storage_options={"part_size": "5M", "retries": 1, "retry_wait": 0.1})
    assert "nothing was stored" in str(caught.value), caught.value
    assert no_object(s3, "out/killed.copc.laz")
    assert s3.unfinished_uploads(BUCKET) == []
    assert list(tmp_path.iterdir()) == []


def test_server_gone_for_good_says_how_to_abort(s3, tiles, tmp_path):
    """When the server does not come back, the upload cannot be aborted: the
    one line says so, with the upload id and the command that aborts it."""
    s3.front.fail(r"^PUT /lidar/out/gone\.copc\.laz\?.*partNumber=2", "kill", times=1)
    with pytest.raises(OutputError) as caught:
        build_copc(tiles, f"s3://{BUCKET}/out/gone.copc.laz", temp_dir=tmp_path,
                   storage_options={"part_size": "5M", "retries": 1, "retry_wait": 0.01})
    text = str(caught.value)
    assert "could not be aborted" in text and "abort-multipart-upload" in text and "\n" not in text
    s3.front.revive()
    uploads = s3.unfinished_uploads(BUCKET)
    assert [u["Key"] for u in uploads] == ["out/gone.copc.laz"] and uploads[0]["UploadId"] in text
    s3.client().abort_multipart_upload(Bucket=BUCKET, Key="out/gone.copc.laz", UploadId=uploads[0]["UploadId"])
    assert no_object(s3, "out/gone.copc.laz")
    assert list(tmp_path.iterdir()) == []


def _env(server) -> dict:
    import os

    env = dict(os.environ)
    env.update(server.environment())
    env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    env.pop("AWS_PROFILE", None)
    return env


def test_a_folder_of_files_goes_up_under_a_prefix(s3, tmp_path):
    """The generic step a tiled build's output (a .vpc and its tiles) will use."""
    from copc_builder.algorithms.storage.storage_options import storage_options
    from copc_builder.algorithms.storage.object_set import upload_tree
    from copc_builder.algorithms.storage.urls import parse_url

    folder = tmp_path / "tiles"
    (folder / "tiles").mkdir(parents=True)
    big = bytes(range(256)) * (23 << 10)          # 5.9 MB: two parts of 5 MB
    (folder / "tiles" / "t-0.copc.laz").write_bytes(big)
    (folder / "survey.vpc").write_text('{"type": "FeatureCollection"}')
    s3.client().create_bucket(Bucket="trees")
    seen = []
    sent = upload_tree(str(folder), parse_url("s3://trees/tree"), storage_options({"part_size": "5M"}),
                       lambda done, total: seen.append((done, total)))
    assert sent == len(big) + len('{"type": "FeatureCollection"}')
    assert s3.keys("trees") == ["tree/survey.vpc", "tree/tiles/t-0.copc.laz"]
    assert s3.client().get_object(Bucket="trees", Key="tree/tiles/t-0.copc.laz")["Body"].read() == big
    assert seen[-1] == (sent, sent) and [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_dry_run_reads_headers_only_and_checks_the_output_bucket(s3, tiles):
    from copc_builder.algorithms.api import dry_run

    plan = dry_run(f"s3://{BUCKET}/tiles/", "s3://no-such-bucket/out.copc.laz")
    assert plan.points == 2_100_000
    assert any("no-such-bucket does not exist" in n for n in plan.notes), plan.notes
    assert s3.front.bytes_sent < 0.01 * sum(p.stat().st_size for p in tiles)
    assert not any("cannot be written" in n for n in dry_run(f"s3://{BUCKET}/tiles/", f"s3://{BUCKET}/o.copc.laz").notes)
    assert s3.unfinished_uploads(BUCKET) == []


def test_an_object_replaced_between_scan_and_read_is_refused(s3, tiles, tmp_path):
    from copc_builder.algorithms.sources.las_file import LasFile

    s3.client().upload_file(str(tiles[0]), BUCKET, "moving/a.laz")
    source = LasFile(f"s3://{BUCKET}/moving/a.laz")       # scanned: its ETag is known
    s3.client().upload_file(str(tiles[1]), BUCKET, "moving/a.laz")
    with pytest.raises(InputError, match="changed while it was being read"):
        for _ in source.chunks(1_000_000, 500_000):       # a range no cached block holds
            pass


def test_objects_go_up_in_the_order_given_and_can_be_listed_and_removed(s3, tmp_path):
    """object_set.py, what a tiled build's upload is made of: files sent in the
    order given (each key noted before its upload starts), the keys under a
    prefix and its sub-prefixes, keys removed, a small object read."""
    from copc_builder.algorithms.storage.object_set import delete_keys, list_keys, read_small, upload_files
    from copc_builder.algorithms.storage.storage_options import storage_options
    from copc_builder.algorithms.storage.urls import parse_url

    s3.client().create_bucket(Bucket="sets")
    names = ["c/t-2.copc.laz", "c/t-1.copc.laz", "c.vpc"]
    for name in names:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(name.encode() * 1000)
    options = storage_options({"part_size": "5M"})
    started = []
    files = [(str(tmp_path / n), parse_url(f"s3://sets/out/{n}")) for n in names]
    assert upload_files(files, options, started) == sum(len(n) * 1000 for n in names)
    puts = [r.split("?")[0] for r in s3.front.seen if r.startswith("PUT ")]
    assert puts == [f"PUT /sets/out/{n}" for n in names]
    assert [loc.key for loc in started] == [f"out/{n}" for n in names]
    assert list_keys(parse_url("s3://sets/out/"), options) == (["out/c.vpc"], ["out/c/"])
    assert list_keys(parse_url("s3://sets/out/c/"), options) == (["out/c/t-1.copc.laz", "out/c/t-2.copc.laz"], [])
    assert read_small(parse_url("s3://sets/out/c.vpc"), options) == b"c.vpc" * 1000
    assert read_small(parse_url("s3://sets/out/none.vpc"), options) is None
    delete_keys(parse_url("s3://sets/out/"), ["out/c.vpc", "out/c/t-1.copc.laz", "out/never-there"], options)
    assert s3.keys("sets") == ["out/c/t-2.copc.laz"]

"""A tiled build to s3:// (the tiles and the overview uploaded, the .vpc
last), and a .vpc on a server (s3://, http://) read through the storage
layer: as input, by validate and by info.  Real servers on loopback
(tests/storage_servers.py): moto's S3 behind a front that logs, counts and
breaks requests, and an HTTP server with Range support."""
from __future__ import annotations

import pytest

from copc_builder.algorithms.format.vpc_record import resolve_href
from copc_builder.algorithms.storage.range_file import BLOCKS


@pytest.mark.parametrize("vpc, href, member", [
    ("s3://b/p/out.vpc", "./out-tiles/t.copc.laz", "s3://b/p/out-tiles/t.copc.laz"),
    ("s3://b/out.vpc", "./out-tiles/t.copc.laz", "s3://b/out-tiles/t.copc.laz"),
    ("s3://b/p/q/out.vpc", "../t.laz", "s3://b/p/t.laz"),
    ("s3://b/p/out.vpc", "/t.laz", "s3://b/t.laz"),
    ("s3://b/p/out.vpc", "t.laz", "s3://b/p/t.laz"),
    ("S3://b/p/out.vpc", "./t.laz", "S3://b/p/t.laz"),
    ("https://reader:pw@h:8080/a/out.vpc?sig=x", "./out-tiles/t.copc.laz",
     "https://reader:pw@h:8080/a/out-tiles/t.copc.laz"),
    ("http://h/out.vpc", "./t.laz", "http://h/t.laz"),
    ("s3://b/p/out.vpc", "https://elsewhere/t.laz", "https://elsewhere/t.laz"),
])
def test_hrefs_resolve_against_a_vpc_url(vpc, href, member):
    """RFC 3986 against the .vpc's URL, as PDAL's readers.stac does; the .vpc's query stays with it."""
    assert resolve_href(vpc, href) == member


# -- a tiled build to s3:// ------------------------------------------------------------------
import os  # noqa: E402
import re  # noqa: E402
from pathlib import Path  # noqa: E402

from copc_builder import build_copc  # noqa: E402
from copc_builder.algorithms.api import BuildCancelled, OutputError, copc_info, validate_copc  # noqa: E402
from fixtures import write_rich  # noqa: E402
from hostile_helpers import run_cli  # noqa: E402
from storage_servers import RangeServer  # noqa: E402

BUCKET = "vpc"
ORIGIN = (2683000.0, 1247000.0, 400.0)
PART = {"part_size": "5M"}
FAST = dict(PART, retries=1, retry_wait=0.05)     # faults fail fast in tests


@pytest.fixture(scope="module")
def survey(tmp_path_factory, s3_server):
    """380,000 points in 4 tiles of 500 m: one dense (9 MB: two 5 MB parts), three sparse
    (0.3 MB: one PUT each), and a 3 MB overview; the inputs also under s3://vpc/in/."""
    folder = tmp_path_factory.mktemp("vpc_survey")
    frame = dict(point_format=7, crs="EPSG:2056", offset=(2600000.0, 1200000.0, 0.0), origin=ORIGIN)
    files = [write_rich(folder / "dense.laz", n=350_000, extent=(499.99, 499.99, 40.0), seed=3, **frame),
             write_rich(folder / "sparse.laz", n=30_000, extent=(999.99, 999.99, 40.0), seed=4, **frame)]
    client = s3_server.client()
    client.create_bucket(Bucket=BUCKET)
    for path in files:
        client.upload_file(str(path), BUCKET, f"in/{path.name}")
    return [str(p) for p in files]


class Files(dict):
    """{path relative to ``folder``: bytes} of the files of a folder."""

    def __init__(self, folder: Path):
        super().__init__((p.relative_to(folder).as_posix(), p.read_bytes()) for p in sorted(folder.rglob("*"))
                         if p.is_file())
        self.folder = folder


@pytest.fixture(scope="module")
def local(survey, tmp_path_factory):
    """The local tiled build's files."""
    folder = tmp_path_factory.mktemp("vpc_local")
    summary = build_copc(survey, folder / "survey.vpc", tile_size=500)
    assert len(summary.tiles) == 4 and max(t["bytes"] for t in summary.tiles) > 5 << 20
    return Files(folder)


def objects(server, prefix: str) -> dict:
    """{key relative to the prefix: bytes} of every object under ``prefix``."""
    client = server.client()
    return {k[len(prefix):]: client.get_object(Bucket=BUCKET, Key=k)["Body"].read()
            for k in server.keys(BUCKET) if k.startswith(prefix)}


def writes(server, prefix: str) -> list:
    """The front's log of the requests that store objects under ``prefix``:
    (key, "PUT" | "part" | "complete"), in the order the server got them."""
    out = []
    for request in server.front.seen:
        match = re.match(rf"^(PUT|POST) /{BUCKET}/{re.escape(prefix)}([^?]*)(\?.*)?$", request)
        if not match:
            continue
        method, key, query = match.group(1), match.group(2), match.group(3) or ""
        if method == "PUT":
            out.append((key, "part" if "partNumber=" in query else "PUT"))
        elif "uploadId=" in query:
            out.append((key, "complete"))
    return out


def test_a_tiled_build_to_s3_uploads_the_local_files_vpc_last(s3, survey, local, tmp_path):
    summary = build_copc(survey, f"s3://{BUCKET}/pub/survey.vpc", tile_size=500, temp_dir=tmp_path,
                         storage_options=PART)
    assert summary.output == f"s3://{BUCKET}/pub/survey.vpc"
    assert [t["path"] for t in summary.tiles] == [f"s3://{BUCKET}/pub/{k}" for k in sorted(local)
                                                  if k.startswith("survey-tiles/")]
    assert summary.overviews[0]["path"] == f"s3://{BUCKET}/pub/survey-overview.copc.laz"
    stored = objects(s3, "pub/")
    assert sorted(stored) == sorted(local)
    for name, data in local.items():
        assert stored[name] == data, name       # every object the local file's bytes
    log = writes(s3, "pub/")
    order = list(dict.fromkeys(key for key, _ in log))
    tiles = sorted(k for k in local if k.startswith("survey-tiles/"))
    assert order == tiles + ["survey-overview.copc.laz", "survey.vpc"], order
    assert log[-1] == ("survey.vpc", "PUT") and [k for k, _ in log].count("survey.vpc") == 1
    dense = max(tiles, key=lambda k: len(local[k]))
    assert [kind for key, kind in log if key == dense] == ["part", "part", "complete"]
    assert s3.unfinished_uploads(BUCKET) == []
    assert list(tmp_path.iterdir()) == [], "the staging folder is removed"


def test_the_output_prefix_is_checked_before_any_point_is_read(s3, survey, tmp_path):
    inputs = [f"s3://{BUCKET}/in/{Path(p).name}" for p in survey]
    before = s3.keys(BUCKET)
    with pytest.raises(OutputError, match="the bucket no-such-bucket does not exist"):
        build_copc(inputs, "s3://no-such-bucket/pub/survey.vpc", tile_size=500, temp_dir=tmp_path)
    s3.client().put_object(Bucket=BUCKET, Key="mixed/survey-tiles/readme.txt", Body=b"mine")
    with pytest.raises(OutputError) as caught:
        build_copc(inputs, f"s3://{BUCKET}/mixed/survey.vpc", tile_size=500, temp_dir=tmp_path)
    assert str(caught.value) == (f"s3://{BUCKET}/mixed/survey-tiles/: holds objects a tiled build did not write "
                                 f"(readme.txt); remove them or choose another output name")
    assert not any("/in/" in r for r in s3.front.seen), "no input was opened"
    with pytest.raises(OutputError, match=r"name the output \*\.vpc"):
        build_copc(inputs, f"s3://{BUCKET}/pub/survey.copc.laz", tile_size=500)
    with pytest.raises(OutputError, match="must be s3://"):
        build_copc(inputs, "https://example.org/survey.vpc", tile_size=500)
    assert s3.keys(BUCKET) == sorted(before + ["mixed/survey-tiles/readme.txt"])
    assert s3.unfinished_uploads(BUCKET) == [] and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("where, pattern", [
    ("a later tile", r"^PUT /vpc/{p}/survey-tiles/survey_2683500_1247000"),
    ("a part of the dense tile", r"^PUT /vpc/{p}/survey-tiles/survey_2683000_1247000\.copc\.laz\?.*partNumber=2"),
    ("the overview", r"^PUT /vpc/{p}/survey-overview"),
    ("the .vpc", r"^PUT /vpc/{p}/survey\.vpc$"),
])
def test_a_failed_upload_leaves_nothing(s3, survey, tmp_path, where, pattern):
    prefix = "fail-" + re.sub(r"\W", "-", where)
    s3.front.fail(pattern.format(p=prefix), "reset")
    with pytest.raises(OutputError) as caught:
        build_copc(survey, f"s3://{BUCKET}/{prefix}/survey.vpc", tile_size=500, temp_dir=tmp_path,
                   storage_options=FAST)
    text = str(caught.value)
    assert "already uploaded were removed, its .vpc was not stored" in text and "\n" not in text, text
    assert any(r.startswith(f"POST /{BUCKET}?delete") for r in s3.front.seen), "the uploaded objects were deleted"
    assert objects(s3, f"{prefix}/") == {}, where
    assert s3.unfinished_uploads(BUCKET) == []
    assert list(tmp_path.iterdir()) == []


def test_cancel_during_the_upload_leaves_nothing(s3, survey, tmp_path):
    def cancel():       # once the second tile has gone up
        return sum(r.startswith(f"PUT /{BUCKET}/cancel/survey-tiles/") for r in s3.front.seen) >= 3

    with pytest.raises(BuildCancelled):
        build_copc(survey, f"s3://{BUCKET}/cancel/survey.vpc", tile_size=500, temp_dir=tmp_path, cancel=cancel,
                   storage_options=dict(PART, max_concurrency=1))
    assert any(r.startswith(f"PUT /{BUCKET}/cancel/survey-tiles/") for r in s3.front.seen)
    assert objects(s3, "cancel/") == {}
    assert s3.unfinished_uploads(BUCKET) == []
    assert list(tmp_path.iterdir()) == []


def test_the_server_killed_mid_upload_leaves_nothing(s3, survey, tmp_path):
    """The server dies at the second sparse tile (every connection cut) and is
    back a second later: the clean-up waits for it and goes through."""
    s3.front.revive_after = 1.0
    s3.front.fail(rf"^PUT /{BUCKET}/killed/survey-tiles/survey_2683000_1247500", "kill", times=1)
    with pytest.raises(OutputError) as caught:
        build_copc(survey, f"s3://{BUCKET}/killed/survey.vpc", tile_size=500, temp_dir=tmp_path,
                   storage_options=dict(PART, retries=1, retry_wait=0.1))
    assert "were removed" in str(caught.value), caught.value
    assert objects(s3, "killed/") == {}
    assert s3.unfinished_uploads(BUCKET) == []
    assert list(tmp_path.iterdir()) == []


def test_the_server_gone_for_good_says_what_is_left(s3, survey, tmp_path):
    s3.front.fail(rf"^PUT /{BUCKET}/gone/survey-tiles/survey_2683000_1247500", "kill", times=1)
    with pytest.raises(OutputError) as caught:
        build_copc(survey, f"s3://{BUCKET}/gone/survey.vpc", tile_size=500, temp_dir=tmp_path,
                   storage_options=dict(PART, retries=1, retry_wait=0.01))
    text = str(caught.value)
    assert "could not be removed" in text and "survey_2683000_1247000.copc.laz" in text and "\n" not in text, text
    s3.front.revive()
    assert "survey.vpc" not in objects(s3, "gone/")
    s3.client().delete_object(Bucket=BUCKET, Key="gone/survey-tiles/survey_2683000_1247000.copc.laz")
    assert list(tmp_path.iterdir()) == []


def test_a_rebuild_replaces_the_earlier_build(s3, survey, local, tmp_path):
    """16 tiles of 250 m, then 4 of 500 m to the same name: the 12 tiles the new
    .vpc does not list are removed once it is in place."""
    build_copc(survey, f"s3://{BUCKET}/re/survey.vpc", tile_size=250, temp_dir=tmp_path)
    assert len([k for k in objects(s3, "re/") if k.startswith("survey-tiles/")]) == 16
    s3.front.reset()
    build_copc(survey, f"s3://{BUCKET}/re/survey.vpc", tile_size=500, temp_dir=tmp_path)
    assert objects(s3, "re/") == local
    seen = s3.front.seen
    vpc_put = seen.index(f"PUT /{BUCKET}/re/survey.vpc")
    deletes = [i for i, r in enumerate(seen) if r.startswith(f"POST /{BUCKET}?delete")]
    assert deletes and min(deletes) > vpc_put, "the earlier tiles go only once the new .vpc is in place"


def test_a_failed_rebuild_takes_down_the_earlier_vpc_whose_tiles_it_replaced(s3, survey, local, tmp_path):
    build_copc(survey, f"s3://{BUCKET}/rf/survey.vpc", tile_size=500, temp_dir=tmp_path)
    s3.front.fail(rf"^PUT /{BUCKET}/rf/survey-tiles/survey_2683500_1247000", "reset")
    with pytest.raises(OutputError):
        build_copc(survey, f"s3://{BUCKET}/rf/survey.vpc", tile_size=500, temp_dir=tmp_path, storage_options=FAST)
    left = objects(s3, "rf/")
    # The first two tiles were replaced, then removed with the rest of the failed
    # upload; the earlier .vpc would list them: it is gone too.  What the failed
    # build never reached is the earlier build's, untouched.
    assert sorted(left) == ["survey-overview.copc.laz", "survey-tiles/survey_2683500_1247500.copc.laz"]
    assert all(left[k] == local[k] for k in left)
    assert s3.unfinished_uploads(BUCKET) == []


def test_a_failed_build_leaves_an_earlier_build_it_did_not_touch(s3, survey, local, tmp_path):
    """The failure comes before any file of the earlier build was replaced: tiles of
    300 m have other names than those of 500 m, and the first one went up."""
    build_copc(survey, f"s3://{BUCKET}/keep/survey.vpc", tile_size=500, temp_dir=tmp_path)
    s3.front.fail(rf"^PUT /{BUCKET}/keep/survey-tiles/survey_2682900_1247100", "reset")
    with pytest.raises(OutputError):
        build_copc(survey, f"s3://{BUCKET}/keep/survey.vpc", tile_size=300, temp_dir=tmp_path, storage_options=FAST)
    assert ("keep/survey-tiles/survey_2682900_1246800.copc.laz", "PUT") in writes(s3, "")
    assert objects(s3, "keep/") == local


# -- a .vpc on a server, read through the storage layer ---------------------------------------
def cli_env(server) -> dict:
    env = dict(os.environ, **server.environment())
    env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    env.pop("AWS_PROFILE", None)
    return env


def test_validate_and_info_of_an_uploaded_vpc_read_its_members_from_the_store(s3, survey, local, tmp_path):
    url = f"s3://{BUCKET}/read/survey.vpc"
    build_copc(survey, url, tile_size=500, temp_dir=tmp_path)
    s3.front.reset()
    report = validate_copc(url)
    assert report.ok, [str(f) for f in report.findings]
    assert report.points == 380_000 and report.path == url
    for name in local:      # every member and the overview, read from the server by ranges
        assert any(r.startswith(f"GET /{BUCKET}/read/{name}") for r in s3.front.seen), name
    s3.front.reset()
    BLOCKS.clear()      # as a new process: validate's blocks of the .vpc are not there
    info = copc_info(url)
    assert info["point_count"] == 380_000 and info["file_size"] == len(local["survey.vpc"])
    assert [m["path"] for m in info["members"]] == [f"s3://{BUCKET}/read/{k}" for k in sorted(local)
                                                    if k.startswith("survey-tiles/")]
    assert all(m["exists"] for m in info["members"]) and info["overviews"][0]["exists"]
    assert info["transfer"]["bytes_read"] == s3.front.bytes_sent == len(local["survey.vpc"])
    assert info["transfer"]["requests"] == len(s3.front.seen) == 2 + 5      # HEAD + GET of the .vpc, 5 HEADs
    r = run_cli("info", url, env=cli_env(s3))
    assert r.returncode == 0 and "of 4 files" in r.stdout and "missing" not in r.stdout, r.stdout + r.stderr
    assert re.search(r"Read\s+[\d,]+ bytes in 7 requests", r.stdout), r.stdout
    r = run_cli("validate", url, env=cli_env(s3))
    assert r.returncode == 0, r.stdout + r.stderr
    gone = sorted(k for k in local if k.startswith("survey-tiles/"))[1]
    s3.client().delete_object(Bucket=BUCKET, Key=f"read/{gone}")
    report = validate_copc(url)
    (finding,) = [f for f in report.errors if f.check == "vpc.member"]
    assert f"./{gone} cannot be read (s3://{BUCKET}/read/{gone}): not found" in finding.message, finding
    assert "1 missing" in run_cli("info", url, env=cli_env(s3)).stdout


def test_a_vpc_over_http_validates_reads_and_builds(local, tmp_path):
    pytest.importorskip("urllib3")
    server = RangeServer(local.folder)
    try:
        url = server.url("survey.vpc")
        report = validate_copc(url)
        assert report.ok and report.points == 380_000, [str(f) for f in report.findings]
        info = copc_info(url)
        assert info["members"][0]["path"] == server.url(sorted(k for k in local if "tiles/" in k)[0])
        assert all(m["exists"] for m in info["members"])
        server.clear_counts()
        remote = build_copc(url, tmp_path / "remote.copc.laz")
        sent = server.bytes_sent
    finally:
        server.close()
    here = build_copc(str(local.folder / "survey.vpc"), tmp_path / "here.copc.laz")
    assert remote.points == here.points == 380_000
    assert (tmp_path / "remote.copc.laz").read_bytes() == (tmp_path / "here.copc.laz").read_bytes()
    tiles = sum(len(v) for k, v in local.items() if "tiles/" in k)    # the members: each byte read about once
    assert tiles < sent <= 1.05 * tiles + len(local["survey.vpc"]), (sent, tiles)


def test_an_s3_vpc_as_input_is_its_members(s3, local, tmp_path):
    for name, data in local.items():
        s3.client().put_object(Bucket=BUCKET, Key=f"input/{name}", Body=data)
    out = build_copc(f"s3://{BUCKET}/input/survey.vpc", tmp_path / "from-s3.copc.laz")
    here = build_copc(str(local.folder / "survey.vpc"), tmp_path / "here.copc.laz")
    assert out.points == here.points == 380_000
    assert (tmp_path / "from-s3.copc.laz").read_bytes() == (tmp_path / "here.copc.laz").read_bytes()

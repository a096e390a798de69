"""Secrets stay secret: keys, tokens and passwords planted in the
environment, in --storage-option and in an URL's user:password@ and query
appear in no message, log line (every library's DEBUG included),
--progress json event, summary, info or validate output, Dask task repr,
or the output file, a tiled build's objects among them, and info or validate
of a remote .vpc.  (The QGIS history: tests/test_qgis_storage.py.)"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from copc_builder import build_copc
from copc_builder.algorithms.api import CopcBuilderError
from copc_builder.algorithms.storage.storage_options import storage_options
from fixtures import write_las
from storage_servers import RangeServer

PLANTED = {
    "AWS_SECRET_ACCESS_KEY": "PLANTEDenvSECRETq7",
    "AWS_SESSION_TOKEN": "PLANTEDenvTOKENq7",
    "option key": "PLANTEDoptKEYq7",
    "option secret": "PLANTEDoptSECRETq7",
    "option token": "PLANTEDoptTOKENq7",
    "URL password": "PLANTEDurlPASSq7",
    "URL query": "PLANTEDqueryq7",
}
OPTIONS = [f"key={PLANTED['option key']}", f"secret={PLANTED['option secret']}",
           f"token={PLANTED['option token']}"]
# The CLI with every logger at DEBUG on stderr: what a user turning logging on would see.
DEBUG_CLI = ("import logging, sys; logging.basicConfig(level=logging.DEBUG)\n"
             "from copc_builder.plugin.cli import main\nsys.exit(main(sys.argv[1:]))\n")


def assert_no_secret(text, where: str) -> None:
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    for name, secret in PLANTED.items():
        assert secret not in text, f"the {name} appears in {where}"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("secret_files")
    write_las(folder / "a.laz", n=50_000, point_format=3, seed=5)
    srv = RangeServer(folder, user="reader", password=PLANTED["URL password"])
    yield srv
    srv.close()


def secret_url(server, name="a.laz", password=PLANTED["URL password"]) -> str:
    return server.url(name, auth=f"reader:{password}") + f"?sig={PLANTED['URL query']}"


def cli_env(s3) -> dict:
    env = dict(os.environ, **s3.environment())
    env.update(AWS_SECRET_ACCESS_KEY=PLANTED["AWS_SECRET_ACCESS_KEY"],
               AWS_SESSION_TOKEN=PLANTED["AWS_SESSION_TOKEN"],
               AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    return env


def debug_cli(env, *args):
    return subprocess.run([sys.executable, "-c", DEBUG_CLI, *map(str, args)], capture_output=True, text=True,
                          timeout=600, env=env)


def test_cli_build_info_validate_show_no_secret(s3, server, tmp_path):
    s3.client().create_bucket(Bucket="secrets")
    env = cli_env(s3)
    options = sum((["--storage-option", o] for o in OPTIONS), [])
    r = debug_cli(env, "build", secret_url(server), "-o", "s3://secrets/out.copc.laz", "--progress", "json",
                  "--temp-dir", tmp_path, *options)
    assert r.returncode == 0, r.stderr[-3000:]
    assert '"result"' in r.stdout and "Sending http request" in r.stderr   # botocore's DEBUG lines were there
    assert_no_secret(r.stdout, "the build's --progress json output")
    assert_no_secret(r.stderr, "the build's messages and DEBUG log")
    assert_no_secret(s3.client().get_object(Bucket="secrets", Key="out.copc.laz")["Body"].read(), "the output")
    for command in (["info", "--json"], ["info"], ["validate", "--json"]):
        r = debug_cli(env, *command, "s3://secrets/out.copc.laz", *options)
        assert r.returncode == 0, r.stderr[-3000:]
        assert_no_secret(r.stdout + r.stderr, f"{' '.join(command)}")


def test_errors_show_no_secret(s3, server, tmp_path):
    env = cli_env(s3)
    options = sum((["--storage-option", o] for o in OPTIONS), [])
    wrong = secret_url(server, password=PLANTED["URL password"] + "x")
    cases = [
        ["build", wrong, "-o", tmp_path / "o.copc.laz"],                             # 401
        ["build", secret_url(server, "missing.laz"), "-o", tmp_path / "o.copc.laz"],  # 404
        ["build", secret_url(server), "-o", "s3://no-bucket-here/o.copc.laz", *options],
        ["build", "s3://no-bucket-here/a.laz", "-o", tmp_path / "o.copc.laz", *options],
        ["info", wrong], ["validate", wrong],
        ["build", secret_url(server), "-o", tmp_path / "o.copc.laz", "--storage-option",
         f"nonsense={PLANTED['option secret']}"],
        ["build", secret_url(server), "-o", tmp_path / "o.copc.laz", "--storage-option",
         f"retries={PLANTED['option secret']}"],
    ]
    for args in cases:
        r = debug_cli(env, *args)
        assert r.returncode == 1, (args, r.stderr[-2000:])
        assert_no_secret(r.stdout + r.stderr, f"{args[0]} refusing {args[1]}")
    s3.set_auth(True)     # a 403 from the store: the message names bucket and key, not the keys
    r = debug_cli(env, "build", "s3://secrets/out.copc.laz", "-o", tmp_path / "o.copc.laz", *options)
    assert r.returncode == 1 and "access denied" in r.stderr
    assert_no_secret(r.stdout + r.stderr, "a 403")


def test_reprs_and_dask_tasks_show_no_secret(s3, server, tmp_path, monkeypatch):
    pytest.importorskip("distributed")
    from copc_builder.algorithms.cluster import session as session_module
    from copc_builder.algorithms.common.options import BuildOptions
    from copc_builder.algorithms.sources.las_file import LasFile

    options = {"key": PLANTED["option key"], "secret": PLANTED["option secret"], "token": PLANTED["option token"]}
    parsed = storage_options(options)
    las = LasFile(secret_url(server), parsed)
    for thing in (parsed, las, las.file, las.file.remote, las.info, BuildOptions(storage=parsed)):
        assert_no_secret(repr(thing) + str(thing), f"repr of {type(thing).__name__}")
    shown, messages = [], []
    real_run = session_module.ClusterSession.run

    def recording_run(self, kind, fn, jobs, on_done):
        shown.extend(repr(job) for job in jobs)
        shown.extend(str(job) for job in jobs)
        return real_run(self, kind, fn, jobs, on_done)

    monkeypatch.setattr(session_module.ClusterSession, "run", recording_run)

    class Observer:
        def on_message(self, level, text):
            messages.append(text)

        def on_progress(self, event):
            messages.append(repr(event))

    summary = build_copc([secret_url(server)], tmp_path / "dask.copc.laz", workers=2, temp_dir=tmp_path,
                         storage_options=options, observer=Observer())
    assert shown and any("LasFile(" in s for s in shown)
    assert_no_secret("\n".join(shown), "a Dask task's repr")
    assert_no_secret("\n".join(messages), "the progress and messages")
    assert_no_secret(repr(summary.as_dict()), "the summary")
    with pytest.raises(CopcBuilderError) as caught:
        build_copc([secret_url(server, password="nope")], tmp_path / "x.copc.laz", workers=2,
                   storage_options=options)
    assert_no_secret(str(caught.value), "an error")


def test_tiles_to_s3_and_remote_vpcs_show_no_secret(s3, server, tmp_path):
    """A tiled build to an s3:// .vpc (every object checked), info and validate of
    it, and of a .vpc on the HTTP server reached with a password and a query,
    whose members are then read with that password: no secret anywhere."""
    s3.client().create_bucket(Bucket="secret-tiles")
    env = cli_env(s3)
    options = sum((["--storage-option", o] for o in OPTIONS), [])
    r = debug_cli(env, "build", secret_url(server), "-o", "s3://secret-tiles/t/out.vpc", "--tile-size", "250",
                  "--a-srs", "EPSG:32631", "--progress", "json", "--temp-dir", tmp_path, *options)
    assert r.returncode == 0, r.stderr[-3000:]
    assert '"result"' in r.stdout and "Sending http request" in r.stderr
    assert_no_secret(r.stdout, "the tiled build's --progress json output")
    assert_no_secret(r.stderr, "the tiled build's messages and DEBUG log")
    keys = s3.keys("secret-tiles")
    assert "t/out.vpc" in keys and len(keys) >= 4
    for key in keys:
        assert_no_secret(s3.client().get_object(Bucket="secret-tiles", Key=key)["Body"].read(), key)
    for command in (["info", "--json"], ["info"], ["validate", "--json"]):
        r = debug_cli(env, *command, "s3://secret-tiles/t/out.vpc", *options)
        assert r.returncode == 0, r.stderr[-3000:]
        assert_no_secret(r.stdout + r.stderr, f"{' '.join(command)} of an s3:// .vpc")
    build_copc([str(server.folder / "a.laz")], server.folder / "local.vpc", tile_size=250, a_srs="EPSG:32631")
    url = secret_url(server, "local.vpc")
    for command in (["info", "--json"], ["info"], ["validate", "--json"]):
        r = debug_cli(env, *command, url)
        assert r.returncode == 0, r.stderr[-3000:]
        assert "local-tiles/local_" in r.stdout + r.stderr     # the members were read
        assert_no_secret(r.stdout + r.stderr, f"{' '.join(command)} of an http .vpc")
    r = debug_cli(env, "build", url, "-o", tmp_path / "from-vpc.copc.laz")
    assert r.returncode == 0, r.stderr[-3000:]
    assert_no_secret(r.stdout + r.stderr, "a build from an http .vpc")
    next((server.folder / "local-tiles").iterdir()).unlink()
    for command in (["validate"], ["build", url, "-o", tmp_path / "never.copc.laz"]):
        r = debug_cli(env, *command, *([url] if command == ["validate"] else []))
        assert r.returncode == 1 and "not found" in r.stdout + r.stderr, (command, r.stdout, r.stderr[-2000:])
        assert_no_secret(r.stdout + r.stderr, f"{command[0]} of an http .vpc missing a member")

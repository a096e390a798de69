"""``build --scheduler`` / ``--workers`` on the command line: the options
reach build_copc, a Dask that cannot be imported gives one clear line, and
the build without them never imports Dask."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from copc_builder.algorithms.cluster.dask_support import DASK_INSTALL
from dask_cluster import dask_scheduler_file  # noqa: F401,F811
from fixtures import write_las
from hostile_helpers import listing, one_error_line, run_cli

NO_DASK = "import sys; sys.modules['distributed'] = None; sys.modules['dask'] = None\n"
RUN_MAIN = "from copc_builder.plugin.cli import main\nsys.exit(main(sys.argv[1:]))\n"


@pytest.fixture(scope="module")
def small_input(tmp_path_factory):
    return write_las(tmp_path_factory.mktemp("dask_cli") / "a.las", n=5_000, point_format=3, seed=3)


def run_cli_without_dask(*args):
    return subprocess.run([sys.executable, "-c", NO_DASK + RUN_MAIN, *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def test_help_names_the_shared_work_folder():
    r = run_cli("build", "--help")
    text = " ".join(r.stdout.split())
    assert r.returncode == 0
    assert "--scheduler ADDRESS|FILE" in text and "--workers N" in text
    assert "--temp-dir) must be visible to every worker at the same path" in text
    assert "INPUT files" in text and "--dry-run ignores these options" in text


def test_scheduler_and_workers_together_refused(tmp_path, small_input):
    out = tmp_path / "out.copc.laz"
    line = one_error_line(run_cli("build", small_input, "-o", out,
                                  "--scheduler", "tcp://127.0.0.1:8786", "--workers", "2"))
    assert "give a scheduler (tcp://127.0.0.1:8786) or a number of local workers (2), not both" in line
    assert listing(tmp_path) == []


def test_negative_workers_refused(tmp_path, small_input):
    line = one_error_line(run_cli("build", small_input, "-o", tmp_path / "o.copc.laz", "--workers", "-1"))
    assert "workers must be 0 (no local cluster) or more, got -1" in line
    assert listing(tmp_path) == []


@pytest.mark.parametrize("option", [("--workers", "2"), ("--scheduler", "tcp://127.0.0.1:8786")])
def test_without_dask_one_dependency_message(tmp_path, small_input, option):
    out = tmp_path / "out.copc.laz"
    line = one_error_line(run_cli_without_dask("build", small_input, "-o", out, "--progress", "plain",
                                               *option))
    assert "needs the dask[distributed] package" in line
    assert DASK_INSTALL in line and sys.executable in line
    assert not out.exists()


def test_without_dask_the_in_process_build_works(tmp_path, small_input):
    out = tmp_path / "out.copc.laz"
    r = run_cli_without_dask("build", small_input, "-o", out, "--progress", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.splitlines()[-1])["result"]["points"] == 5_000


def test_without_dask_dry_run_ignores_the_cluster_options(small_input):
    r = run_cli_without_dask("build", small_input, "--dry-run", "--workers", "2")
    assert r.returncode == 0, r.stderr
    assert "--scheduler and --workers are ignored" in r.stderr


def test_in_process_build_never_imports_dask(tmp_path, small_input):
    """Dask installed or not, a build without the options leaves it unimported."""
    code = ("import sys\n"
            "from copc_builder import build_copc\n"
            "from copc_builder.plugin.cli import main\n"
            f"build_copc([{str(small_input)!r}], {str(tmp_path / 'api.copc.laz')!r})\n"
            f"assert main(['build', {str(small_input)!r}, '-o', {str(tmp_path / 'cli.copc.laz')!r},"
            " '--progress', 'plain']) == 0\n"
            "print(sorted(m for m in ('dask', 'distributed') if m in sys.modules))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1] == "[]", r.stdout
    assert (tmp_path / "api.copc.laz").read_bytes() == (tmp_path / "cli.copc.laz").read_bytes()


def cluster_build_same_bytes(tmp_path, small_input, *options):
    """``build ... *options`` writes the in-process build's bytes."""
    here, there = tmp_path / "here.copc.laz", tmp_path / "there.copc.laz"
    work = tmp_path / "work"
    work.mkdir()
    assert run_cli("build", small_input, "-o", here).returncode == 0
    r = run_cli("build", small_input, "-o", there, *options, "--temp-dir", work, "--progress", "plain")
    assert r.returncode == 0, r.stderr
    assert there.read_bytes() == here.read_bytes()
    assert listing(work) == []


def test_workers_build_same_bytes(tmp_path, small_input):
    pytest.importorskip("distributed")
    cluster_build_same_bytes(tmp_path, small_input, "--workers", "2")


@pytest.mark.parametrize("by", ["file", "address"])
def test_scheduler_build_same_bytes(tmp_path, small_input, dask_scheduler_file, by):
    scheduler = dask_scheduler_file.scheduler_file if by == "file" else dask_scheduler_file.address
    cluster_build_same_bytes(tmp_path, small_input, "--scheduler", scheduler)

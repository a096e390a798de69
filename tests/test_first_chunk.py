"""The first chunk of a LAZ input decoded by a forked process while the
command line imports (algorithms/sources/first_chunk.py): the same records
the reader decodes, used only when everything matches, and no child left."""
from __future__ import annotations

import os
import signal
import sys

import laspy
import numpy as np
import pytest

from copc_builder.algorithms.sources import first_chunk
from fixtures import write_las
from hostile_helpers import run_python, said

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks on Linux only")


def first_records(path, n):
    with laspy.open(path) as reader:
        return reader.read_points(n).array.view(np.uint8).reshape(n, -1)


def pending_pid(path) -> int:
    return first_chunk._PENDING[os.path.realpath(path)].pid


def gone(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_child_decodes_the_first_records_the_reader_decodes(tmp_path):
    path = write_las(tmp_path / "a.laz", n=130_000, point_format=6)   # laspy: 50,000-point LAZ chunks
    first_chunk.start(str(path), 70_000)
    pid = pending_pid(path)
    records = first_chunk.claim(str(path), 70_000, 30)
    assert records is not None and records.shape == (70_000, 30)
    assert np.array_equal(records, first_records(path, 70_000))
    assert gone(pid) and not first_chunk._PENDING


def test_a_fork_that_fails_leaves_nothing_open(tmp_path, monkeypatch):
    """Where no process can be forked, start() is a no-op: the pipe and the
    shared memory it had made are closed again, and the reader decodes."""
    path = write_las(tmp_path / "a.laz", n=60_000, point_format=6)
    made = []
    pipe = os.pipe
    monkeypatch.setattr(os, "pipe", lambda: made.extend(pipe()) or tuple(made))

    def no_fork():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    first_chunk.start(str(path), 40_000)
    assert len(made) == 2 and not first_chunk._PENDING
    for fd in made:
        with pytest.raises(OSError):
            os.fstat(fd)   # closed
    assert first_chunk.claim(str(path), 40_000, 30) is None


@pytest.mark.parametrize("ask", ["fewer points", "other record length", "file replaced", "child killed"])
def test_records_are_used_only_when_everything_matches(tmp_path, ask):
    path = write_las(tmp_path / "a.laz", n=60_000, point_format=6)
    first_chunk.start(str(path), 40_000)
    pid = pending_pid(path)
    points, length = 40_000, 30
    if ask == "fewer points":
        points = 39_999
    elif ask == "other record length":
        length = 34
    elif ask == "file replaced":
        write_las(tmp_path / "b.laz", n=61_000, point_format=6, seed=1)
        os.replace(tmp_path / "b.laz", path)
    else:
        os.kill(pid, signal.SIGKILL)
    assert first_chunk.claim(str(path), points, length) is None
    assert gone(pid)
    assert first_chunk.claim(str(path), 40_000, 30) is None   # claimed once only


def test_a_child_that_does_not_answer_is_stopped(tmp_path, monkeypatch):
    path = write_las(tmp_path / "a.laz", n=60_000, point_format=6)
    monkeypatch.setattr(first_chunk, "WAIT_SECONDS", 0.3)
    monkeypatch.setattr(first_chunk, "_child", lambda *args: (__import__("time").sleep(30), os._exit(0)))
    first_chunk.start(str(path), 60_000)
    pid = pending_pid(path)
    assert first_chunk.claim(str(path), 60_000, 30) is None
    assert gone(pid)


def test_shared_memory_is_bounded(tmp_path, monkeypatch):
    """A first chunk larger than MAX_BYTES is not decoded ahead in full,
    so the reader decodes it as always."""
    path = write_las(tmp_path / "a.laz", n=60_000, point_format=6)
    monkeypatch.setattr(first_chunk, "MAX_BYTES", 30 * 1_000)
    first_chunk.start(str(path), 40_000)
    assert first_chunk._PENDING[os.path.realpath(path)].points == 1_000
    assert first_chunk.claim(str(path), 40_000, 30) is None


def test_a_process_that_ignores_sigchld_still_gets_its_records(tmp_path):
    """With SIGCHLD ignored (a disposition exec passes on), the kernel reaps
    the child itself and waitpid finds none: that is no error."""
    path = write_las(tmp_path / "a.laz", n=60_000, point_format=6)
    before = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        first_chunk.start(str(path), 60_000)
        records = first_chunk.claim(str(path), 60_000, 30)
    finally:
        signal.signal(signal.SIGCHLD, before)
    assert records is not None and np.array_equal(records, first_records(path, 60_000))


def test_unclaimed_children_are_stopped_and_reaped(tmp_path):
    path = write_las(tmp_path / "a.laz", n=60_000, point_format=6)
    first_chunk.start(str(path), 60_000)
    pid = pending_pid(path)
    first_chunk.close_all()
    assert gone(pid) and not first_chunk._PENDING


@pytest.mark.parametrize("name, content", [("a.las", None), ("b.laz", b"not a LAS file at all" * 20),
                                           ("c.laz", b"LASF"), ("fifo.laz", "fifo")])
def test_nothing_starts_for_what_is_not_chunked_laz(tmp_path, name, content):
    path = tmp_path / name
    if content is None:
        write_las(path, n=1_000)
    elif content == "fifo":
        os.mkfifo(path)   # reading it would block, and take the reader's bytes
    else:
        path.write_bytes(content)
    first_chunk.start(str(path), 1_000)
    first_chunk.start(str(tmp_path / "missing.laz"), 1_000)
    assert not first_chunk._PENDING


def test_command_line_build_takes_the_decoded_chunk_and_writes_the_same_bytes(tmp_path):
    """run() (the command's own process) forks the decoder for the first
    input; the build takes its records, seeks past them, and writes exactly
    what main() (no fork) writes; no child is left when the command ends.
    With --threads 1 nothing is forked."""
    src = write_las(tmp_path / "big.laz", n=1_150_000, point_format=6, extent=200.0)   # two 1 M-point chunks
    script = f"""
        import atexit, os, sys
        from copc_builder.algorithms.sources import first_chunk
        from copc_builder.plugin import cli
        claim = first_chunk.claim
        def counted(*args):
            records = claim(*args)
            print("@ claimed", 0 if records is None else len(records))
            return records
        first_chunk.claim = counted
        def no_children():
            try:
                os.waitpid(-1, os.WNOHANG)
                print("@ children left")
            except ChildProcessError:
                print("@ no children")
        atexit.register(no_children)
        if sys.argv[1].startswith("run"):
            threads = ["--threads", "1"] if sys.argv[1] == "run1" else []
            sys.argv = ["copc-builder", "build", {str(src)!r}, "-o", {str(tmp_path)!r} + "/" + sys.argv[1] + ".copc.laz",
                        *threads]
            cli.run()
        sys.exit(cli.main(["build", {str(src)!r}, "-o", {str(tmp_path / "main.copc.laz")!r}]))
    """
    lines = {}
    for entry in ("run", "main", "run1"):
        r = run_python(script, entry)
        assert r.returncode == 0, r.stderr
        lines[entry] = said(r)
    assert lines["run"] == ["claimed 1000000", "no children"], lines
    assert lines["main"] == ["claimed 0", "no children"], lines
    assert lines["run1"] == ["claimed 0", "no children"], lines   # --threads 1: no second process
    assert (tmp_path / "run.copc.laz").read_bytes() == (tmp_path / "main.copc.laz").read_bytes()
    assert (tmp_path / "run1.copc.laz").read_bytes() == (tmp_path / "main.copc.laz").read_bytes()

"""The command line's progress bar: drawn by tqdm, with rate and time left,
never going back across stages; --progress plain and json unchanged."""
from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios

import pytest

pytest.importorskip("tqdm")

from copc_builder import build_copc
from copc_builder.algorithms.common.progress import ProgressEvent
from copc_builder.plugin.progress_printers import BarProgress, make_progress
from fixtures import write_las

PERCENT = re.compile(r"(\d+\.\d)%\|")


def percents(text: str):
    return [float(p) for p in PERCENT.findall(text)]


def test_bar_shows_stage_rate_and_time_left():
    stream = io.StringIO()
    bar = BarProgress(stream)
    bar.bar.mininterval = 0       # draw every update
    bar.on_progress(ProgressEvent("scan", 1, 1, 0.02))
    bar.stage_t0 -= 2.0           # two seconds into the read stage
    bar.on_progress(ProgressEvent("read", 2_000_000, 10_000_000, 0.106))
    bar.on_progress(ProgressEvent("read", 3_000_000, 10_000_000, 0.149))
    bar.on_message("warning", "something to say")
    bar.close()
    text = stream.getvalue()
    assert "read" in text and "points/s" in text
    assert re.search(r"\d\d:\d\d<\d\d:\d\d", text)          # elapsed < remaining
    assert "warning: something to say" in text
    assert percents(text)[-1] == pytest.approx(14.9)


def test_bar_never_goes_back():
    stream = io.StringIO()
    bar = BarProgress(stream)
    bar.bar.mininterval = 0
    for stage, fraction in [("scan", 0.02), ("read", 0.30), ("read", 0.45), ("build", 0.45),
                            ("build", 0.44), ("build", 0.9), ("finish", 0.9), ("finish", 1.0)]:
        bar.on_progress(ProgressEvent(stage, 1, 2, fraction))
    bar.close()
    seen = percents(stream.getvalue())
    assert seen == sorted(seen) and seen[-1] == 100.0


def test_a_build_draws_a_monotone_bar(tmp_path):
    src = write_las(tmp_path / "in.laz", n=60_000)
    stream = io.StringIO()
    bar = BarProgress(stream)
    bar.bar.mininterval = 0
    build_copc(str(src), tmp_path / "out.copc.laz", observer=bar, chunk_points=5_000)
    bar.close()
    seen = percents(stream.getvalue())
    assert len(set(seen)) >= 3 and seen == sorted(seen) and seen[-1] == 100.0   # events are throttled
    assert {"scan", "read", "build", "finish"} <= set(re.findall(r"\r(\w+)\s+\d", stream.getvalue()))


def test_make_progress_kinds():
    assert type(make_progress("bar")).__name__ == "BarProgress"
    assert type(make_progress("plain")).__name__ == "PlainProgress"
    assert type(make_progress("json")).__name__ == "JsonProgress"


def test_terminal_gets_the_bar(tmp_path):
    """In a pseudo-terminal the default display is tqdm's bar."""
    src = write_las(tmp_path / "in.laz", n=20_000)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "copc_builder", "build", str(src), "-o",
                             str(tmp_path / "o.copc.laz")], stdin=slave, stdout=slave, stderr=slave,
                            close_fds=True)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 120)
        if not ready:
            break
        try:
            data = os.read(master, 4096)
        except OSError:     # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(master)
    text = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 0, text
    seen = percents(text)
    assert seen and seen == sorted(seen) and seen[-1] == 100.0
    assert "<" in text and "wrote" in text

"""Ctrl-C on ``copc-builder build --workers 2``: the terminal's SIGINT reaches
the command and every process it started (one process group, as in a
shell); the build stops, its workers go, and neither the output nor a work
file is left."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from copc_builder.demo import write_sample_scene
from hostile_helpers import NOISE, listing

pytest.importorskip("distributed")


def children(pid: int):
    """Every process below pid, from /proc."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for name in os.listdir("/proc"):
            if name.isdigit():
                try:
                    with open(f"/proc/{name}/stat") as f:
                        ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                if ppid == parent:
                    found.append(int(name))
                    todo.append(int(name))
    return found


def test_ctrl_c_stops_the_cluster_build_and_cleans_up(tmp_path):
    scene = write_sample_scene(tmp_path / "scene.laz", points=600_000, seed=9)
    work, out = tmp_path / "work", tmp_path / "out"
    work.mkdir()
    out.mkdir()
    build = subprocess.Popen([sys.executable, "-m", "copc_builder", "build", str(scene), "-o", str(out / "x.copc.laz"),
                              "--workers", "2", "--temp-dir", str(work), "--memory-budget", "16M",
                              "--progress", "json"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    started = None
    try:
        for line in build.stdout:
            event = json.loads(line)
            if event.get("stage") == "read":   # the workers are reading
                started = children(build.pid)
                os.killpg(build.pid, signal.SIGINT)
                break
        code = build.wait(timeout=120)
    finally:
        if build.poll() is None:
            os.killpg(build.pid, signal.SIGKILL)
    stderr = build.stderr.read()
    assert started, "no read progress before the build ended"
    assert code == 130, stderr
    assert "cancelled" in stderr or "interrupted" in stderr
    for bad in NOISE:
        assert bad not in stderr, stderr
    assert listing(out) == [] and listing(work) == []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(os.path.exists(f"/proc/{p}") for p in started):
        time.sleep(0.2)
    assert not [p for p in started if os.path.exists(f"/proc/{p}")], "worker processes outlived the build"

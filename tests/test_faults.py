"""Faults (issue 6): an output that cannot be written, a temp folder or an
output folder that fills up mid-build, a build killed with SIGKILL, Ctrl-C
on the command line and cancel from the API.  Each ends in a clear error
(or a clean cancel) with no output, no temp files and an existing output
untouched; after a kill the next run succeeds and removes the stale temp."""
from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from copc_builder import BuildCancelled, OutputError, build_copc
from fixtures import write_las
from hostile_helpers import (SENTINEL, api_refused, cli_refused, folders, listing, pdal_array,
                             run_cli)


@contextlib.contextmanager
def tmpfs(folder: Path, size: str):
    """A small tmpfs mounted on ``folder`` for the block; skips when mounting is not allowed."""
    folder.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({(r.stderr or r.stdout).strip() or r.returncode}); "
                    f"a full or read-only filesystem needs one")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def remount_read_only(folder: Path) -> None:
    r = subprocess.run(["mount", "-o", "remount,ro", str(folder)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot remount read-only ({r.stderr.strip()})")


# -- output paths that cannot be written ------------------------------------------------------
@pytest.fixture(scope="module")
def small_las(tmp_path_factory):
    return write_las(tmp_path_factory.mktemp("src") / "small.las", n=2000)


def test_output_folder_does_not_exist(tmp_path, small_las):
    out = tmp_path / "no" / "such" / "folder" / "x.copc.laz"
    cli_refused(tmp_path, [small_las], "does not exist", names=["x.copc.laz"], output=out)
    api_refused(tmp_path, small_las, OutputError, "does not exist", names=["x.copc.laz"], output=out)
    assert not (tmp_path / "no").exists()


def test_output_parent_is_a_file(tmp_path, small_las):
    parent = tmp_path / "plain.txt"
    parent.write_text("not a folder")
    out = parent / "x.copc.laz"
    cli_refused(tmp_path, [small_las], "not a folder", names=["plain.txt"], output=out)
    api_refused(tmp_path, small_las, OutputError, "not a folder", names=["plain.txt"], output=out)
    assert parent.read_text() == "not a folder"


def test_output_is_a_folder(tmp_path, small_las):
    out = tmp_path / "out" / "taken.copc.laz"
    out.mkdir(parents=True)
    (out / "inside").write_bytes(b"keep")
    cli_refused(tmp_path, [small_las], "is a folder", names=["taken.copc.laz"], output=out)
    assert (out / "inside").read_bytes() == b"keep"


def test_output_is_the_input(tmp_path, small_las):
    import shutil

    out_dir, _ = folders(tmp_path)
    same = out_dir / "same.copc.laz"
    shutil.copy(small_las, same)
    before = same.read_bytes()
    cli_refused(tmp_path, [same], "is also an input", output=same)
    assert same.read_bytes() == before


def test_output_on_a_read_only_filesystem(tmp_path, small_las):
    """Root ignores permission bits; a read-only mount stops it."""
    with tmpfs(tmp_path / "ro", "1M") as ro:
        existing = ro / "kept.copc.laz"
        existing.write_bytes(SENTINEL)
        remount_read_only(ro)
        out = ro / "x.copc.laz"
        line = cli_refused(tmp_path, [small_las], "read-only", names=["x.copc.laz"], output=out)
        assert "cannot write" in line
        api_refused(tmp_path, small_las, OutputError, "read-only", names=["kept.copc.laz"],
                    output=existing, existing=False)
        assert existing.read_bytes() == SENTINEL
        assert listing(ro) == ["kept.copc.laz"]


def test_temp_dir_missing(tmp_path, small_las):
    out_dir, _ = folders(tmp_path)
    missing = tmp_path / "gone"
    r = run_cli("build", small_las, "-o", out_dir / "x.copc.laz", "--temp-dir", missing)
    assert r.returncode == 1 and "gone" in r.stderr and "does not exist" in r.stderr, r.stderr
    assert listing(out_dir) == []


def test_temp_dir_is_a_file(tmp_path, small_las):
    afile = tmp_path / "scratch.bin"
    afile.write_bytes(b"keep")
    cli_refused(tmp_path, [small_las], "not a folder", names=["scratch.bin"], temp_dir=afile)
    assert afile.read_bytes() == b"keep"


def test_temp_dir_on_a_read_only_filesystem(tmp_path, small_las):
    with tmpfs(tmp_path / "ro temp", "1M") as ro:
        remount_read_only(ro)
        cli_refused(tmp_path, [small_las], "read-only", names=["ro temp"], temp_dir=ro)
        api_refused(tmp_path, small_las, OutputError, "read-only", names=["ro temp"], temp_dir=ro)
        assert listing(ro) == []


# -- filesystems that fill up mid-build -------------------------------------------------------------
@pytest.fixture(scope="module")
def noisy_cloud():
    """300,000 points that compress badly: several MB of spilled pages."""
    return pdal_array(300_000, seed=9, extent=(5000.0, 5000.0, 500.0))


def fill_temp_folder(tmp_path, cloud, entry) -> str:
    """Build with the temp folder on a 2 MB tmpfs; returns the error message
    after checking that nothing is left anywhere."""
    out_dir, _ = folders(tmp_path)
    out = out_dir / "x.copc.laz"
    out.write_bytes(SENTINEL)
    with tmpfs(tmp_path / "small temp", "2M") as temp:
        if entry == "api":
            with pytest.raises(OutputError) as info:
                build_copc(cloud, out, temp_dir=temp, memory_budget="1M", page_points=1024)
            message = str(info.value)
        else:
            # The command line takes files: the same cloud as a LAS file.
            import laspy

            las_path = tmp_path / "noisy.las"
            header = laspy.LasHeader(point_format=6, version="1.4")
            header.scales = np.array([0.001] * 3)
            header.offsets = np.array([1000.0, 2000.0, 0.0])
            las = laspy.LasData(header)
            las.x, las.y, las.z = cloud["X"], cloud["Y"], cloud["Z"]
            las.intensity = cloud["Intensity"]
            las.gps_time = cloud["GpsTime"]
            las.write(str(las_path))
            r = run_cli("build", las_path, "-o", out, "--temp-dir", temp, "--memory-budget", "1M",
                        "--progress", "plain")
            assert r.returncode == 1, r.stderr
            errors = [line for line in r.stderr.splitlines() if line.startswith("copc-builder: error:")]
            assert len(errors) == 1 and "Traceback" not in r.stderr, r.stderr
            message = errors[0]
        assert listing(temp) == [], "the full temp folder was not emptied"
    assert out.read_bytes() == SENTINEL
    assert listing(out_dir) == ["x.copc.laz"]
    assert "small temp" in message and "temp folder" in message, message
    return message


@pytest.mark.parametrize("entry", ["cli", "api"])
def test_temp_folder_fills_up(tmp_path, noisy_cloud, entry):
    message = fill_temp_folder(tmp_path, noisy_cloud, entry)
    assert any(w in message.lower() for w in ("no space", "disk full")), message


def test_temp_folder_full_says_no_space(tmp_path, noisy_cloud):
    message = fill_temp_folder(tmp_path, noisy_cloud, "api")
    assert "no space left" in message.lower(), message


def test_output_folder_fills_up(tmp_path, noisy_cloud):
    out_dir, tmp_dir = folders(tmp_path)
    with tmpfs(tmp_path / "small out", "1M") as small:
        existing = small / "x.copc.laz"
        existing.write_bytes(SENTINEL)
        with pytest.raises(OutputError) as info:
            build_copc(noisy_cloud, existing, temp_dir=tmp_dir)
        message = str(info.value)
        assert "no space" in message.lower() and "x.copc.laz" in message, message
        assert existing.read_bytes() == SENTINEL
        assert listing(small) == ["x.copc.laz"]
    assert listing(tmp_dir) == []


# -- killed, interrupted, cancelled ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def big_las(tmp_path_factory):
    """Big enough that a build under a small budget takes seconds and spills."""
    return write_las(tmp_path_factory.mktemp("big") / "big.las", n=2_500_000, extent=2000.0)


def start_build(inputs, out, temp, *extra):
    return subprocess.Popen([sys.executable, "-m", "copc_builder", "build", *map(str, inputs), "-o",
                             str(out), "--temp-dir", str(temp), "--memory-budget", "32M",
                             "--progress", "json", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_progress(proc, fraction: float, stage=None) -> dict:
    for line in proc.stdout:
        event = json.loads(line)
        if event.get("fraction", 0) >= fraction and (stage is None or event.get("stage") == stage):
            return event
    proc.wait()
    pytest.fail(f"the build ended before {fraction:.0%} (exit {proc.returncode}): {proc.stderr.read()}")


@pytest.mark.parametrize("at, stage", [(0.3, "read"), (0.6, "build")])
def test_sigkill_then_rerun(tmp_path, big_las, at, stage):
    out_dir, tmp_dir = folders(tmp_path)
    out = out_dir / "big.copc.laz"
    proc = start_build([big_las], out, tmp_dir)
    try:
        event = wait_for_progress(proc, at, stage)
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert event["stage"] == stage
    # Nothing half-written at the output path; what the killed run left is its temp.
    assert not out.exists()
    work = [n for n in listing(tmp_dir) if n.startswith(f"copc_builder-{proc.pid}-")]
    assert work and listing(tmp_dir) == work, listing(tmp_dir)
    hidden = f".{out.name}.{proc.pid}.copc_builder-tmp"
    assert listing(out_dir) == ([hidden] if stage == "build" else [])
    # The next run succeeds and cleans what the killed one left.
    r = run_cli("build", big_las, "-o", out, "--temp-dir", tmp_dir, "--memory-budget", "32M")
    assert r.returncode == 0, r.stderr
    assert listing(tmp_dir) == []
    assert listing(out_dir) == [out.name]
    from reference import copclib_total

    total, count = copclib_total(str(out))
    assert total == count == 2_500_000
    from copc_builder import validate_copc

    assert validate_copc(str(out)).ok


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_cli_cleans_up(tmp_path, big_las, sig):
    out_dir, tmp_dir = folders(tmp_path)
    out = out_dir / "big.copc.laz"
    out.write_bytes(SENTINEL)
    proc = start_build([big_las], out, tmp_dir)
    wait_for_progress(proc, 0.5, "build")
    proc.send_signal(sig)
    try:
        proc.wait(timeout=60)
    finally:
        stderr = proc.stderr.read()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == 130, stderr
    assert "cancelled" in stderr and "Traceback" not in stderr, stderr
    assert out.read_bytes() == SENTINEL
    assert listing(out_dir) == [out.name]
    assert listing(tmp_dir) == []


class CancelAfter:
    """An observer whose cancel flag turns True once progress passes ``fraction``."""

    def __init__(self, fraction: float):
        self.fraction = fraction
        self.seen = 0.0
        self.polls_after = 0

    def on_progress(self, event):
        self.seen = max(self.seen, event.fraction)

    def cancel(self) -> bool:
        if self.seen >= self.fraction:
            self.polls_after += 1
            return True
        return False


@pytest.mark.parametrize("at", [0.0, 0.3, 0.6])
def test_cancel_from_api(tmp_path, big_las, at):
    out_dir, tmp_dir = folders(tmp_path)
    out = out_dir / "big.copc.laz"
    out.write_bytes(SENTINEL)
    flag = CancelAfter(at)
    t0 = time.monotonic()
    with pytest.raises(BuildCancelled):
        build_copc(big_las, out, temp_dir=tmp_dir, memory_budget="32M", observer=flag,
                   cancel=flag.cancel)
    assert flag.seen < 1.0
    assert time.monotonic() - t0 < 120
    assert out.read_bytes() == SENTINEL
    assert listing(out_dir) == [out.name]
    assert listing(tmp_dir) == []


def test_cancel_from_api_arrays_stream(tmp_path):
    """A stream of arrays, cancelled while reading: the stream is not drained."""
    pulled = []

    def stream():
        for k in range(40):
            pulled.append(k)
            yield pdal_array(20_000, seed=k)

    out_dir, tmp_dir = folders(tmp_path)
    with pytest.raises(BuildCancelled):
        build_copc(stream(), out_dir / "s.copc.laz", temp_dir=tmp_dir, memory_budget="2M",
                   page_points=1024, cancel=lambda: len(pulled) > 5)
    assert len(pulled) < 40
    assert listing(out_dir) == [] and listing(tmp_dir) == []

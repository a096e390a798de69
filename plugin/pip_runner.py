"""Run pip in a child process: its output line by line, a cancel that kills it,
and what it installed importable at once.

No qgis here: the Processing algorithm passes its feedback's methods in.
"""
from __future__ import annotations

import importlib
import os
import queue
import signal
import site
import subprocess
import sys
import threading
from typing import Callable, List, Optional


class PipCancelled(Exception):
    """The user cancelled; the pip process was killed."""


def pip_command(python: str, packages: List[str], flags: List[str], target: Optional[str]) -> List[str]:
    """The argument list: ``--target`` when given, else the flags for the user site."""
    where = ["--target", target] if target else list(flags)
    return [python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
            "--progress-bar", "off"] + where + list(packages)


def run_pip(command: List[str], on_line: Callable[[str], None], cancelled: Callable[[], bool],
            poll: float = 0.1, env: Optional[dict] = None) -> int:
    """Run ``command``, pass each output line to ``on_line``; its exit code.

    A thread reads the pipe so the loop here can look at ``cancelled`` even
    while pip prints nothing (a slow download); on cancel the process and
    whatever it started (a build backend) are killed and PipCancelled raised.
    """
    env = dict(env if env is not None else os.environ, PYTHONUNBUFFERED="1", PIP_NO_INPUT="1",
               PYTHONIOENCODING="utf-8")
    group = ({"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP} if os.name == "nt"
             else {"start_new_session": True})
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=env, **group)
    lines: "queue.Queue[Optional[bytes]]" = queue.Queue()
    reader = threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True)
    reader.start()
    try:
        while True:
            if cancelled():
                kill_tree(proc)
                raise PipCancelled()
            try:
                line = lines.get(timeout=poll)
            except queue.Empty:
                continue
            if line is None:            # the pipe closed: pip has ended
                break
            text = line.decode("utf-8", "replace").rstrip()
            if text:
                on_line(text)
        return proc.wait()
    finally:
        if proc.poll() is None:
            kill_tree(proc)
        reader.join(timeout=5)
        proc.stdout.close()


def _pump(pipe, lines: "queue.Queue[Optional[bytes]]") -> None:
    for line in iter(pipe.readline, b""):
        lines.put(line)
    lines.put(None)


def kill_tree(proc: subprocess.Popen) -> None:
    """Kill pip and its children (its own process group); wait for it."""
    if os.name == "nt":
        proc.kill()
    else:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()


def make_importable(folder: Optional[str]) -> Optional[str]:
    """Put ``folder`` (default: the user site) on sys.path if it is not there,
    reading its .pth files, and forget the import system's directory caches,
    so what pip just installed imports without restarting Python."""
    if folder is None:
        folder = site.getusersitepackages() if site.ENABLE_USER_SITE and sys.prefix == sys.base_prefix else None
    added = None
    if folder and os.path.isdir(folder) and os.path.abspath(folder) not in map(os.path.abspath, sys.path):
        site.addsitedir(folder)
        added = folder
    importlib.invalidate_caches()
    return added

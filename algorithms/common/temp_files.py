"""Names of the files a build writes before they are final, and the clean-up
of those a killed build left behind (recognised by a pid that is gone)."""
from __future__ import annotations

import os

TEMP_SUFFIX = ".copc_builder-tmp"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_quietly(path: str) -> None:
    """Remove a work file when cleaning up; one already gone, or that cannot
    be removed, is no error of its own."""
    try:
        os.remove(path)
    except OSError:
        pass


def temp_name_for(output: str) -> str:
    """The hidden name, beside ``output``, that a build writes before renaming."""
    folder, name = os.path.split(os.path.abspath(output))
    return os.path.join(folder, f".{name}.{os.getpid()}{TEMP_SUFFIX}")


def remove_stale_temps(output: str) -> None:
    """Remove the half-written outputs of killed builds to the same name."""
    folder, name = os.path.split(os.path.abspath(output))
    prefix = f".{name}."
    try:
        entries = os.listdir(folder)
    except OSError:
        return
    for entry in entries:
        if entry.startswith(prefix) and entry.endswith(TEMP_SUFFIX):
            pid = entry[len(prefix):-len(TEMP_SUFFIX)]
            if pid.isdigit() and not pid_alive(int(pid)):
                remove_quietly(os.path.join(folder, entry))

"""The core's messages in a QGIS user's words.

The core names the options a user can change as the command line spells
them (``--a-srs``, ``--scale 0.002``); inside QGIS those are parameters of
the algorithm's dialog, so every error and warning the QGIS algorithms show
goes through ``in_qgis_words`` first.  tests/test_qgis_words.py checks that
every option the core's messages name has a phrasing here, and that each
parameter named here is one the Build COPC dialog shows.
"""
from __future__ import annotations

import re
from typing import List, Tuple

# Command-line option -> the Build COPC parameter that sets it (its label's start).
PARAMETERS = {
    "--a-srs": "CRS",
    "--scale": "Scale",
    "--offset": "Offset",
    "--temporal-index": "Temporal index stride",
    "--temp-dir": "Temp folder",
    "--memory-budget": "Memory budget",
    "--threads": "Threads",
    "--no-statistics": "Exact statistics for QGIS in the file",
    "--pipeline": "PDAL pipeline",
    "--scheduler": "Dask scheduler",
    "--workers": "Local Dask workers",
    "--storage-option": "Storage options",
    "--t-srs": "Reproject to",
}

INSTALLER = '"Install Python dependencies"'

# Whole phrases first, where swapping the option alone would not read.
PHRASES: List[Tuple[str, str]] = [
    (r"use --scale ([0-9.eE+-]+) or coarser", r"set the Scale parameter to \1 or coarser"),
    (r"drop --temporal-index", "set the Temporal index stride parameter to 0"),
    (r" \(--recursive searches them\)", " (add their files as inputs)"),
    (r"; use --recursive \(recursive=True\) to search its subfolders",
     "; add the files of its subfolders as inputs"),
    (r"; use --recursive \(recursive=True\) to search below it", "; add the objects below it as inputs"),
    (r"--storage-option key=\.\.\. secret=\.\.\.", "key=... and secret=... lines in the Storage options parameter"),
    (r"pip install 'copc-builder\[storage\]'", f"run {INSTALLER} in the toolbox with Packages: boto3"),
    (r"give a tile size \(--tile-size\) to write one",
     'run "Build COPC tiles (virtual point cloud)" to write one'),
    (r"--scheduler/--workers", "the Dask parameters"),
    (r"--scheduler and --workers", "the Dask scheduler and Local Dask workers parameters"),
    (r"pip install 'dask\[distributed\]' \(or 'pip install copc-builder\[dask\]'\)",
     f"run {INSTALLER} in the toolbox with Packages: distributed"),
]


def in_qgis_words(text: str) -> str:
    """``text`` with the command line's options named as the QGIS parameters that set them."""
    for pattern, replacement in PHRASES:
        text = re.sub(pattern, replacement, text)
    for option, parameter in PARAMETERS.items():
        # an option, not part of a path or name (/data/--scale.laz)
        text = re.sub(rf"(?<![\w/\\.-]){re.escape(option)}(?![\w-]|\.\w)", f"the {parameter} parameter", text)
    return text

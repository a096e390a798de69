"""JavaScript readers of COPC files, run with node: proj4js (the WKT check
that copc.js and hobuinc's copc-validator make).  The packages are those of
tests/js/package.json, installed by scripts/dev.sh (npm ci)."""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Dict

import pytest

JS = Path(__file__).resolve().parent / "js"


def require_node() -> str:
    node = shutil.which("node")
    if node is None or not (JS / "node_modules" / "proj4").is_dir():
        pytest.skip("node and tests/js/node_modules are needed (bash scripts/dev.sh installs them)")
    return node


def proj4_verdicts(wkts: Dict[str, str]) -> Dict[str, str]:
    """{name: "ok" or "error: ..."} for each WKT, from proj4js."""
    node = require_node()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(wkts, f)
    try:
        run = subprocess.run([node, str(JS / "check_wkt.mjs"), f.name], capture_output=True, text=True,
                             timeout=120, cwd=JS)
    finally:
        Path(f.name).unlink()
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)

"""JavaScript readers of COPC files, run with node: proj4js (the WKT check
that copc.js and hobuinc's copc-validator make) and copc.js (the npm ``copc``
package most web viewers read COPC with).  The packages are those of
tests/js/package.json, installed by scripts/dev.sh (npm ci)."""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Dict, Iterable

import laspy
import pytest

JS = Path(__file__).resolve().parent / "js"


def require_node(package: str = "proj4") -> str:
    node = shutil.which("node")
    if node is None or not (JS / "node_modules" / package).is_dir():
        pytest.skip(f"node and tests/js/node_modules/{package} are needed (bash scripts/dev.sh installs them)")
    return node


def _run_node(script: str, package: str, payload, timeout: int):
    """The JSON a tests/js script prints for ``payload`` (given it as a JSON file)."""
    node = require_node(package)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(payload, f)
    try:
        run = subprocess.run([node, str(JS / script), f.name], capture_output=True, text=True,
                             timeout=timeout, cwd=JS)
    finally:
        Path(f.name).unlink()
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def proj4_verdicts(wkts: Dict[str, str]) -> Dict[str, str]:
    """{name: "ok" or "error: ..."} for each WKT, from proj4js."""
    return _run_node("check_wkt.mjs", "proj4", wkts, timeout=120)


def copcjs_reports(paths: Iterable) -> Dict[str, dict]:
    """{path: report} from copc.js reading each COPC file the whole way a viewer
    does (tests/js/read_copc.mjs says how, and what a report holds), all of them
    in one node process."""
    paths = [str(p) for p in paths]
    return _run_node("read_copc.mjs", "copc", paths, timeout=600 + 30 * len(paths))


def assert_read_completely(path, report: dict) -> None:
    """copc.js threw nothing, read as many points as the header counts, every
    typed extra dimension among the rest, and its coordinates span the
    header's bounds."""
    assert report["error"] is None, f"copc.js: {report['error']}"
    with laspy.open(str(path)) as r:
        h = r.header
    count = int(h.point_count)
    assert report["headerPoints"] == count
    assert report["points"] == count, f"copc.js read {report['points']} of {count} points"
    assert report["pages"] >= 1 and report["nodes"] >= 1
    dims = report["dimensions"]
    typed = {s.name.rstrip(b"\0").decode() for v in h.vlrs if isinstance(v, laspy.vlrs.known.ExtraBytesVlr)
             for s in v.extra_bytes_structs if 1 <= s.data_type <= 10}   # 0: undocumented bytes
    assert typed <= set(dims), f"copc.js read {sorted(dims)}, the Extra Bytes VLRs describe {sorted(typed)}"
    for axis, lo, hi, scale in zip("XYZ", h.mins, h.maxs, h.scales):
        got = dims[axis]
        assert got == pytest.approx([lo, hi], rel=0, abs=scale / 2), f"{axis} read {got}, header {lo}..{hi}"

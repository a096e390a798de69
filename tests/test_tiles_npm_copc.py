"""Every tile and the overview of a tiled build read with the npm ``copc``
package (copc.js, laz-perf), a reader we did not write: every node decoded,
as many points as the header says, all within the header's bounds.

The package comes with tests/js (issue 19 adds it to package.json); until
it is installed there, this skips and says so.
"""
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from copc_builder.algorithms.api import build_copc
from fixtures import write_rich

JS = Path(__file__).parent / "js"


@pytest.fixture(scope="module")
def node_copc():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (bash scripts/dev.sh test installs it)")
    if not (JS / "node_modules" / "copc" / "package.json").is_file():
        pytest.skip("the npm copc package is not in tests/js/node_modules yet (issue 19 adds it to tests/js)")
    return node


def test_every_tile_and_the_overview_read_with_copc_js(node_copc, tmp_path):
    src = write_rich(tmp_path / "a.laz", point_format=7, n=30_000, crs="EPSG:2056", offset=(2600000.0, 1200000.0, 0.0),
                     origin=(2683000.0, 1247000.0, 400.0), extent=(499.0, 499.0, 40.0))
    out = build_copc([str(src)], tmp_path / "a.vpc", tile_size=250, leaf_limit=2000)
    paths = [t["path"] for t in out.tiles] + [o["path"] for o in out.overviews]
    run = subprocess.run([node_copc, str(JS / "read_tiles.mjs"), *paths], capture_output=True, text=True,
                         timeout=300, cwd=JS)
    assert run.returncode == 0, run.stderr
    read = json.loads(run.stdout)
    expected = {t["path"]: t["points"] for t in out.tiles}
    expected.update({o["path"]: o["points"] for o in out.overviews})
    for path, points in expected.items():
        assert read[path] == {"header": points, "points": points, "inside": True}, (path, read[path])
    assert sum(read[t["path"]]["points"] for t in out.tiles) == 30_000

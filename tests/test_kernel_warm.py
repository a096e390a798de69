"""warm_kernels compiles every kernel a build calls; kernels_compiled tells whether a build would compile.

Each case runs in child Pythons with a fresh numba cache (NUMBA_CACHE_DIR), so
"compiled" is numba's own count: a kernel compiled in a process shows in its
dispatcher's ``stats.cache_misses``.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from copc_builder.algorithms.build import kernel_warm
from copc_builder.demo import write_sample_scene

pytestmark = pytest.mark.slow

COMPILED = """
from copc_builder.algorithms.build import kernel_warm
def compiled():
    return sorted(name for name, kernel in kernel_warm._kernels() if kernel.stats.cache_misses)
"""


def child(code: str, cache, timeout: float = 900) -> dict:
    """Run ``code`` (which sets ``result``) in a new Python using the numba cache ``cache``."""
    script = "import json\nresult = {}\n" + COMPILED + textwrap.dedent(code) + "\nprint('RESULT', json.dumps(result))\n"
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache), PROJ_DATA=os.environ.get("PROJ_DATA", "/usr/share/proj"))
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=timeout)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.split("RESULT ", 1)[1])


@pytest.fixture(scope="module")
def warm_cache(tmp_path_factory):
    """A numba cache filled by warm_kernels alone, in its own process."""
    cache = tmp_path_factory.mktemp("numba-cache")
    seen = child("""
        from copc_builder.algorithms.api import kernels_compiled, warm_kernels
        result["before"] = kernels_compiled()
        steps = []
        warm_kernels(on_step=lambda i, n: steps.append([i, n]))
        result["steps"] = steps
        result["after"] = kernels_compiled()
        result["compiled"] = compiled()
    """, cache)
    assert seen["before"] is False                     # an empty cache: a build would compile
    assert seen["after"] is True
    assert seen["steps"] == [[i, kernel_warm.STEPS] for i in range(kernel_warm.STEPS)]
    assert len(seen["compiled"]) >= 20                 # it did compile (numba counted it)
    return cache


def test_after_warm_kernels_a_build_compiles_nothing(warm_cache, tmp_path):
    """The sample scene (also reprojected), and a cloud of 1.3 M points (nodes of over a million
    points: the kernels a build reaches only on big inputs), build in a new process without
    compiling a kernel."""
    scene = write_sample_scene(tmp_path / "scene.laz", points=300_000, seed=2)
    seen = child(f"""
        import numpy as np
        from copc_builder import build_copc
        from copc_builder.algorithms.api import kernels_compiled
        result["compiled_before"] = kernels_compiled()
        build_copc({str(scene)!r}, {str(tmp_path / "scene.copc.laz")!r})
        build_copc({str(scene)!r}, {str(tmp_path / "scene4326.copc.laz")!r}, t_srs="EPSG:4326")
        rng = np.random.default_rng(1)
        n = 1_300_000
        cloud = np.zeros(n, [("X", "f8"), ("Y", "f8"), ("Z", "f8"), ("GpsTime", "f8")])
        cloud["X"], cloud["Y"], cloud["Z"] = rng.uniform(0, 1000, n), rng.uniform(0, 1000, n), rng.uniform(0, 50, n)
        build_copc(cloud, {str(tmp_path / "big.copc.laz")!r})
        result["compiled"] = compiled()
    """, warm_cache)
    assert seen["compiled_before"] is True
    assert seen["compiled"] == []


def test_kernels_compiled_is_false_when_the_cache_is_not_whole(warm_cache, tmp_path):
    """An index numba lost, or a cache from another numba: a build would compile, so False."""
    for spoil in ("index", "numba"):
        cache = tmp_path / spoil
        shutil.copytree(warm_cache, cache)
        marker = next(cache.rglob("copc_builder-kernels.json"))
        note = json.loads(marker.read_text())
        if spoil == "index":
            [index] = [p for p in marker.parent.glob("octree.split_nodes-*.nbi")]
            index.unlink()
        else:
            note["numba"] = "0.0.1"
            marker.write_text(json.dumps(note))
        seen = child("""
            from copc_builder.algorithms.api import kernels_compiled
            result["compiled"] = kernels_compiled()
        """, cache)
        assert seen["compiled"] is False, spoil

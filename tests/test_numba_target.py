"""numba's CPU target loaded before the first kernel (kernels/numba_target.py):
the command line's numba loads without SciPy's BLAS and cffi, which stay
importable for the rest of the process; a host's numba keeps them."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from fixtures import write_las

OPTIONAL = ("scipy", "cffi")
missing = [name for name in OPTIONAL if importlib.util.find_spec(name) is None]
needs_both = pytest.mark.skipif(bool(missing), reason=f"{', '.join(missing)} not installed: nothing to leave out")

REPORT = """
import json, sys
from numba.np import arraymath
seen = {name: name in sys.modules for name in ("scipy.linalg", "cffi")}
import cffi, scipy.linalg   # importable after the target loaded
print(json.dumps({"seen": seen, "blas": arraymath._HAVE_BLAS}))
"""


def run_python(code: str) -> dict:
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


@needs_both
def test_alone_leaves_scipy_blas_and_cffi_out_and_importable_after():
    got = run_python("from copc_builder.algorithms.api import load_numba_target\n"
                     "load_numba_target(alone=True)\n" + REPORT)
    assert got == {"seen": {"scipy.linalg": False, "cffi": False}, "blas": False}


@needs_both
def test_a_host_keeps_what_numba_loads_by_itself():
    got = run_python("from copc_builder.algorithms.api import load_numba_target\n"
                     "load_numba_target()\n" + REPORT)
    assert got == {"seen": {"scipy.linalg": True, "cffi": True}, "blas": True}


@needs_both
def test_already_imported_packages_are_left_as_they_are():
    got = run_python("import cffi, scipy.linalg.cython_blas\n"
                     "from copc_builder.algorithms.api import load_numba_target\n"
                     "load_numba_target(alone=True)\n" + REPORT)
    assert got == {"seen": {"scipy.linalg": True, "cffi": True}, "blas": True}


@needs_both
def test_the_command_line_build_runs_without_them_and_builds_the_same_bytes(tmp_path):
    src = write_las(tmp_path / "in.las", n=20_000)
    script = ("import sys, json\n"
              "from copc_builder.plugin.cli import main\n"
              f"code = main(['build', {str(src)!r}, '-o', {str(tmp_path / 'cli.copc.laz')!r}, '--progress', 'plain'])\n"
              "print(json.dumps({'code': code, 'seen': {n: n in sys.modules for n in ('scipy.linalg', 'cffi')}}))\n")
    got = run_python(script)
    assert got == {"code": 0, "seen": {"scipy.linalg": False, "cffi": False}}
    host = ("import json\n"
            "from copc_builder import build_copc\n"
            f"build_copc([{str(src)!r}], {str(tmp_path / 'api.copc.laz')!r})\n"
            "print(json.dumps({}))\n")
    run_python(host)
    assert (tmp_path / "cli.copc.laz").read_bytes() == (tmp_path / "api.copc.laz").read_bytes()

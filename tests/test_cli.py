"""The command line on good inputs: build, validate, info, sample, threads."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import laspy
import pytest

from fixtures import write_las
from hostile_helpers import run_cli, run_python, said


@pytest.fixture(scope="module")
def merged_inputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("inputs")
    a = write_las(d / "a.laz", n=60_000, point_format=3, seed=1, crs="EPSG:32631")
    b = write_las(d / "b.las", n=40_000, point_format=1, seed=2, crs="EPSG:32631",
                  offset=(500_400.0, 4_000_100.0, 0.0))
    return [a, b]


def test_build_json_progress_and_result(tmp_path, merged_inputs):
    out = tmp_path / "m.copc.laz"
    r = run_cli("build", *merged_inputs, "-o", out, "--progress", "json")
    assert r.returncode == 0, r.stderr
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    events = [e for e in lines if "stage" in e]
    fractions = [e["fraction"] for e in events]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert {e["stage"] for e in events} == {"scan", "read", "build", "finish"}
    result = lines[-1]["result"]
    assert result["points"] == 100_000 and result["point_format"] == 7
    with laspy.open(out) as f:
        assert f.header.point_count == 100_000
        assert "UTM zone 31N" in f.header.parse_crs().name


def test_validate_and_info_commands(tmp_path, merged_inputs):
    out = tmp_path / "m.copc.laz"
    assert run_cli("build", *merged_inputs, "-o", out).returncode == 0
    v = run_cli("validate", out)
    assert v.returncode == 0 and "valid COPC 1.0" in v.stdout
    vj = run_cli("validate", out, "--json")
    assert json.loads(vj.stdout)["ok"] is True
    i = run_cli("info", out, "--json")
    info = json.loads(i.stdout)
    assert i.returncode == 0 and info["is_copc"] and info["point_count"] == 100_000
    assert info["point_format"] == 7
    # A plain LAS is not a COPC: validate says so and exits 1.
    bad = run_cli("validate", merged_inputs[1])
    assert bad.returncode == 1 and "NOT a valid COPC" in bad.stdout


def test_same_bytes_at_one_and_two_threads(tmp_path, merged_inputs):
    one, two = tmp_path / "t1.copc.laz", tmp_path / "t2.copc.laz"
    assert run_cli("build", *merged_inputs, "-o", one, "--threads", "1").returncode == 0
    assert run_cli("build", *merged_inputs, "-o", two, "--threads", "2").returncode == 0
    assert one.read_bytes() == two.read_bytes()


def test_same_bytes_threads_real_file(tmp_path, shared_data):
    src = shared_data / "pdal_laz_las_with_several_extra_byte_bloc.laz"
    one, two = tmp_path / "t1.copc.laz", tmp_path / "t2.copc.laz"
    assert run_cli("build", src, "-o", one, "--threads", "1").returncode == 0
    assert run_cli("build", src, "-o", two, "--threads", "2", "--memory-budget", "8M").returncode == 0
    assert one.read_bytes() == two.read_bytes()


def test_sample_command(tmp_path):
    r = run_cli("sample", "--dir", tmp_path / "s", "--points", "20000", "--progress", "plain")
    assert r.returncode == 0, r.stderr
    assert "validation:" in r.stdout and "valid COPC 1.0" in r.stdout
    out = Path(tmp_path / "s" / "sample_scene.copc.laz")
    with laspy.open(out) as f:
        assert f.header.point_count > 19_000


def test_usage_errors_exit_2(tmp_path):
    assert run_cli().returncode == 2
    assert run_cli("build", "x.las").returncode == 2          # no -o
    assert run_cli("build", "x.las", "-o", tmp_path / "y.copc.laz", "--threads", "0").returncode == 2
    r = run_cli("build", "x.las", "-o", tmp_path / "y.copc.laz", "--memory-budget", "lots")
    assert r.returncode == 1 and "cannot read 'lots' as a size" in r.stderr


def test_build_of_wkt1_input_loads_neither_pyproj_nor_requests(tmp_path, merged_inputs):
    """laspy loads in the command line's LAS commands without pyproj and
    requests (0.08 s), and an input's WKT1 is written verbatim without pyproj; a
    GeoTIFF input built afterwards in the same process still gets its CRS
    (pyproj imports as usual once laspy is loaded); ``validate`` loads no laspy."""
    import pyproj

    wkt1 = pyproj.CRS.from_epsg(32631).to_wkt("WKT1_GDAL")
    src = laspy.read(str(merged_inputs[0]))
    header = laspy.LasHeader(point_format=6, version="1.4")
    header.scales, header.offsets = src.header.scales, src.header.offsets
    header.vlrs.append(laspy.vlrs.known.WktCoordinateSystemVlr(wkt1))
    las = laspy.LasData(header)
    las.x, las.y, las.z = src.x, src.y, src.z
    las.write(str(tmp_path / "wkt1.las"))
    script = f"""
        import sys
        from copc_builder.plugin import cli
        print("@", cli.main(["build", {str(tmp_path / "wkt1.las")!r}, "-o", {str(tmp_path / "a.copc.laz")!r}]))
        print("@", sorted(m for m in ("pyproj", "requests") if m in sys.modules))
        print("@", cli.main(["build", {str(merged_inputs[0])!r}, "-o", {str(tmp_path / "b.copc.laz")!r}]))
        print("@", "pyproj" in sys.modules)
    """
    r = run_python(script)
    assert r.returncode == 0, r.stderr
    assert said(r) == ["0", "[]", "0", "True"], (r.stdout, r.stderr)
    with laspy.open(str(tmp_path / "a.copc.laz")) as f:
        (vlr,) = [v for v in f.header.vlrs if isinstance(v, laspy.vlrs.known.WktCoordinateSystemVlr)]
    assert vlr.string.rstrip("\0") == wkt1
    with laspy.open(str(tmp_path / "b.copc.laz")) as f:
        assert f.header.parse_crs().to_epsg() == 32631
    # validate reads COPC files with our own reader: no laspy at all
    check = (f"from copc_builder.plugin import cli\nimport sys\n"
             f"print('@', cli.main(['validate', {str(tmp_path / 'a.copc.laz')!r}]), 'laspy' in sys.modules)\n")
    r = run_python(check)
    assert said(r) == ["0 False"], (r.stdout, r.stderr)


def test_command_line_freezes_what_its_imports_made(tmp_path, merged_inputs):
    """run() freezes the imports' objects (numba's registries: 100,000 and
    more) before the command, so a full garbage collection during a build walks
    only the build's own objects (47 ms of a 10.5 M-point build otherwise);
    main() called in a process of someone else's freezes nothing."""
    script = f"""
        import atexit, gc, sys
        from copc_builder.plugin import cli
        seen = []
        build = cli.cmd_build
        def cmd_build(args):
            seen.append((gc.get_freeze_count(), len(gc.get_objects())))
            return build(args)
        cli.cmd_build = cmd_build
        print("@", cli.main(["build", {str(merged_inputs[1])!r}, "-o", {str(tmp_path / "a.copc.laz")!r}]),
              *seen.pop())
        atexit.register(lambda: print("@", *seen.pop()))
        sys.argv = ["copc-builder", "build", {str(merged_inputs[1])!r}, "-o", {str(tmp_path / "b.copc.laz")!r}]
        cli.run()
    """
    r = run_python(script)
    assert r.returncode == 0, r.stderr
    numbers = [list(map(int, line.split())) for line in said(r)]
    (code, frozen_main, _), (frozen_run, tracked_run) = numbers
    assert code == 0 and frozen_main == 0, numbers
    assert frozen_run > 50_000 and tracked_run < frozen_run / 10, numbers


def test_command_line_collects_nothing_while_it_imports(tmp_path, merged_inputs):
    """run() keeps the garbage collector off while the imports run (numba's
    registries: each collection walked them again, 0.04 s of the start)
    and on for the command; main() in someone else's process leaves it alone."""
    def collections_at_command(entry):
        script = f"""
            import gc, sys
            from copc_builder.plugin import cli
            build = cli.cmd_build
            def cmd_build(args):
                print("@", int(gc.isenabled()), *(s["collections"] for s in gc.get_stats()))
                return build(args)
            cli.cmd_build = cmd_build
            sys.argv = ["copc-builder", "build", {str(merged_inputs[1])!r}, "-o", {str(tmp_path / (entry + ".copc.laz"))!r}]
            print("@", int(gc.isenabled()), *(s["collections"] for s in gc.get_stats()))
            if {entry!r} == "run":
                cli.run()
            sys.exit(cli.main(sys.argv[1:]))
        """
        r = run_python(script)
        assert r.returncode == 0, r.stderr
        before, at_command = (list(map(int, line.split())) for line in said(r))
        return at_command[0], [n - b for n, b in zip(at_command[1:], before[1:])]

    enabled, made = collections_at_command("run")   # collections made since run() was called
    assert enabled == 1 and made == [0, 0, 0], made
    enabled, made = collections_at_command("main")
    assert enabled == 1 and made[0] > 0, made   # the imports do trigger collections


def test_command_line_asks_numpy_for_no_huge_pages(tmp_path, merged_inputs):
    """run() sets numpy's NUMPY_MADVISE_HUGEPAGE=0 before numpy is imported,
    so the build's large arrays are not madvised into transparent huge pages
    (stalls at their first touch); a value the user set wins, and main() in
    someone else's process changes nothing."""
    def advice(entry, env_value):
        script = f"""
            import sys
            from copc_builder.plugin import cli
            build = cli.cmd_build
            def cmd_build(args):
                import numpy as np
                core = getattr(np, "_core", None) or np.core
                print("@", int(core.multiarray._get_madvise_hugepage()))
                return build(args)
            cli.cmd_build = cmd_build
            sys.argv = ["copc-builder", "build", {str(merged_inputs[1])!r}, "-o", {str(tmp_path / (entry + str(env_value) + ".copc.laz"))!r}]
            if {entry!r} == "run":
                cli.run()
            sys.exit(cli.main(sys.argv[1:]))
        """
        env = {k: v for k, v in os.environ.items() if k != "NUMPY_MADVISE_HUGEPAGE"}
        if env_value is not None:
            env["NUMPY_MADVISE_HUGEPAGE"] = env_value
        r = run_python(script, env=env)
        assert r.returncode == 0, r.stderr
        return [int(line) for line in said(r)]

    assert advice("run", None) == [0]
    assert advice("run", "1") == [1]       # the user's choice
    assert advice("main", None) == [1]     # numpy's own default on Linux 4.6 and later


def test_help_and_usage_errors_load_no_point_libraries():
    """``--help`` and argparse's own usage errors answer before numpy, numba
    or laspy are imported: 0.1 s, not the 0.7 s of a build's imports."""
    r = run_python("""
        import sys
        from copc_builder.plugin import cli
        for argv in (["--help"], ["build", "--help"], ["build", "--threads", "x"], ["nonsense"]):
            try:
                cli.main(argv)
            except SystemExit as exit_:
                print("exit", exit_.code)
        print(sorted(m for m in ("numpy", "numba", "laspy", "lazrs", "pyproj") if m in sys.modules))
    """, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert [line for line in lines if line.startswith("exit")] == ["exit 0", "exit 0", "exit 2", "exit 2"]
    assert lines[-1] == "[]", r.stdout
    assert "--memory-budget" in r.stdout and "(default 2G)" in r.stdout


@pytest.mark.parametrize("ok", [False, True])
def test_run_exits_with_mains_code_and_freezes_what_is_left(tmp_path, ok):
    """The command's entry (pyproject's script, ``python -m``) is run(): main's
    exit code, the objects left frozen so no last collection walks them, and
    atexit handlers run; ``python -m copc_builder`` goes through it."""
    from copc_builder.plugin import cli

    source = write_las(tmp_path / "in.las", n=500) if ok else tmp_path / "missing.las"
    argv, code = ["build", str(source), "-o", str(tmp_path / "out.copc.laz")], 0 if ok else 1
    r = run_python(f"""
        import atexit, gc, sys
        from copc_builder.plugin import cli
        atexit.register(lambda: print("@", gc.get_freeze_count() > 0))
        sys.argv = ["copc-builder", *{argv!r}]
        cli.run()
    """)
    assert r.returncode == code, r.stderr
    assert said(r) == ["True"], r.stdout
    text = (Path(cli.__file__).parents[1] / "pyproject.toml").read_text()
    assert 'copc-builder = "copc_builder.plugin.cli:run"' in text
    assert (tmp_path / "out.copc.laz").exists() == ok
    (tmp_path / "out.copc.laz").unlink(missing_ok=True)
    r = run_cli(*argv)
    assert r.returncode == code and (tmp_path / "out.copc.laz").exists() == ok


def test_leave_exits_as_the_interpreter_would(tmp_path):
    """leave() skips the interpreter's teardown but not what an exit owes:
    atexit handlers (last registered first), buffered output (stdout to a
    pipe is block-buffered), a weakref.finalize'd temporary folder, the
    code; status 120 where stdout cannot be flushed, as Python's own exit
    gives; and the ordinary exit, which waits, while a thread that is not a
    daemon runs."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}   # stdout buffered, as a user's

    def leave(body: str) -> subprocess.CompletedProcess:
        script = "import atexit, sys, tempfile, threading, time\nfrom copc_builder.plugin import cli\n"
        return run_python(script + textwrap.dedent(body), timeout=120, env=env)

    r = leave(f"""
        atexit.register(lambda: print("first registered"))
        atexit.register(lambda: print("last registered"))
        folder = tempfile.TemporaryDirectory(dir={str(tmp_path)!r})
        print("buffered", end="")
        sys.stderr.write("err")
        cli.leave(3)
        print("never")
    """)
    assert r.returncode == 3, r.stderr
    assert r.stdout == "bufferedlast registered\nfirst registered\n" and r.stderr == "err"
    assert list(tmp_path.iterdir()) == []   # the temporary folder's finalizer ran
    r = leave("""
        def late():
            time.sleep(0.3)
            print("thread done")
        threading.Thread(target=late).start()
        cli.leave(0)
    """)
    assert r.returncode == 0 and r.stdout == "thread done\n", (r.stdout, r.stderr)
    read_end, write_end = os.pipe()
    os.close(read_end)   # nobody reads stdout: flushing it fails
    try:
        r = subprocess.run([sys.executable, "-c", "from copc_builder.plugin import cli\nprint('x' * 100)\ncli.leave(0)"],
                           stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120, env=env)
    finally:
        os.close(write_end)
    assert r.returncode == 120, r.stderr

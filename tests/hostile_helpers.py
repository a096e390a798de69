"""Shared checks of the hostile-input and fault tests (issue 6).

Every case ends in one of two ways:

- refused: exit status 1 (command line) or the right exception (API), ONE
  message naming the file and the problem; no output file, nothing left in
  the temp folder, no hidden ``.<name>.<pid>.copc_builder-tmp`` beside the
  output, and a file already at the output path left as it was;
- converted: a valid COPC holding every input point exactly once (sorted
  records equal those of an independent conversion of the input).
"""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Tuple

import laspy
import numpy as np
import pytest

from reference import (check_nodes_contain_points, copc_records, expected_layout, expected_records,
                       finest_scales, sorted_rows)

SENTINEL = b"a previous result that must survive a failed build"
# Text that must never reach the user on a refusal.
NOISE = ("Traceback", "panicked", "RUST_BACKTRACE", "numba", "lazrs.", 'File "')


def run_cli(*args, timeout: float = 600, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "copc_builder", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, **kw)


def run_python(script: str, *args, timeout: float = 600, **kw) -> subprocess.CompletedProcess:
    """``script`` (dedented) in a new interpreter, with ``args`` after it."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, **kw)


def said(r: subprocess.CompletedProcess) -> List[str]:
    """What a run_python script printed on lines of its own starting "@ ", without the "@ "."""
    return [line[2:] for line in r.stdout.splitlines() if line.startswith("@ ")]


def one_error_line(r: subprocess.CompletedProcess) -> str:
    """The one ``copc-builder: error:`` line of a command that failed with
    status 1, no other error line and none of NOISE on stderr."""
    assert r.returncode == 1, f"exit {r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}"
    errors = [line for line in r.stderr.splitlines() if line.startswith("copc-builder: error:")]
    assert len(errors) == 1, r.stderr
    for bad in NOISE:
        assert bad not in r.stderr, r.stderr
    return errors[0]


def folders(tmp_path: Path, out_name: str = "out", tmp_name: str = "tmp") -> Tuple[Path, Path]:
    out_dir = tmp_path / out_name
    tmp_dir = tmp_path / tmp_name
    out_dir.mkdir(exist_ok=True)
    tmp_dir.mkdir(exist_ok=True)
    return out_dir, tmp_dir


def listing(folder: Path):
    return sorted(p.name for p in Path(folder).iterdir())


def _check_message(text: str, problem, names: Iterable[str]) -> None:
    problems = [problem] if isinstance(problem, str) else list(problem)
    assert any(p.lower() in text.lower() for p in problems), f"expected one of {problems} in: {text}"
    for name in names:
        assert str(name) in text, f"expected {name!r} named in: {text}"


def cli_refused(tmp_path: Path, inputs: Sequence, problem, *extra, names: Iterable[str] = (),
                output: Optional[Path] = None, existing: bool = False, temp_dir: Optional[Path] = None,
                env=None) -> str:
    """Run ``build`` on the command line; it must fail cleanly.  Returns the error line.

    existing=True puts a file at the output path first: it must be left untouched.
    """
    out_dir, tmp_dir = folders(tmp_path)
    if temp_dir is not None:
        tmp_dir = temp_dir
    output = Path(output) if output is not None else out_dir / "result.copc.laz"
    if existing:
        output.write_bytes(SENTINEL)
    before = listing(output.parent) if output.parent.is_dir() else None
    r = run_cli("build", *inputs, "-o", output, "--temp-dir", tmp_dir, "--progress", "plain",
                *extra, env=env)
    assert r.returncode == 1, f"exit {r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}"
    errors = [line for line in r.stderr.splitlines() if line.startswith("copc-builder: error:")]
    assert len(errors) == 1, r.stderr
    for bad in NOISE:
        assert bad not in r.stderr, r.stderr
    _check_message(errors[0], problem, names)
    if existing:
        assert output.read_bytes() == SENTINEL
    if before is not None:
        assert listing(output.parent) == before, "something left beside the output"
    if Path(tmp_dir).is_dir():
        assert listing(tmp_dir) == [], "something left in the temp folder"
    return errors[0]


def api_refused(tmp_path: Path, inputs, exc_type, problem, names: Iterable[str] = (),
                output: Optional[Path] = None, existing: bool = True, temp_dir: Optional[Path] = None,
                **options) -> BaseException:
    """Run build_copc; it must raise ``exc_type`` and leave nothing behind."""
    from copc_builder import build_copc

    out_dir, tmp_dir = folders(tmp_path, "api_out", "api_tmp")
    if temp_dir is not None:
        tmp_dir = temp_dir
    output = Path(output) if output is not None else out_dir / "result.copc.laz"
    if existing and output.parent.is_dir():
        output.write_bytes(SENTINEL)
    before = listing(output.parent) if output.parent.is_dir() else None
    with pytest.raises(exc_type) as info:
        build_copc(inputs, output, temp_dir=tmp_dir, **options)
    _check_message(str(info.value), problem, names)
    assert "\n" not in str(info.value).strip(), f"one message, one line: {info.value}"
    if existing and output.parent.is_dir():
        assert output.read_bytes() == SENTINEL
    if before is not None:
        assert listing(output.parent) == before, "something left beside the output"
    if Path(tmp_dir).is_dir():
        assert listing(tmp_dir) == [], "something left in the temp folder"
    return info.value


def output_frame(path) -> Tuple[int, np.ndarray, np.ndarray, list]:
    """(point format, scales, offsets, [(extra name, byte size)]) of a LAS/COPC file."""
    with laspy.open(str(path)) as f:
        h = f.header
        extra = [(d.name, int(d.num_bits // 8)) for d in h.point_format.extra_dimensions]
        return h.point_format.id, np.array(h.scales), np.array(h.offsets), extra


def assert_valid_copc(out) -> None:
    from copc_builder import validate_copc

    report = validate_copc(str(out))
    assert report.ok, [f.__dict__ for f in report.findings]
    check_nodes_contain_points(str(out))


def _check_scales(got, scale, finest=None) -> None:
    """Output scales equal ``scale`` when the build asked for one, else no
    coarser than ``finest`` (per axis) when given."""
    got = np.asarray(got, np.float64)
    if scale is not None:
        want = np.broadcast_to(np.asarray(scale, np.float64), (3,))
        assert np.array_equal(got, want), f"output scales {got.tolist()}, asked for {want.tolist()}"
    elif finest is not None:
        assert np.all(got <= finest), (f"output scales {got.tolist()} coarser than the inputs' "
                                       f"finest {np.asarray(finest).tolist()}")


def assert_holds_files(out, paths: Sequence, expected: Optional[np.ndarray] = None,
                       scale=None) -> np.ndarray:
    """The COPC at ``out`` is valid and holds every point of ``paths`` exactly once.

    Its point format and extra dimensions are those the inputs call for; its
    scales are ``scale`` when the build asked for one, else no coarser than
    the inputs' finest per axis.
    """
    assert_valid_copc(out)
    paths = [str(p) for p in paths]
    pf, scales, offsets, extra = output_frame(out)
    want_pf, want_extra = expected_layout(paths)
    assert pf == want_pf, f"point format {pf}, the inputs call for {want_pf}"
    assert extra == want_extra, f"extra dimensions {extra}, the inputs call for {want_extra}"
    _check_scales(scales, scale, finest_scales(paths))
    if expected is None:
        expected = expected_records(paths, pf, scales, offsets, extra)
    got = copc_records(str(out))
    assert got.shape == expected.shape, (got.shape, expected.shape)
    assert np.array_equal(sorted_rows(got), sorted_rows(expected)), "records differ from the input's"
    return got


# -- PDAL-named arrays -> LAS 1.4 records, test-side -------------------------------
_BASE = {6: 30, 7: 36, 8: 38}


def array_records(arrays: Sequence[np.ndarray], out_format: int, scales, offsets,
                  extra: Sequence[Tuple[str, int]]) -> np.ndarray:
    """Records (n, size) a COPC made from PDAL-named arrays must hold (input order).

    Covers the dimensions the tests generate: X Y Z, Intensity, ReturnNumber,
    NumberOfReturns, Classification, UserData, PointSourceId, GpsTime, Red,
    Green, Blue, Infrared, and extra dimensions (stored as their own bytes).
    """
    parts = []
    size = _BASE[out_format] + sum(s for _, s in extra)
    for a in arrays:
        n = len(a)
        names = a.dtype.names
        rec = np.zeros((n, size), np.uint8)
        if n == 0:
            continue

        def put(offset, values, dtype):
            v = np.ascontiguousarray(np.asarray(values).astype(dtype))
            rec[:, offset:offset + np.dtype(dtype).itemsize] = v.view(np.uint8).reshape(n, -1)

        for axis, dim in enumerate("XYZ"):
            put(axis * 4, np.rint((a[dim].astype(np.float64) - offsets[axis]) / scales[axis]), "<i4")

        def get(dim):
            return a[dim].astype(np.int64) if dim in names else np.zeros(n, np.int64)

        put(12, get("Intensity"), "<u2")
        put(14, (get("ReturnNumber") & 15) | ((get("NumberOfReturns") & 15) << 4), "u1")
        put(16, get("Classification"), "u1")
        put(17, get("UserData"), "u1")
        put(20, get("PointSourceId"), "<u2")
        put(22, a["GpsTime"] if "GpsTime" in names else np.zeros(n), "<f8")
        if out_format in (7, 8):
            for k, dim in enumerate(("Red", "Green", "Blue")):
                put(30 + 2 * k, get(dim), "<u2")
        if out_format == 8:
            put(36, get("Infrared"), "<u2")
        offset = _BASE[out_format]
        for name, nbytes in extra:
            if name in names:
                raw = np.ascontiguousarray(a[name].astype(a.dtype[name].newbyteorder("<")))
                rec[:, offset:offset + nbytes] = raw.view(np.uint8).reshape(n, -1)
            offset += nbytes
        parts.append(rec)
    return np.concatenate(parts) if parts else np.zeros((0, size), np.uint8)


# PDAL's names of the dimensions LAS 1.4 formats 6-8 store in their own fields
# (ClassFlags is PDAL's packed copy of the flags): never extra bytes.
LAS_DIMENSIONS = {
    "X", "Y", "Z", "Intensity", "ReturnNumber", "NumberOfReturns", "ScanDirectionFlag",
    "EdgeOfFlightLine", "Classification", "Synthetic", "KeyPoint", "Withheld", "Overlap",
    "ScanChannel", "ScanAngleRank", "UserData", "PointSourceId", "GpsTime", "Red", "Green", "Blue",
    "Infrared", "ClassFlags",
}


def array_layout(arrays: Sequence[np.ndarray]) -> Tuple[int, list]:
    """(point format, [(extra name, byte size)]) a COPC made from these arrays
    must have: 8 with Infrared, 7 with Red/Green/Blue, else 6; every other
    dimension an extra one, in order of first appearance."""
    names = []
    for a in arrays:
        for name in a.dtype.names:
            if name not in names:
                names.append(name)
    pf = 8 if "Infrared" in names else 7 if {"Red", "Green", "Blue"} & set(names) else 6
    extra = []
    for name in names:
        if name not in LAS_DIMENSIONS:
            itemsize = next(a.dtype[name].itemsize for a in arrays if name in a.dtype.names)
            extra.append((name, itemsize))
    return pf, extra


def assert_holds_arrays(out, arrays: Sequence[np.ndarray], scale=None) -> np.ndarray:
    """The COPC at ``out`` is valid and holds every point of ``arrays`` exactly
    once, in the point format and extra dimensions the arrays call for, and at
    ``scale`` when the build asked for one (None: not checked)."""
    assert_valid_copc(out)
    pf, scales, offsets, extra = output_frame(out)
    want_pf, want_extra = array_layout(arrays)
    assert pf == want_pf, f"point format {pf}, the arrays call for {want_pf}"
    assert extra == want_extra, f"extra dimensions {extra}, the arrays call for {want_extra}"
    _check_scales(scales, scale)
    expected = array_records(arrays, pf, scales, offsets, extra)
    got = copc_records(str(out))
    assert got.shape == expected.shape, (got.shape, expected.shape)
    assert np.array_equal(sorted_rows(got), sorted_rows(expected)), "records differ from the arrays'"
    return got


def pdal_array(n: int, seed: int = 0, extent=(100.0, 100.0, 20.0), origin=(1000.0, 2000.0, 0.0),
               rgb: bool = False, nir: bool = False, extra=()) -> np.ndarray:
    """A random cloud as a PDAL-named structured array."""
    rng = np.random.default_rng(seed)
    fields = [("X", "f8"), ("Y", "f8"), ("Z", "f8"), ("Intensity", "u2"), ("ReturnNumber", "u1"),
              ("NumberOfReturns", "u1"), ("Classification", "u1"), ("GpsTime", "f8")]
    if rgb or nir:
        fields += [("Red", "u2"), ("Green", "u2"), ("Blue", "u2")]
    if nir:
        fields += [("Infrared", "u2")]
    fields += list(extra)
    a = np.zeros(n, fields)
    for k, dim in enumerate("XYZ"):
        a[dim] = origin[k] + rng.uniform(0, extent[k], n)
    a["Intensity"] = rng.integers(0, 65535, n)
    a["NumberOfReturns"] = rng.integers(1, 6, n)
    a["ReturnNumber"] = np.minimum(rng.integers(1, 6, n), a["NumberOfReturns"])
    a["Classification"] = rng.integers(0, 19, n)
    a["GpsTime"] = np.sort(rng.uniform(3e8, 3e8 + 100, n))
    for dim in ("Red", "Green", "Blue", "Infrared"):
        if dim in a.dtype.names:
            a[dim] = rng.integers(0, 65535, n)
    for name, dtype in extra:
        dt = np.dtype(dtype)
        if dt.kind == "f":
            a[name] = rng.normal(0, 100, n)
        else:
            info = np.iinfo(dt)
            a[name] = rng.integers(info.min, info.max, n, dtype=dt, endpoint=True)
    return a

"""Without the pdal package (simulated when it is installed): --pipeline and
the stage fail with one clear message; the stage's own logic still runs on
arrays shaped as PDAL passes them."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import laspy
import numpy as np
import pytest

from copc_builder import DependencyError, build_copc, validate_copc
from fixtures import write_las
from reference import copc_records, sorted_rows

STAGE = Path(__file__).resolve().parents[1] / "plugin" / "pdal_stage.py"
WHAT_TO_INSTALL = "conda install -c conda-forge pdal python-pdal"


@pytest.fixture
def no_pdal(monkeypatch):
    monkeypatch.setitem(sys.modules, "pdal", None)   # `import pdal` fails


def load_stage(module_name="copc_builder_pdal_stage_test"):
    """plugin/pdal_stage.py loaded by path, as PDAL's filters.python loads it."""
    spec = importlib.util.spec_from_file_location(module_name, STAGE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_clear(message: str):
    assert "pdal Python package" in message and WHAT_TO_INSTALL in message, message
    assert "pip install pdal" in message


@pytest.mark.parametrize("pipeline", [
    '[{"type": "readers.las", "filename": "in.las"}]',
    "pipeline.json",
])
def test_build_copc_pipeline_without_pdal(tmp_path, no_pdal, pipeline):
    if pipeline.endswith(".json"):
        path = tmp_path / pipeline
        path.write_text('["in.las"]')
        pipeline = path
    out = tmp_path / "out.copc.laz"
    with pytest.raises(DependencyError) as err:
        build_copc(pipeline, out)
    assert_clear(str(err.value))
    assert not out.exists()


def run_cli_without_pdal(*args):
    code = ("import sys; sys.modules['pdal'] = None\n"
            "from copc_builder.plugin.cli import main\n"
            "sys.exit(main(sys.argv[1:]))\n")
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize("as_file", [False, True])
def test_cli_pipeline_without_pdal(tmp_path, as_file):
    pipeline = '[{"type": "readers.las", "filename": "in.las"}]'
    if as_file:
        path = tmp_path / "p.pipeline"
        path.write_text(pipeline)
        pipeline = path
    out = tmp_path / "out.copc.laz"
    r = run_cli_without_pdal("build", "--pipeline", pipeline, "-o", out)
    assert r.returncode == 1, r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("copc-builder: error:")]
    assert len(errors) == 1, r.stderr
    assert_clear(errors[0])
    assert "Traceback" not in r.stderr
    assert not out.exists()


def test_cli_build_needs_inputs_or_a_pipeline(tmp_path):
    r = run_cli_without_pdal("build", "-o", tmp_path / "out.copc.laz")
    assert r.returncode == 2
    assert "give INPUT files, --pipeline PIPELINE, or both" in r.stderr


def test_las_inputs_do_not_need_pdal(tmp_path, no_pdal):
    src = write_las(tmp_path / "a.las", n=500)
    summary = build_copc([src], tmp_path / "a.copc.laz")
    assert summary.points == 500


def test_stage_outside_pdal_without_pdal(no_pdal):
    stage = load_stage()
    with pytest.raises(DependencyError) as err:
        stage.build_copc({"X": np.zeros(1)}, {})
    assert_clear(str(err.value))
    assert "pdal-plugins" in str(err.value) and "PDAL_DRIVER_PATH" in str(err.value)


def pdal_view(path):
    """A LAS file's points as the dict of arrays filters.python passes."""
    las = laspy.read(str(path))
    names = {"X": "x", "Y": "y", "Z": "z", "Intensity": "intensity", "ReturnNumber": "return_number",
             "NumberOfReturns": "number_of_returns", "ScanDirectionFlag": "scan_direction_flag",
             "EdgeOfFlightLine": "edge_of_flight_line", "Classification": "classification",
             "Synthetic": "synthetic", "KeyPoint": "key_point", "Withheld": "withheld",
             "UserData": "user_data", "PointSourceId": "point_source_id", "GpsTime": "gps_time",
             "Red": "red", "Green": "green", "Blue": "blue"}
    types = {"X": "f8", "Y": "f8", "Z": "f8", "Intensity": "u2", "PointSourceId": "u2",
             "GpsTime": "f8", "Red": "u2", "Green": "u2", "Blue": "u2"}
    ins = {pdal: np.asarray(las[name]).astype(types.get(pdal, "u1")) for pdal, name in names.items()}
    ins["ScanAngleRank"] = np.asarray(las.scan_angle_rank).astype(np.float32)
    ins["Overlap"] = np.zeros(len(las.points), np.uint8)
    return ins


def metadata_tree(path):
    """The 'metadata' global PDAL gives filters.python after readers.las."""
    h = laspy.open(str(path)).header
    values = {f"scale_{a}": repr(float(s)) for a, s in zip("xyz", h.scales)}
    values.update({f"offset_{a}": repr(float(o)) for a, o in zip("xyz", h.offsets)})
    reader = {"name": "readers.las", "value": "", "children": [
        {"name": k, "value": v, "type": "double", "description": ""} for k, v in values.items()]}
    return {"name": "root", "value": "", "children": [{"name": "filters.python", "value": ""}, reader]}


def test_stage_with_pdal_globals_needs_no_pdal_package(tmp_path, no_pdal):
    """PDAL's own Python may lack the pdal package: the stage does not import it."""
    import pyproj

    src = write_las(tmp_path / "src.las", n=3_000, point_format=3, crs="EPSG:2056")
    stage = load_stage()
    out = tmp_path / "stage.copc.laz"
    stage.pdalargs = {"output": str(out), "memory_budget": "64M"}
    stage.metadata = metadata_tree(src)
    stage.spatialreference = {"srs": {"wkt": pyproj.CRS.from_epsg(2056).to_wkt("WKT1_GDAL")}}
    outs = {}
    assert stage.build_copc(pdal_view(src), outs) is True
    assert outs == {}                     # nothing handed back: PDAL keeps the points as they are
    assert validate_copc(out).ok
    ref = tmp_path / "ref.copc.laz"
    build_copc([src], ref)
    assert np.array_equal(sorted_rows(copc_records(str(out))), sorted_rows(copc_records(str(ref))))
    h = laspy.open(str(out)).header
    assert tuple(h.scales) == (0.01, 0.01, 0.01) and tuple(h.offsets) == (500_000.0, 4_000_000.0, 0.0)
    assert h.parse_crs().to_epsg() == 2056


def test_stage_errors_go_through_pdal(tmp_path, no_pdal):
    src = write_las(tmp_path / "src.las", n=100)
    stage = load_stage()
    stage.pdalargs = {"output": str(tmp_path / "missing" / "out.copc.laz")}
    outs = {}
    assert stage.build_copc(pdal_view(src), outs) is True
    (key,) = outs
    assert key.startswith("copc_builder error: ") and "does not exist" in key

    stage = load_stage()
    stage.pdalargs = {"out": "x.copc.laz"}
    outs = {}
    stage.build_copc(pdal_view(src), outs)
    assert "unknown pdalargs out" in next(iter(outs))


def test_stage_untrusted_frame_when_a_stage_moves_points(tmp_path, no_pdal):
    from copc_builder.algorithms.sources.pdal_stage_points import pipeline_frame_and_crs

    src = write_las(tmp_path / "src.las", n=500, point_format=3)
    tree = metadata_tree(src)
    tree["children"].append({"name": "filters.transformation", "value": ""})
    frame, crs = pipeline_frame_and_crs(tree, {})
    assert frame is None and crs is None
    frame, _ = pipeline_frame_and_crs(metadata_tree(src), {})
    assert frame is not None and list(frame[0]) == [0.01, 0.01, 0.01]


def test_pipeline_specs_are_recognised():
    from copc_builder.algorithms.sources.pdal_pipeline import PipelineInput, is_pipeline_spec

    assert is_pipeline_spec('[{"type": "readers.las"}]') and is_pipeline_spec(' {"pipeline": []}')
    assert is_pipeline_spec("a/b/pipe.JSON") and is_pipeline_spec(Path("p.json"))
    assert is_pipeline_spec(PipelineInput("anything.txt"))
    assert not is_pipeline_spec("a.laz") and not is_pipeline_spec("") and not is_pipeline_spec(3)


def test_stage_judges_which_filters_move_points():
    from copc_builder.algorithms.sources.pdal_stages import moves_points

    assert not moves_points({"type": "filters.range", "limits": "Z[0:10]"})
    assert not moves_points({"type": "readers.las"}) and not moves_points({"type": "writers.las"})
    assert moves_points({"type": "filters.reprojection", "out_srs": "EPSG:4326"})
    assert moves_points({"type": "filters.python"})
    assert moves_points({"type": "filters.unknownfuture"})
    assert not moves_points({"type": "filters.assign", "value": "Classification = 2 WHERE Z > 5"})
    assert moves_points({"type": "filters.assign", "value": ["Z = Z * 0.3048"]})
    assert moves_points({"type": "filters.assign", "assignment": "X[0:10]=5"})
    assert not moves_points({"type": "filters.ferry", "dimensions": "Z => HeightCopy"})
    assert moves_points({"type": "filters.ferry", "dimensions": "HeightAboveGround=>Z"})

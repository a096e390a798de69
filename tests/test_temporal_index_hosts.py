"""--temporal-index through the hosts: the command line and QGIS Processing."""
from __future__ import annotations

import pytest

from hostile_helpers import run_cli
from temporal_parse import parse_temporal
from test_temporal_index import check_index


def test_command_line(shared_data, tmp_path):
    out = tmp_path / "o.copc.laz"
    r = run_cli("build", str(shared_data / "pdal_las_autzen_trim.las"), "-o", str(out), "--temporal-index", "25")
    assert r.returncode == 0, r.stderr
    check_index(out, 25)
    info = run_cli("info", str(out))
    assert "Temporal index: stride 25" in info.stdout


def test_command_line_refuses_inputs_without_gps_time(shared_data, tmp_path):
    out = tmp_path / "o.copc.laz"
    r = run_cli("build", str(shared_data / "lazrs_point10.laz"), "-o", str(out), "--temporal-index", "25")
    assert r.returncode != 0 and not out.exists()
    lines = [line for line in r.stderr.splitlines() if "no GPS time" in line]
    assert len(lines) == 1 and "lazrs_point10.laz" in lines[0] and "point format 0" in lines[0]


@pytest.mark.qgis
def test_qgis_parameter(copc_processing, shared_data, tmp_path):
    import processing
    from qgis_helpers import RecordingFeedback

    src = str(shared_data / "pdal_las_autzen_trim.las")
    out, plain = tmp_path / "o.copc.laz", tmp_path / "plain.copc.laz"
    processing.run("copcbuilder:buildcopc", {"INPUT": [src], "OUTPUT": str(out), "TEMPORAL_INDEX": 40},
                   feedback=RecordingFeedback())
    assert parse_temporal(out).stride == 40
    check_index(out, 40)
    processing.run("copcbuilder:buildcopc", {"INPUT": [src], "OUTPUT": str(plain), "TEMPORAL_INDEX": 0},
                   feedback=RecordingFeedback())
    assert b"copc_temporal" not in plain.read_bytes()

"""info's per-level bytes and ``info --compare`` on real COPC files of other
writers, against the test-side parser (tests/copc_parse.py)."""
from __future__ import annotations

import json
from collections import defaultdict

import pytest

from copc_builder import build_copc
from copc_builder.algorithms.api import compare_infos, copc_info, format_compare, format_info
from copc_parse import parse_copc
from fixtures import write_las
from hostile_helpers import run_cli

REAL = ["pdal_copc_lone-star.copc.laz", "laspy_simple.copc.laz", "lasrs_autzen.copc.laz",
        "laspy_simple_with_page.copc.laz"]


def parsed_levels(path):
    """level -> [nodes, points, bytes] from the test-side parser."""
    levels = defaultdict(lambda: [0, 0, 0])
    for node in parse_copc(path, decode=False).entries:
        row = levels[node.key[0]]
        row[0] += 1
        row[1] += node.point_count
        row[2] += node.byte_size
    return dict(levels)


@pytest.mark.parametrize("name", REAL)
def test_levels_carry_compressed_bytes(shared_data, name):
    path = shared_data / name
    info = copc_info(path)
    expected = parsed_levels(path)
    got = {r["level"]: [r["nodes"], r["points"], r["bytes"]] for r in info["copc"]["levels"]}
    assert got == expected
    assert info["copc"]["node_bytes"] == sum(b for _, _, b in expected.values())
    text = format_info(info)
    assert "B/point" in text and f"{info['copc']['node_bytes']:,} bytes" in text


def test_compare_two_writers(shared_data):
    a, b = shared_data / "laspy_simple.copc.laz", shared_data / "laspy_simple_with_page.copc.laz"
    ia, ib = copc_info(a), copc_info(b)
    data = compare_infos(ia, ib)
    la, lb = parsed_levels(a), parsed_levels(b)
    assert [row["level"] for row in data["levels"]] == sorted(set(la) | set(lb))
    for row in data["levels"]:
        for side, parsed in (("a", la), ("b", lb)):
            if row["level"] in parsed:
                assert [row[side]["nodes"], row[side]["points"], row[side]["bytes"]] == parsed[row["level"]]
            else:
                assert row[side] is None
    text = format_compare(ia, ib)
    assert str(a) in text and str(b) in text
    level_lines = [line.split() for line in text.splitlines() if line.split()[:1] and line.split()[0].isdigit()]
    assert len(level_lines) == len(data["levels"])
    # level, nodes A, nodes B, points A, points B, bytes A, bytes B, ...
    assert level_lines[0][:7] == ["0", f"{la[0][0]:,}", f"{lb[0][0]:,}", f"{la[0][1]:,}", f"{lb[0][1]:,}",
                               f"{la[0][2]:,}", f"{lb[0][2]:,}"]


def test_compare_our_output_with_another_writers(shared_data, tmp_path):
    """Our build of autzen against lasrs's COPC of the same file, on the command line."""
    ours = tmp_path / "ours.copc.laz"
    build_copc(str(shared_data / "lasrs_autzen.copc.laz"), ours)
    r = run_cli("info", ours, "--compare", shared_data / "lasrs_autzen.copc.laz")
    assert r.returncode == 0, r.stderr
    assert "points" in r.stdout and "B/pt A" in r.stdout
    rj = run_cli("info", ours, "--compare", shared_data / "lasrs_autzen.copc.laz", "--json")
    data = json.loads(rj.stdout)
    assert data["a"]["points"] == data["b"]["points"] == 107
    assert data["a"]["node_bytes"] == sum(b for _, _, b in parsed_levels(ours).values())


def test_compare_with_a_plain_las_and_usage_errors(tmp_path):
    las = write_las(tmp_path / "in.las", n=5_000)
    out = tmp_path / "out.copc.laz"
    build_copc(str(las), out)
    text = format_compare(copc_info(las), copc_info(out))
    assert "not a COPC file" in text
    r = run_cli("info", las, out, "--compare", out)
    assert r.returncode == 2 and "--compare takes one FILE" in r.stderr

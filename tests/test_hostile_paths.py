"""Non-ASCII and space-containing paths (issue 6) for inputs, output and
temp folder, through the command line and the API; errors name such paths
as they are."""
from __future__ import annotations

import shutil

import pytest

from copc_builder import InputError, build_copc
from fixtures import write_las
from hostile_helpers import (api_refused, assert_holds_files, cli_refused, listing, run_cli)

FOLDERS = {
    "inputs": "données été 2024/tuile nº1",
    "output": "sortie – 出力 ü",
    "temp": "temp ø 临时 dir",
}


@pytest.fixture
def odd_paths(tmp_path):
    made = {key: tmp_path / name for key, name in FOLDERS.items()}
    for folder in made.values():
        folder.mkdir(parents=True)
    a = write_las(made["inputs"] / "bâtiment Zürich 01.las", n=3000, seed=1)
    b = write_las(made["inputs"] / "ĉu ne? мост 02.laz", n=3000, seed=2, offset=(500_300.0, 4_000_000.0, 0.0))
    return made, [a, b]


def test_odd_paths_cli(odd_paths):
    made, inputs = odd_paths
    out = made["output"] / "résultat final 🌲.copc.laz"
    r = run_cli("build", *inputs, "-o", out, "--temp-dir", made["temp"], "--memory-budget", "1M",
                "--progress", "json")
    assert r.returncode == 0, r.stderr
    assert_holds_files(out, inputs)
    assert listing(made["output"]) == [out.name]
    assert listing(made["temp"]) == []
    v = run_cli("validate", out)
    assert v.returncode == 0, v.stdout + v.stderr
    i = run_cli("info", out)
    assert i.returncode == 0, i.stderr


def test_odd_paths_api(odd_paths):
    made, inputs = odd_paths
    out = made["output"] / "sortie d'été.copc.laz"
    # A budget below the 6,000 points: built out of core, pages spill to the odd temp path.
    summary = build_copc(inputs, out, temp_dir=made["temp"], memory_budget="300K", page_points=256)
    assert summary.points == 6000 and summary.stats["spilled_pages"] > 0
    assert_holds_files(out, inputs)
    assert listing(made["output"]) == [out.name]
    assert listing(made["temp"]) == []


def test_odd_paths_in_errors(tmp_path, odd_paths):
    made, inputs = odd_paths
    bad = made["inputs"] / "vidé à moitié.laz"
    shutil.copy(inputs[1], bad)
    bad.write_bytes(bad.read_bytes()[:2000])
    cli_refused(tmp_path, [inputs[0], bad], "truncated", names=["données été 2024", "vidé à moitié.laz"],
                temp_dir=made["temp"], output=made["output"] / "x y.copc.laz")
    api_refused(tmp_path, [inputs[0], bad], InputError, "truncated", names=["vidé à moitié.laz"],
                temp_dir=made["temp"], output=made["output"] / "x y.copc.laz")


def test_odd_missing_output_folder_named(tmp_path, odd_paths):
    made, inputs = odd_paths
    missing = made["output"] / "n'existe pas" / "ça.copc.laz"
    cli_refused(tmp_path, inputs, "does not exist", names=["n'existe pas"], output=missing,
                temp_dir=made["temp"])

"""Folder and @list inputs: the same bytes as the files listed by hand."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from copc_builder import build_copc
from copc_builder.algorithms.common.errors import InputError
from copc_builder.algorithms.sources.input_paths import expand_inputs, list_folder
from fixtures import write_las
from hostile_helpers import run_cli


class Notes:
    def __init__(self):
        self.messages = []

    def on_message(self, level, text):
        self.messages.append((level, text))


@pytest.fixture(scope="module")
def tiles(tmp_path_factory):
    """Three tiles with names whose sorted order is not their creation order,
    mixed case suffixes, a .copc.laz, a stray text file and a subfolder."""
    d = tmp_path_factory.mktemp("tiles")
    write_las(d / "c.LAZ", n=3_000, seed=3, offset=(500_400.0, 4_000_000.0, 0.0))
    write_las(d / "a.las", n=2_000, seed=1)
    write_las(d / "b.copc.laz", n=2_500, seed=2, offset=(500_000.0, 4_000_400.0, 0.0))
    (d / "readme.txt").write_text("not a point cloud\n")
    (d / "notes.md").write_text("neither\n")
    sub = d / "sub"
    sub.mkdir()
    write_las(sub / "d.laz", n=1_500, seed=4, offset=(500_400.0, 4_000_400.0, 0.0))
    return d


def sorted_tiles(d: Path):
    return [d / "a.las", d / "b.copc.laz", d / "c.LAZ"]


def test_listing_is_sorted_and_counts_what_it_skips(tiles):
    listing = list_folder(str(tiles))
    assert [Path(p).name for p in listing.files] == ["a.las", "b.copc.laz", "c.LAZ"]
    assert listing.skipped == ["notes.md", "readme.txt"] and listing.subfolders == 1
    note = listing.note()
    assert "skipped 2 files" in note and "notes.md" in note and "1 subfolder" in note
    deep = list_folder(str(tiles), recursive=True)
    assert [os.path.relpath(p, tiles) for p in deep.files] == ["a.las", "b.copc.laz", "c.LAZ",
                                                              os.path.join("sub", "d.laz")]


def test_folder_list_and_explicit_give_the_same_bytes(tiles, tmp_path):
    explicit, folder, listed = (tmp_path / f"{n}.copc.laz" for n in ("explicit", "folder", "listed"))
    build_copc([str(p) for p in sorted_tiles(tiles)], explicit)
    notes = Notes()
    build_copc(str(tiles), folder, observer=notes)
    (tmp_path / "lists").mkdir()
    list_file = tmp_path / "lists" / "tiles.txt"
    # Relative to the list file, with comments, blank lines and odd order.
    rel = [os.path.relpath(p, list_file.parent) for p in sorted_tiles(tiles)]
    list_file.write_text(f"# the tiles\n\n{rel[0]}\n  {rel[1]}  \n# c last\n{rel[2]}\n")
    build_copc(f"@{list_file}", listed)
    assert explicit.read_bytes() == folder.read_bytes() == listed.read_bytes()
    skipped = [t for level, t in notes.messages if "skipped" in t]
    assert len(skipped) == 1 and "2 files" in skipped[0]


def test_recursive_takes_subfolders(tiles, tmp_path):
    flat, deep = tmp_path / "flat.copc.laz", tmp_path / "deep.copc.laz"
    assert build_copc(str(tiles), flat).points == 7_500
    assert build_copc([str(tiles)], deep, recursive=True).points == 9_000


def test_output_does_not_depend_on_directory_order(tiles, tmp_path):
    """The same files copied in another order give the same bytes."""
    other = tmp_path / "copied"
    other.mkdir()
    for p in reversed(sorted_tiles(tiles)):
        shutil.copy(p, other / p.name)
    a, b = tmp_path / "a.copc.laz", tmp_path / "b.copc.laz"
    build_copc(str(tiles), a)
    build_copc(str(other), b)
    assert a.read_bytes() == b.read_bytes()


def test_empty_folder_is_a_clear_error(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "x.txt").write_text("x")
    with pytest.raises(InputError, match=r"empty: is a folder with no LAS/LAZ files"):
        build_copc(str(empty), tmp_path / "o.copc.laz")
    (empty / "deeper").mkdir()
    with pytest.raises(InputError, match="recursive"):
        expand_inputs([str(empty)])


def test_missing_listed_file_names_the_list_and_line(tiles, tmp_path):
    list_file = tmp_path / "l.txt"
    list_file.write_text(f"{tiles / 'a.las'}\n# fine\nnot_there.laz\n")
    with pytest.raises(InputError, match=r"l\.txt, line 3: not_there\.laz does not exist"):
        expand_inputs([f"@{list_file}"])
    with pytest.raises(InputError, match="list file does not exist"):
        expand_inputs(f"@{tmp_path / 'nope.txt'}")


def test_output_inside_the_input_folder_is_refused(tiles, tmp_path):
    """Re-running into the input folder must not merge the last output."""
    d = tmp_path / "again"
    shutil.copytree(tiles, d)
    out = d / "merged.copc.laz"
    build_copc(str(d), out)
    with pytest.raises(Exception, match="is also an input"):
        build_copc(str(d), out)


def test_command_line_takes_folder_list_and_recursive(tiles, tmp_path):
    explicit, listed, deep = (tmp_path / f"{n}.copc.laz" for n in ("e", "l", "d"))
    list_file = tmp_path / "all.txt"
    list_file.write_text("\n".join(str(p) for p in sorted_tiles(tiles)) + "\n")
    r = run_cli("build", *sorted_tiles(tiles), "-o", explicit, "--progress", "plain")
    assert r.returncode == 0, r.stderr
    r = run_cli("build", f"@{list_file}", "-o", listed, "--progress", "plain")
    assert r.returncode == 0, r.stderr
    assert explicit.read_bytes() == listed.read_bytes()
    r = run_cli("build", tiles, "--recursive", "-o", deep, "--progress", "plain")
    assert r.returncode == 0 and "9,000 points" in r.stdout, r.stderr
    r = run_cli("build", tmp_path / "missing_folder_or_file", "-o", tmp_path / "x.copc.laz")
    assert r.returncode == 1 and r.stderr.count("\n") == 1



def test_shared_files_by_folder_and_list(shared_data, tmp_path):
    """Real files of one frame: a folder of links, a list and the explicit list agree."""
    folder = tmp_path / "real"
    folder.mkdir()
    names = ["lastools_lake.laz", "lastools_test.laz"]
    for name in names:
        os.symlink(shared_data / name, folder / name)
    list_file = tmp_path / "real.txt"
    list_file.write_text("".join(f"{shared_data / n}\n" for n in names))
    outs = [tmp_path / f"{k}.copc.laz" for k in ("e", "f", "l")]
    build_copc([str(shared_data / n) for n in names], outs[0], a_srs="EPSG:2056")
    build_copc(str(folder), outs[1], a_srs="EPSG:2056")
    build_copc(f"@{list_file}", outs[2], a_srs="EPSG:2056")
    assert outs[0].read_bytes() == outs[1].read_bytes() == outs[2].read_bytes()

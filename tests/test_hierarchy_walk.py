"""copc_file.walk_pages and HierarchyCounts, the one hierarchy walk that the
validator and copc_info share: against the test-side parser on real files,
and on copies whose pages are broken (the walk says why, and goes on), and
what validate_copc and copc_info make of those.
"""

import pytest

from copc_builder.algorithms.copc_file import CopcFile, HierarchyCounts, PageProblem, walk_pages
from copc_builder.algorithms.inspection.info import copc_info
from copc_builder.algorithms.validate import validate_copc
from copc_parse import parse_copc
from fixtures import copy_with_child_page, patch

PAGED = "laspy_simple_with_page.copc.laz"     # a root page and one child page
INFO_ROOT_SIZE = 429 + 48                     # info VLR data at 429; root_hier_size at +48
ENTRY_OFFSET, ENTRY_COUNT = 16, 28


def _walk(path):
    with CopcFile(path) as f:
        info = f.read_info()
        return list(walk_pages(f, info.root_hier_offset, info.root_hier_size))


def _paged_copy(shared_data, tmp_path):
    return copy_with_child_page(shared_data / PAGED, tmp_path)


@pytest.mark.parametrize("name", [PAGED, "copcvalidator_ellipsoid.copc.laz", "pdal_copc_lone-star.copc.laz"])
def test_walk_matches_the_test_parser(shared_data, name):
    parsed = parse_copc(shared_data / name, decode=False)
    pages = _walk(shared_data / name)
    assert all(p.problem is None for p in pages)
    assert sorted((p.offset, p.size) for p in pages) == sorted(parsed.pages)
    assert pages[0].pointer is None and (pages[0].offset, pages[0].size) == (
        parsed.info["root_hier_offset"], parsed.info["root_hier_size"])
    nodes = [e for p in pages for e in p.entries if not e.is_page_pointer]
    got = sorted(((e.key.level, e.key.x, e.key.y, e.key.z), e.offset, e.byte_size, e.point_count)
                 for e in nodes)
    assert got == sorted((n.key, n.offset, n.byte_size, n.point_count) for n in parsed.entries)
    # Every page but the root is reached through a pointer entry to it.
    for page in pages[1:]:
        assert page.pointer.is_page_pointer and (page.pointer.offset, page.pointer.byte_size) == (
            page.offset, page.size)

    counts = HierarchyCounts.of(nodes)
    levels = {}
    for n in parsed.entries:
        row = levels.setdefault(n.key[0], [0, 0])
        row[0] += 1
        row[1] += n.point_count
    assert counts.levels == {lv: tuple(row) for lv, row in sorted(levels.items())}
    assert counts.nodes == len(parsed.entries) and counts.depth == max(levels) + 1
    assert counts.points == sum(n.point_count for n in parsed.entries) == parsed.header["point_count"]


def test_counts_of_nothing():
    assert HierarchyCounts.of([]) == HierarchyCounts(nodes=0, points=0, depth=0, levels={})


def test_pointer_back_to_the_root_page_is_a_loop(shared_data, tmp_path):
    path, parsed, pointer = _paged_copy(shared_data, tmp_path)
    root, size = parsed.info["root_hier_offset"], parsed.info["root_hier_size"]
    patch(path, pointer + ENTRY_OFFSET, "Q", root)
    patch(path, pointer + ENTRY_OFFSET + 8, "i", size)
    pages = _walk(path)
    assert [p.problem for p in pages] == [None, PageProblem.REACHED_TWICE]
    assert pages[1].offset == root and pages[1].entries == []

    report = validate_copc(path)
    assert "hierarchy page at bytes" in str(report.findings) and "is reached twice" in str(report.findings)
    info = copc_info(path)
    assert info["problems"] == [f"hierarchy page at byte {root} is referenced twice"]
    assert info["copc"]["nodes"] is None


def test_child_page_past_the_end(shared_data, tmp_path):
    path, _, pointer = _paged_copy(shared_data, tmp_path)
    end = path.stat().st_size
    patch(path, pointer + ENTRY_OFFSET, "Q", end + 1000)
    pages = _walk(path)
    assert [p.problem for p in pages] == [None, PageProblem.PAST_END]
    assert pages[1].offset == end + 1000 and pages[1].pointer is not None

    info = copc_info(path)
    assert len(info["problems"]) == 1
    assert info["problems"][0].startswith(f"hierarchy page at bytes {end + 1000}..")
    assert info["problems"][0].endswith(f"lies outside the file ({end} bytes)")


def test_root_page_of_a_bad_size(shared_data, tmp_path):
    path, parsed, _ = _paged_copy(shared_data, tmp_path)
    patch(path, INFO_ROOT_SIZE, "Q", 33)
    pages = _walk(path)
    assert [(p.problem, p.size, p.entries) for p in pages] == [(PageProblem.BAD_SIZE, 33, [])]

    root = parsed.info["root_hier_offset"]
    info = copc_info(path)
    assert info["problems"] == [f"hierarchy page at byte {root} has size 33, not a positive multiple of 32"]
    report = validate_copc(path)
    assert "hierarchy.page" in report.checks("error") and report.pages == 0 and report.nodes == 0

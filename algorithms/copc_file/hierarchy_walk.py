"""The one walk over the COPC hierarchy pages, shared by ``validate`` and
``info``: breadth-first from the root page the info VLR names, following each
page pointer (point count -1) of every page that could be read.

The walk judges nothing beyond what it needs to go on: a page reached a
second time, of a size that is not a whole number of entries, or running past
the end of the file is yielded with its ``problem`` and not read.  What to
make of that (a finding, or a reason to stop) is the caller's business.

    for page in walk_pages(f, info.root_hier_offset, info.root_hier_size):
        ...page.problem, page.entries...
    counts = HierarchyCounts.of(node_entries)
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Dict, Iterator, List, Optional, Tuple

from ..format import HIERARCHY_ENTRY_SIZE, HierarchyEntry, level_counts

if TYPE_CHECKING:
    from .reader import CopcFile


class PageProblem(Enum):
    """Why the walk did not read a page."""

    REACHED_TWICE = "reached a second time"
    BAD_SIZE = "size not a positive multiple of the entry size"
    PAST_END = "runs past the end of the file"


@dataclass
class HierarchyPage:
    """One page as the walk reached it."""

    offset: int
    size: int
    pointer: Optional[HierarchyEntry]    # the entry that leads here; None for the root page
    problem: Optional[PageProblem] = None   # why the page was not read, if it was not
    entries: List[HierarchyEntry] = field(default_factory=list)   # page pointers included

    @property
    def end(self) -> int:
        return self.offset + self.size


def walk_pages(f: "CopcFile", root_offset: int, root_size: int) -> Iterator[HierarchyPage]:
    """Every page reached from the root page, in visiting order."""
    seen = set()
    todo = deque([HierarchyPage(root_offset, root_size, None)])
    while todo:
        page = todo.popleft()
        if page.offset in seen:
            page.problem = PageProblem.REACHED_TWICE
        else:
            seen.add(page.offset)     # reached: a second visit is a loop even if this one fails
            page.problem = _extent_problem(f, page)
        if page.problem is None:
            page.entries = f.read_page(page.offset, page.size)
            todo.extend(HierarchyPage(e.offset, e.byte_size, e) for e in page.entries if e.is_page_pointer)
        yield page


def _extent_problem(f: "CopcFile", page: HierarchyPage) -> Optional[PageProblem]:
    if page.size <= 0 or page.size % HIERARCHY_ENTRY_SIZE:
        return PageProblem.BAD_SIZE
    if page.end > f.size:
        return PageProblem.PAST_END
    return None


@dataclass(frozen=True)
class HierarchyCounts:
    """Nodes, points, levels and compressed bytes over node entries (page
    pointers excluded)."""

    nodes: int
    points: int
    depth: int                              # number of levels (deepest level + 1)
    levels: Dict[int, Tuple[int, int]]      # level -> (nodes, points)
    # level -> bytes of its nodes' LAZ chunks (the entries' byte sizes)
    level_bytes: Dict[int, int] = field(default_factory=dict)

    @classmethod
    def of(cls, entries: List[HierarchyEntry]) -> "HierarchyCounts":
        levels = level_counts(entries)
        level_bytes = {level: 0 for level in levels}
        for e in entries:
            if not e.is_page_pointer and e.point_count > 0:
                level_bytes[e.key.level] += max(e.byte_size, 0)
        return cls(nodes=sum(n for n, _ in levels.values()), points=sum(p for _, p in levels.values()),
                   depth=max(levels) + 1 if levels else 0, levels=levels, level_bytes=level_bytes)

"""The writer's byte copying from its spool into the output."""
from __future__ import annotations

import os

import pytest

from copc_builder.algorithms import node_spool
from copc_builder.algorithms.node_spool import copy_range


def test_copy_range_in_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr(node_spool, "COPY_BLOCK", 1000)   # many blocks, a partial last one
    data = os.urandom(10_500)
    src = tmp_path / "spool"
    src.write_bytes(data)
    with open(src, "rb") as s, open(tmp_path / "out", "wb") as d:
        d.write(b"head")
        copy_range(s, 123, 7_777, d)
    assert (tmp_path / "out").read_bytes() == b"head" + data[123:123 + 7_777]


def test_copy_range_short_source_is_an_error(tmp_path):
    src = tmp_path / "spool"
    src.write_bytes(b"x" * 100)
    with open(src, "rb") as s, open(tmp_path / "out", "wb") as d:
        with pytest.raises(OSError, match="ends 50 bytes early"):
            copy_range(s, 50, 100, d)

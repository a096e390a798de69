"""The writer's byte copying from its spool into the output."""
from __future__ import annotations

import os

import pytest

from copc_builder.algorithms.writer import node_spool
from copc_builder.algorithms.writer.node_spool import copy_range


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


def test_a_node_in_two_spools_is_refused(tmp_path):
    """Chunks laid out from several spools (the cluster build's parts): a node
    written by two of them stops the writer, naming both, and leaves no output."""
    import numpy as np

    from copc_builder.algorithms.build.build_stages import ScanStage
    from copc_builder.algorithms.points.columns import Columns
    from copc_builder.algorithms.writer.copc_writer import CopcWriter
    from copc_builder.algorithms.writer.node_spool import NodeSpool
    from copc_builder.algorithms.common.options import BuildOptions
    from copc_builder.algorithms.common.progress import Progress
    from fixtures import write_las

    src = write_las(tmp_path / "in.las", n=100, point_format=6)
    _, plan = ScanStage(str(src), BuildOptions(), Progress(), "test").run()
    cols = Columns.empty(plan.layout.rest_size, 10)
    cols.xyz[:] = plan.header_bounds[0]
    cols.gps[:] = 0.0
    cols.rest[:] = 0
    cube = plan.header_cube()
    out = tmp_path / "out.copc.laz"
    writer = CopcWriter(str(out), plan.header, cube, str(tmp_path))
    other = NodeSpool(plan.layout, str(tmp_path / "other.bin"))
    writer.add_nodes([9], [10], cols, np.arange(10))
    other.add_nodes([9], [10], cols, np.arange(10))
    writer.add_part(other.part())
    with pytest.raises(AssertionError, match=r"node 9 written twice \(.*chunks.bin, .*other.bin\)"):
        try:
            writer.close()
        except AssertionError:
            writer.abort()
            raise
    assert not out.exists() and not [p for p in os.listdir(tmp_path) if p.endswith(".copc_builder-tmp")]


class _Recorder:
    """A batch-capable writer extension that notes where and when it ran."""

    def __init__(self, fail: bool = False):
        import threading

        self.fail, self.seen, self.threads = fail, [], set()
        self._main = threading.get_ident()

    def nodes_records(self, keys, counts, records):
        import threading

        self.threads.add(threading.get_ident() != self._main)
        self.seen.append((list(keys), list(counts), len(records)))
        if self.fail:
            raise ValueError("extension failed")

    def node_records(self, key, first, records):
        raise AssertionError("a batch-capable extension gets whole batches")


@pytest.mark.parametrize("failing", ["none", "extension", "compression"])
def test_batch_extensions_fold_beside_the_compression(tmp_path, monkeypatch, failing):
    """An extension with nodes_records gets each batch's whole nodes in a
    thread of its own while lazrs compresses; its error, or the compressor's,
    reaches the caller, and no thread is left behind either way."""
    import threading

    import lazrs
    import numpy as np

    from copc_builder.algorithms.points.columns import Columns
    from copc_builder.algorithms.writer.node_spool import NodeSpool
    from copc_builder.algorithms.points.point_layout import PointLayout

    layout = PointLayout(6)
    monkeypatch.setattr(node_spool, "BATCH_BYTES", 30 * 50)   # 50 points a batch
    if failing == "compression":
        class Broken:
            def __init__(self, *args):
                pass

            def compress_chunks(self, chunks):
                raise OSError("compression failed")
        monkeypatch.setattr(lazrs, "ParLasZipCompressor", Broken)
    ext = _Recorder(fail=failing == "extension")
    spool = NodeSpool(layout, str(tmp_path / "spool.bin"), [ext])
    cols = Columns.empty(layout.rest_size, 120)
    cols.xyz[:] = np.arange(360).reshape(120, 3)
    cols.gps[:] = np.arange(120.0)
    cols.rest[:] = 1
    try:
        if failing == "none":
            spool.add_nodes([8, 9, 10], [40, 30, 50], cols, np.arange(120))
            spool.flush()
            assert ext.seen == [([8], [40], 40), ([9], [30], 30), ([10], [50], 50)] and ext.threads == {True}
            assert sorted(spool.entries) == [8, 9, 10]
        else:
            with pytest.raises((ValueError, OSError), match=f"{failing} failed"):
                spool.add_nodes([8, 9], [40, 30], cols, np.arange(70))
                spool.flush()
    finally:
        spool.close()
    assert not [t for t in threading.enumerate() if t.name == "copc-builder-fold"]


def test_small_groups_of_nodes_wait_and_are_compressed_together(tmp_path, monkeypatch):
    """Nodes given a few at a time (the tiled build's many small groups) wait
    as records until GATHER_BYTES can go to one compressor call; every node
    is written once, the points counted, and the spool's bytes are those of
    compressing each group as it comes."""
    import lazrs
    import numpy as np

    from copc_builder.algorithms.points.columns import Columns
    from copc_builder.algorithms.points.point_layout import PointLayout
    from copc_builder.algorithms.writer.node_spool import NodeSpool

    layout = PointLayout(6)
    cols = Columns.empty(layout.rest_size, 600)
    cols.xyz[:] = np.arange(1800).reshape(600, 3) * 7 % 1000
    cols.gps[:] = np.arange(600.0)
    cols.rest[:] = np.arange(600 * layout.rest_size).reshape(600, -1) % 7
    real, calls = lazrs.ParLasZipCompressor, []

    class Counting:
        """lazrs's parallel compressor, noting how many chunks each call gets."""

        def __init__(self, dest, vlr):
            self._inner = real(dest, vlr)

        def compress_chunks(self, chunks):
            calls.append(len(chunks))
            self._inner.compress_chunks(chunks)

        def done(self):
            self._inner.done()

    monkeypatch.setattr(lazrs, "ParLasZipCompressor", Counting)

    def spool_bytes(name, gather):
        monkeypatch.setattr(node_spool, "GATHER_BYTES", gather)
        calls.clear()
        spool = NodeSpool(layout, str(tmp_path / name))
        for g in range(12):   # twelve groups of two nodes of 25 points
            spool.add_nodes([16 + 2 * g, 17 + 2 * g], [25, 25], cols, np.arange(50 * g, 50 * g + 50))
        part = spool.part()
        spool.close()
        return (tmp_path / name).read_bytes(), part, list(calls)

    alone, alone_part, alone_calls = spool_bytes("alone.bin", 0)
    together, part, calls = spool_bytes("together.bin", 6 * 50 * layout.record_size)
    assert alone_calls == [2] * 12 and calls == [12, 12]
    assert together == alone and part.entries == alone_part.entries
    assert sorted(part.entries) == list(range(16, 40)) and part.points == 600

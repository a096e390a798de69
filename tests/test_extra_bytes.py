"""Extra Bytes as the LAS 1.4 specification (R15, R16) has them: min and max
of the raw stored values, upcast by type, the rest of each descriptor as
the input gave it; and every Extra Bytes VLR of an input read, in order.

Checked against numpy on the stored bytes (tests/reference.py) and read
back with laspy's ExtraBytesStruct; never through the builder's own code.
"""
from __future__ import annotations

import shutil

import laspy
import numpy as np
import pytest

from conftest import SHARED_DATA
from copc_builder import build_copc, copc_info, validate_copc
from copc_parse import parse_copc
from fixtures import TYPED_EXTRA, UNUSUAL_BYTES, split_extra_bytes_vlr, write_rich, write_typed_extra
from reference import (assert_extra_ranges, copc_records, extra_descriptors, las_records, raw_range,
                       sorted_rows)

SEVERAL = SHARED_DATA / "pdal_laz_las_with_several_extra_byte_bloc.laz"


def build_valid(inputs, out, **options):
    build_copc([str(p) for p in inputs], str(out), **options)
    report = validate_copc(out)
    assert report.ok and not report.warnings, "\n".join(map(str, report.findings))
    return out


def test_min_max_are_the_raw_values_upcast_by_type(tmp_path):
    src = write_typed_extra(tmp_path / "typed.las")
    out = build_valid([src], tmp_path / "typed.copc.laz")
    written = assert_extra_ranges(out, [src])
    # The deprecated arrays (types 20 and 23) become their members, as R15 recommends.
    assert list(written) == [f"{name}[{i}]" if np.dtype(t).shape else name for name, t, _ in TYPED_EXTRA
                             for i in range(np.dtype(t).shape[0] if np.dtype(t).shape else 1)]
    assert [written["pair[0]"][2], written["triple[2]"][2]] == [10, 3]       # double, uint16
    # The spec's words, checked directly on the bytes: 64-bit integers keep
    # every digit (both ends of their types are in the fixture), and the
    # fields the spec says must be zero pass through as the input had them.
    for name, kind, low, high in (("u8v", "<u8", 0, 2**64 - 1), ("i8v", "<i8", -2**63, 2**63 - 1)):
        assert np.frombuffer(written[name], kind, 1, 64)[0] == low
        assert np.frombuffer(written[name], kind, 1, 88)[0] == high
    for at, raw in UNUSUAL_BYTES.items():
        assert written["u4v"][at:at + len(raw)] == raw
    # no_data stays as it was: 0, -9999.5 and [1, 2, 3] (values the points hold, not in the range).
    assert np.frombuffer(written["u2v"], "<u8", 1, 40)[0] == 0 and written["u2v"][3] & 1
    assert np.frombuffer(written["f4v"], "<f8", 1, 40)[0] == -9999.5
    assert [np.frombuffer(written[f"triple[{i}]"], "<u8", 1, 40)[0] for i in range(3)] == [1, 2, 3]
    records = las_records(src)
    assert _laspy_ranges(out) == _laspy_ranges_wanted(records, src)


def _laspy_ranges(path):
    """laspy's own reading of the output's descriptors: (min, max, no_data) by name."""
    with laspy.open(str(path)) as r:
        structs = [s for v in r.header.vlrs if isinstance(v, laspy.vlrs.known.ExtraBytesVlr)
                   for s in v.extra_bytes_structs]
    return {s.format_name(): [np.asarray(x).tolist() if x is not None else None
                              for x in (s.min, s.max, s.no_data)] for s in structs}


def _laspy_ranges_wanted(records, src):
    """What laspy must read: the raw range cast to the element type, scaled
    where the descriptor says so (laspy applies scale and offset itself)."""
    with laspy.open(str(src)) as r:
        dims = {d.name: d for d in r.header.point_format.extra_dimensions}
    want, at = {}, 30
    for name, t, params in TYPED_EXTRA:
        dt = np.dtype(t)
        element = dt.base.newbyteorder("<")
        count = dt.shape[0] if dt.shape else 1
        values = np.ascontiguousarray(records[:, at:at + dt.itemsize]).view(element).reshape(-1, count)
        at += dt.itemsize
        no_data = params.get("no_data")
        storage = {"u": np.uint64, "i": np.int64, "f": np.float64}[element.kind]
        lo, hi = raw_range(values, None if no_data is None else np.array(no_data, storage))
        lo, hi = lo.astype(element), hi.astype(element)
        if dims[name].scales is not None:
            lo, hi = lo * dims[name].scales + dims[name].offsets, hi * dims[name].scales + dims[name].offsets
        nd = None if no_data is None else np.array(no_data, storage).astype(element).tolist()
        if count == 1:
            want[name] = [lo.tolist(), hi.tolist(), nd]
        for i in range(count if count > 1 else 0):      # an array: its members, as the output has them
            want[f"{name}[{i}]"] = [[lo[i].tolist()], [hi[i].tolist()], None if nd is None else [nd[i]]]
    return want


def test_merge_of_two_inputs_gives_the_range_over_both(tmp_path):
    a = write_typed_extra(tmp_path / "a.las", n=3_000, seed=1, shift=-40)
    b = write_typed_extra(tmp_path / "b.las", n=2_000, seed=2, shift=40)
    out = build_valid([a, b], tmp_path / "ab.copc.laz", memory_budget="16M", leaf_limit=500)
    written = assert_extra_ranges(out, [a, b])
    # The merge matters: for the integers, the min is a's and the max b's.
    ra, rb = las_records(a), las_records(b)
    for name, at in (("u1v", 30), ("i2v", 30 + 1 + 2 + 4 + 8 + 1)):
        kind = "u1" if name == "u1v" else "<i2"
        va = np.ascontiguousarray(ra[:, at:at + np.dtype(kind).itemsize]).view(kind)
        vb = np.ascontiguousarray(rb[:, at:at + np.dtype(kind).itemsize]).view(kind)
        storage = "<u8" if name == "u1v" else "<i8"
        assert np.frombuffer(written[name], storage, 1, 64)[0] == va.min() < vb.min()
        assert np.frombuffer(written[name], storage, 1, 88)[0] == vb.max() > va.max()


def test_same_descriptors_whatever_the_memory_budget(tmp_path):
    src = write_typed_extra(tmp_path / "typed.las", n=20_000, seed=3)
    big = build_valid([src], tmp_path / "big.copc.laz", leaf_limit=300)
    small = build_valid([src], tmp_path / "small.copc.laz", memory_budget="3M", leaf_limit=300, threads=1)
    assert big.read_bytes() == small.read_bytes()


# -- several Extra Bytes VLRs -------------------------------------------------------

def check_every_vlr_read(src, out, want):
    """``out`` built from ``src`` (whose Extra Bytes VLRs, several, describe
    ``want`` [(name, numpy type)]): one Extra Bytes VLR naming them all with
    their types, the records byte for byte the input's."""
    copc = parse_copc(out, decode=False)
    eb = [r for r in copc.vlrs + copc.evlrs if (r["user_id"], r["record_id"]) == ("LASF_Spec", 4)]
    assert len(eb) == 1 and eb[0]["size"] == 192 * len(want)
    with laspy.open(str(out)) as r:
        assert [(d.name, d.dtype) for d in r.header.point_format.extra_dimensions] == \
            [(name, np.dtype(t)) for name, t in want]
    assert [d[4:36].rstrip(b"\0").decode() for d in extra_descriptors(src)] == [name for name, _ in want]
    assert_extra_ranges(out, [src])
    got, given = copc_records(str(out)), las_records(src)
    assert got.shape == given.shape and np.array_equal(sorted_rows(got), sorted_rows(given))


def two_vlr_input(folder):
    """A LAS 1.4 format-8 file whose 'Deviation' (uint16) and 'confidence'
    (uint8) are described in two Extra Bytes VLRs, as PDAL writes them."""
    src = write_rich(folder / "two_vlrs.las", point_format=8, n=5_000, seed=4, crs="EPSG:32631",
                     extra=[("Deviation", "u2"), ("confidence", "u1")])
    return split_extra_bytes_vlr(src)


def test_every_extra_bytes_vlr_is_read(tmp_path):
    src = two_vlr_input(tmp_path)
    with laspy.open(str(src)) as r:      # laspy alone reads the first VLR only
        assert [d.name for d in r.header.point_format.extra_dimensions] == ["Deviation", "ExtraBytes"]
    assert [(d["name"], d["type"]) for d in copc_info(src)["extra_dims"]] == [("Deviation", "u2"),
                                                                               ("confidence", "u1")]
    out = build_valid([src], tmp_path / "out.copc.laz")
    check_every_vlr_read(src, out, [("Deviation", "u2"), ("confidence", "u1")])


def test_a_second_vlr_named_twice_is_refused(tmp_path):
    src = two_vlr_input(tmp_path)
    data = bytearray(src.read_bytes())
    second = data.find(b"confidence")
    data[second:second + 10] = b"Deviation\0"
    src.write_bytes(bytes(data))
    from copc_builder import InputError

    with pytest.raises(InputError, match="two extra-bytes descriptors are named 'Deviation'") as info:
        build_copc([str(src)], str(tmp_path / "out.copc.laz"))
    assert str(src) in str(info.value)
    assert not (tmp_path / "out.copc.laz").exists()


@pytest.mark.skipif(not SEVERAL.is_file(), reason="../shared/data not present")
def test_pdal_file_with_several_extra_byte_vlrs(tmp_path):
    src = tmp_path / SEVERAL.name
    shutil.copyfile(SEVERAL, src)
    out = build_valid([src], tmp_path / "several.copc.laz")
    check_every_vlr_read(src, out, [("Deviation", "u2"), ("confidence", "u1")])
    info = copc_info(out)
    assert [(d["name"], d["type"], d["data_type"]) for d in info["extra_dims"]] == \
        [("Deviation", "u2", 3), ("confidence", "u1", 1)]


def test_a_no_data_its_type_cannot_hold_is_written_as_the_types_bytes(tmp_path):
    """A uint16 whose no_data reads 0xFFFFFFFFFFFFFFFF (as in PDAL's
    1.2-empty-geotiff-vlrs.las) is written as 65535: the spec's upcast holds
    only values of the type, and copc.js refuses integers beyond 2**53."""
    from js_readers import assert_read_completely, copcjs_reports, require_node

    src = write_rich(tmp_path / "nodata.las", point_format=6, n=2_000, seed=7, crs="EPSG:32631",
                     extra=[("Deviation", "u2")])
    data = bytearray(src.read_bytes())
    at = data.index(b"Deviation\0") - 4                 # the descriptor starts 4 bytes before its name
    data[at + 3] |= 1                                  # no_data bit
    data[at + 40:at + 48] = b"\xff" * 8
    src.write_bytes(bytes(data))
    out = build_valid([src], tmp_path / "nodata.copc.laz")
    written = assert_extra_ranges(out, [src])
    assert np.frombuffer(written["Deviation"], "<u8", 1, 40)[0] == 65535 and written["Deviation"][3] & 1
    require_node()
    assert_read_completely(out, copcjs_reports([out])[str(out)])

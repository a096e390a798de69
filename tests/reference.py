"""Test-side references: what the output's records must be, and checks of a
COPC file with readers we did not write.

``expected_records`` converts an input file to the output point format with
laspy's field accessors, written from the LAS 1.4 spec and sharing no code
with the builder's converter.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import laspy
import numpy as np

from copc_parse import parse_copc

# LAS 1.4 record layout of formats 6/7/8 (offset, numpy type) by field.
_LAYOUT = [("X", 0, "<i4"), ("Y", 4, "<i4"), ("Z", 8, "<i4"), ("intensity", 12, "<u2"),
           ("returns", 14, "u1"), ("flags", 15, "u1"), ("classification", 16, "u1"),
           ("user_data", 17, "u1"), ("scan_angle", 18, "<i2"), ("point_source_id", 20, "<u2"),
           ("gps_time", 22, "<f8")]
_BASE = {6: 30, 7: 36, 8: 38}
_RGB = {0: False, 1: False, 2: True, 3: True, 4: False, 5: True, 6: False, 7: True, 8: True,
        9: False, 10: True}
_NIR = {8, 10}


def output_format_for(point_formats: Sequence[int]) -> int:
    if any(pf in _NIR for pf in point_formats):
        return 8
    if any(_RGB[pf] for pf in point_formats):
        return 7
    return 6


def expected_layout(paths: Sequence) -> Tuple[int, List[Tuple[str, int]]]:
    """(point format, [(extra name, byte size)]) a COPC made from these LAS/LAZ
    files must have: the smallest of 6/7/8 holding every input's colours and
    NIR, and every input's extra dimensions by name, in order of first
    appearance."""
    formats, extra = [], []
    for p in paths:
        with laspy.open(str(p)) as r:
            formats.append(r.header.point_format.id)
        for name, size, _ in input_extra_dims(p):
            if name not in [n for n, _ in extra]:
                extra.append((name, size))
    return output_format_for(formats), extra


# numpy type of each Extra Bytes data type 1-10 (LAS 1.4 table "Values for
# data_type"); 11-20 and 21-30 are 2 and 3 of type t-10 and t-20 (R13, deprecated).
_EB_TYPES = {1: "u1", 2: "i1", 3: "<u2", 4: "<i2", 5: "<u4", 6: "<i4", 7: "<u8", 8: "<i8", 9: "<f4", 10: "<f8"}


def descriptor_types(d: bytes) -> Tuple[int, Optional[np.dtype], int, Optional[np.dtype]]:
    """(bytes per point, element type, elements, storage type of no_data/min/max)
    of a 192-byte descriptor; the types are None for undocumented bytes (type 0).
    Storage as LAS 1.4 R15 says: uint64, int64 or double."""
    data_type, options = d[2], d[3]
    if data_type == 0:
        return options, None, options, None
    element = np.dtype(_EB_TYPES[(data_type - 1) % 10 + 1])
    count = 1 + (data_type - 1) // 10
    return element.itemsize * count, element, count, np.dtype({"u": "<u8", "i": "<i8", "f": "<f8"}[element.kind])


def extra_descriptors(path) -> List[bytes]:
    """The 192-byte descriptors of every Extra Bytes VLR of a LAS file, in
    file order, cut from the VLRs' raw bytes (laspy types only the first VLR)."""
    with laspy.open(str(path)) as r:
        raws = [v.record_data_bytes() for v in r.header.vlrs
                if v.user_id == "LASF_Spec" and v.record_id == 4]
    return [raw[at:at + 192] for raw in raws for at in range(0, len(raw), 192)]


def as_written(d: bytes) -> List[bytes]:
    """The descriptors an output carries for one input descriptor, as LAS 1.4
    R15 has them: a deprecated array type (11-30) as one descriptor per member
    of the base type, named "name[i]", with the member's no_data, min, max,
    scale and offset (the arrays' i-th 8 bytes); an integer no_data, min or
    max (options bits 0-2) its type cannot hold as the type's low bytes."""
    data_type = d[2]
    if 11 <= data_type <= 30:
        count, base = (2, data_type - 10) if data_type <= 20 else (3, data_type - 20)
        name = d[4:36].split(b"\0", 1)[0]
        members = []
        for i in range(count):
            index = b"[%d]" % i
            m = bytearray(192)
            m[0:2], m[2], m[3] = d[0:2], base, d[3]
            m[4:36] = (name[:32 - len(index)] + index).ljust(32, b"\0")
            m[36:40], m[160:192] = d[36:40], d[160:192]
            for at in (40, 64, 88, 112, 136):               # no_data, min, max, scale, offset
                m[at:at + 8] = d[at + 8 * i:at + 8 * i + 8]
            members.extend(as_written(bytes(m)))
        return members
    _, element, _, storage = descriptor_types(d)
    if element is None or element.kind == "f":
        return [d]
    fitted = bytearray(d)
    for bit, at in ((1, 40), (2, 64), (4, 88)):
        value = int(np.frombuffer(d, storage, 1, at)[0])
        if d[3] & bit and not np.iinfo(element).min <= value <= np.iinfo(element).max:
            fitted[at:at + 8] = np.frombuffer(d, element, 1, at).astype(storage).tobytes()
    return [bytes(fitted)]


def written_extra_descriptors(path) -> List[bytes]:
    """The descriptors an output of this LAS file carries (``as_written`` of each)."""
    return [m for d in extra_descriptors(path) for m in as_written(d)]


def input_extra_dims(path) -> List[Tuple[str, int, int]]:
    """[(name, byte size, offset in the record)] of a LAS file's extra bytes as
    an output carries them: every descriptor of every Extra Bytes VLR (array
    types as their members), then the bytes none describes as "ExtraBytes"
    (laspy's name)."""
    with laspy.open(str(path)) as r:
        pf = r.header.point_format
        record, at = pf.size, pf.size - sum(int(d.num_bits // 8) for d in pf.extra_dimensions)
    dims = []
    for d in written_extra_descriptors(path):
        size = descriptor_types(d)[0]
        dims.append((d[4:36].split(b"\0", 1)[0].decode("ascii", "replace"), size, at))
        at += size
    if at < record:
        dims.append(("ExtraBytes", record - at, at))
    return dims


def finest_scales(paths: Sequence) -> np.ndarray:
    """The finest scale of the inputs, per axis."""
    scales = []
    for p in paths:
        with laspy.open(str(p)) as r:
            scales.append(np.array(r.header.scales, np.float64))
    return np.min(scales, axis=0)


def _field(las, name, default=0):
    try:
        return np.asarray(las[name])
    except (ValueError, KeyError):
        return np.full(len(las.points), default)


def expected_records(paths: Sequence[str], out_format: int, scales, offsets,
                     extra: Sequence[Tuple[str, int]]) -> np.ndarray:
    """Records (n, record_size) uint8 the COPC must hold, in input order.

    extra: output extra dimensions as (name, byte size), in record order.
    """
    parts = []
    for path in paths:
        las = laspy.read(path)
        pf = las.header.point_format.id
        n = len(las.points)
        size = _BASE[out_format] + sum(s for _, s in extra)
        rec = np.zeros((n, size), np.uint8)

        def put(offset, values, dtype):
            v = np.ascontiguousarray(np.asarray(values).astype(dtype))
            rec[:, offset:offset + np.dtype(dtype).itemsize] = v.view(np.uint8).reshape(n, -1)

        same = np.allclose(las.header.scales, scales, rtol=0, atol=0) and \
            np.allclose(las.header.offsets, offsets, rtol=0, atol=0)
        for axis, name in enumerate("XYZ"):
            if same:
                put(axis * 4, las.points.array[name], "<i4")
            else:
                real = las.points.array[name] * las.header.scales[axis] + las.header.offsets[axis]
                put(axis * 4, np.rint((real - offsets[axis]) / scales[axis]), "<i4")
        put(12, las.intensity, "<u2")
        rn = np.asarray(las.return_number).astype(np.uint8)
        nr = np.asarray(las.number_of_returns).astype(np.uint8)
        put(14, (rn & 15) | ((nr & 15) << 4), "u1")
        flags = (np.asarray(las.synthetic).astype(np.uint8)
                 | (np.asarray(las.key_point).astype(np.uint8) << 1)
                 | (np.asarray(las.withheld).astype(np.uint8) << 2)
                 | (_field(las, "overlap").astype(np.uint8) << 3)
                 | ((_field(las, "scanner_channel").astype(np.uint8) & 3) << 4)
                 | (np.asarray(las.scan_direction_flag).astype(np.uint8) << 6)
                 | (np.asarray(las.edge_of_flight_line).astype(np.uint8) << 7))
        put(15, flags, "u1")
        put(16, las.classification, "u1")
        put(17, las.user_data, "u1")
        if pf >= 6:
            put(18, las.points.array["scan_angle"], "<i2")
        else:
            # LAS 1.4: scan angle in 0.006 degree units (legacy: whole degrees)
            put(18, np.rint(las.points.array["scan_angle_rank"].astype(np.float64) / 0.006), "<i2")
        put(20, las.point_source_id, "<u2")
        put(22, _field(las, "gps_time", 0.0), "<f8")
        if out_format in (7, 8) and _RGB[pf]:
            put(30, las.red, "<u2")
            put(32, las.green, "<u2")
            put(34, las.blue, "<u2")
        if out_format == 8 and pf in _NIR:
            put(36, las.nir, "<u2")
        in_extra = {name: at for name, _, at in input_extra_dims(path)}
        in_records = np.ascontiguousarray(las.points.array).view(np.uint8).reshape(n, -1)
        offset = _BASE[out_format]
        for name, nbytes in extra:
            if name in in_extra:
                rec[:, offset:offset + nbytes] = in_records[:, in_extra[name]:in_extra[name] + nbytes]
            offset += nbytes
        parts.append(rec)
    return np.concatenate(parts)


def canonical_key(i, gkeys, codes, xyz, rest) -> tuple:
    """The canonical order of point i within a node, as a Python sort key:
    GPS sort key, then fine Morton code, then X Y Z, then the rest bytes."""
    return (int(gkeys[i]), int(codes[i]), tuple(int(v) for v in xyz[i]), bytes(rest[i]))


def sorted_rows(records: np.ndarray) -> np.ndarray:
    """Rows sorted as byte strings, for comparing multisets of records."""
    records = np.ascontiguousarray(records)
    rows = records.view(np.dtype((np.void, records.shape[1]))).ravel()
    return np.sort(rows)


def copc_records(path: str) -> np.ndarray:
    """All records of a COPC file, read with laspy's CopcReader."""
    with laspy.CopcReader.open(path) as reader:
        points = reader.query()
        expected = reader.header.point_count
    array = np.ascontiguousarray(points.array)
    assert len(array) == expected, f"CopcReader read {len(array)} of {expected} points"
    return array.view(np.uint8).reshape(len(array), -1)


def same_points(a, b) -> None:
    """The COPCs at ``a`` and ``b`` hold the same records, in any order."""
    ra, rb = copc_records(str(a)), copc_records(str(b))
    assert ra.shape == rb.shape, (ra.shape, rb.shape)
    assert np.array_equal(sorted_rows(ra), sorted_rows(rb)), "records differ"


def copclib_total(path: str) -> Tuple[int, int]:
    """(points read node by node with copclib, header point count)."""
    import copclib

    reader = copclib.FileReader(path)
    total = 0
    for node in reader.GetAllNodes():
        data = reader.GetPointData(node)
        total += len(data) // reader.copc_config.las_header.point_record_length
    return total, reader.copc_config.las_header.point_count


def check_nodes_contain_points(path: str) -> Dict:
    """Every point strictly inside its node's cube (a point on a face is
    outside; no tolerance), checked with the test-side parser.  The builder
    puts the faces on half-units of the scale, where no point can lie.
    Returns the parsed file."""
    copc = parse_copc(path)
    info = copc.info
    center = np.array(info["center"])
    half = info["halfsize"]
    scale = np.array(copc.header["scale"])
    offset = np.array(copc.header["offset"])
    total = 0
    for node in copc.nodes:
        level, x, y, z = node.key
        side = 2 * half / 2 ** level
        lo = center - half + np.array([x, y, z]) * side
        hi = lo + side
        pts = node.points
        real = np.stack([pts["X"] * scale[0] + offset[0], pts["Y"] * scale[1] + offset[1],
                         pts["Z"] * scale[2] + offset[2]], axis=1)
        outside = np.any((real <= lo) | (real >= hi), axis=1)
        assert not outside.any(), (f"{path}: node {node.key}: {int(outside.sum())} points outside "
                                   f"[{lo}, {hi}], first {real[outside][0]}")
        assert len(pts) == node.point_count
        total += len(pts)
    assert total == copc.header["point_count"]
    assert sum(c for c, _ in copc.chunk_table) == total
    return copc


def wkt_written(path) -> str:
    """The text of the output's WKT VLR (LASF_Projection 2112), '' when there is none."""
    with laspy.open(str(path)) as r:
        for vlr in r.header.vlrs:
            if vlr.user_id == "LASF_Projection" and vlr.record_id == 2112:
                return vlr.string.rstrip("\0")
    return ""


def extra_ranges_written(path) -> Dict[str, Tuple[np.ndarray, np.ndarray, np.ndarray, Optional[np.ndarray]]]:
    """{name: (min, max, values, no_data)} of each typed extra dimension of a COPC whose
    descriptor sets min and max (options bits 1 and 2), read from the bytes as
    LAS 1.4 R15 lays them out: min and max upcast to uint64 (unsigned types),
    int64 (signed) or double (float), one per element for the array types
    11-30; values: the raw stored values (no scale, no offset), n x elements,
    cut from the records laspy's CopcReader decodes; no_data as stored, None
    when its bit is not set."""
    out = {}
    base = _BASE[parse_copc(path, decode=False).header["point_format"]]
    records = copc_records(str(path))
    for d in copc_descriptors(path):
        size, element, count, storage = descriptor_types(d)
        if element is not None and d[3] & 0b110 == 0b110:
            values = np.ascontiguousarray(records[:, base:base + size]).view(element).reshape(-1, count)
            no_data = np.frombuffer(d, storage, count, 40) if d[3] & 1 else None
            out[d[4:36].split(b"\0", 1)[0].decode()] = (np.frombuffer(d, storage, count, 64),
                                                          np.frombuffer(d, storage, count, 88), values, no_data)
        base += size
    return out


def raw_range(values: np.ndarray, no_data: Optional[np.ndarray] = None
              ) -> Optional[Tuple[np.ndarray, np.ndarray]]:
    """(min, max) per element (column) of raw extra-bytes values, upcast as
    the LAS spec says (uint64, int64, double), NaN and values equal to
    ``no_data`` (stored upcast) left out; None when an element has no other
    value.  numpy's own reductions, never through float64 for integers."""
    storage = {"u": np.uint64, "i": np.int64, "f": np.float64}[values.dtype.kind]
    lo, hi = [], []
    for e in range(values.shape[1]):
        v = values[:, e]
        if values.dtype.kind == "f":
            v = v[~np.isnan(v)]
            if no_data is not None:
                v = v[v != no_data[e].astype(values.dtype)]
        elif no_data is not None:
            v = v[v.astype(storage) != no_data[e]]
        if not len(v):
            return None
        lo.append(v.min().astype(storage))
        hi.append(v.max().astype(storage))
    return np.array(lo, storage), np.array(hi, storage)


def copc_descriptors(path) -> List[bytes]:
    """The 192-byte descriptors of every Extra Bytes (E)VLR of a COPC file, in
    file order, cut from its bytes where the test-side parser finds them."""
    copc = parse_copc(path, decode=False)
    data = Path(path).read_bytes()
    return [data[at:at + 192] for r in copc.vlrs + copc.evlrs if (r["user_id"], r["record_id"]) == ("LASF_Spec", 4)
            for at in range(r["offset"], r["offset"] + r["size"], 192)]


def las_records(path) -> np.ndarray:
    """A LAS/LAZ file's records as stored (n x record length, uint8), read with laspy."""
    array = np.ascontiguousarray(laspy.read(str(path)).points.array)
    return array.view(np.uint8).reshape(len(array), -1)


def assert_extra_ranges(output, inputs) -> Dict[str, bytes]:
    """The COPC's Extra Bytes descriptors against its inputs' stored bytes:
    min and max (options bits 1 and 2 set) are the range over every input's
    raw values (LAS 1.4 R15: upcast to uint64, int64 or double; NaN and
    no_data left out); every other byte as the first input holding the
    dimension gave it (``as_written``: array types as their members).
    Returns them by name."""
    out = {d[4:36].split(b"\0", 1)[0].decode(): d for d in copc_descriptors(output)}
    given, values = {}, {}
    for path in inputs:
        records = las_records(path)
        for d, (name, size, at) in zip(written_extra_descriptors(path), input_extra_dims(path)):
            given.setdefault(name, d)
            values.setdefault(name, []).append(records[:, at:at + size])
    for name, d_in in given.items():
        d_out = out[name]
        _, element, count, storage = descriptor_types(d_in)
        if element is None:
            assert d_out == d_in, name
            continue
        stored = np.ascontiguousarray(np.concatenate(values[name])).view(element).reshape(-1, count)
        want = raw_range(stored, np.frombuffer(d_in, storage, count, 40) if d_in[3] & 1 else None)
        if want is None:
            assert d_out == d_in, name
            continue
        assert np.frombuffer(d_out, storage, count, 64).tobytes() == want[0].tobytes(), (name, "min")
        assert np.frombuffer(d_out, storage, count, 88).tobytes() == want[1].tobytes(), (name, "max")
        assert d_out[3] == d_in[3] | 0b110, name
        rest = [(0, 3), (4, 64), (64 + 8 * count, 88), (88 + 8 * count, 192)]
        assert [d_out[a:b] for a, b in rest] == [d_in[a:b] for a, b in rest], name
    return out

"""Every item of a .vpc validates against the STAC Item 1.0.0 schema and the
pointcloud (v1.0.0) and projection (v1.1.0) extension schemas, offline, with
the pinned copies in tests/data/stac (see its README)."""
import json
from pathlib import Path

import pytest

from copc_builder.algorithms.api import build_copc
from fixtures import write_rich

jsonschema = pytest.importorskip("jsonschema")

SCHEMAS = Path(__file__).parent / "data" / "stac"
ITEM = "https://schemas.stacspec.org/v1.0.0/item-spec/json-schema/item.json"


def load_schemas():
    out = {}
    for path in SCHEMAS.glob("*.json"):
        schema = json.loads(path.read_text())
        out[schema["$id"].rstrip("#")] = schema
    return out


def validator_for(uri: str, schemas):
    """A draft-07 validator of ``uri`` whose $refs resolve in ``schemas`` only (no network)."""
    schema = schemas[uri]
    try:
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT7

        registry = Registry().with_resources(
            [(u, Resource.from_contents(s, default_specification=DRAFT7)) for u, s in schemas.items()]
            + [(u + "#", Resource.from_contents(s, default_specification=DRAFT7)) for u, s in schemas.items()])
        return jsonschema.Draft7Validator(schema, registry=registry)
    except ImportError:   # jsonschema before 4.18 (Debian 12's 4.10)
        store = dict(schemas)
        store.update({u + "#": s for u, s in schemas.items()})
        resolver = jsonschema.RefResolver(base_uri=uri, referrer=schema, store=store)
        return jsonschema.Draft7Validator(schema, resolver=resolver)


@pytest.fixture(scope="module")
def vpc(tmp_path_factory):
    folder = tmp_path_factory.mktemp("vpc_schema")
    src = write_rich(folder / "a.laz", point_format=8, n=8000, crs="EPSG:2056", offset=(2600000.0, 1200000.0, 0.0),
                     origin=(2683000.0, 1247000.0, 400.0), extent=(399.0, 399.0, 30.0), extra=[("amplitude", "f4")])
    build_copc([str(src)], folder / "a.vpc", tile_size=200, leaf_limit=1000)
    return json.loads((folder / "a.vpc").read_text())


def test_every_item_is_a_valid_stac_item_with_both_extensions(vpc):
    schemas = load_schemas()
    uris = [ITEM] + [u for u in schemas if "stac-extensions" in u]
    assert len(uris) == 3
    assert len(vpc["features"]) == 4
    for item in vpc["features"]:
        assert sorted(item["stac_extensions"]) == sorted(u for u in uris if u != ITEM)
        for uri in uris:
            errors = sorted(validator_for(uri, schemas).iter_errors(item), key=str)
            assert not errors, f"{item['id']} against {uri}: {errors[0].message}"


def test_the_schemas_do_reject_a_broken_item(vpc):
    """The validation can fail: a count that is not an integer, a bad dimension type, no datetime."""
    schemas = load_schemas()
    pointcloud = next(u for u in schemas if "pointcloud" in u)
    item = json.loads(json.dumps(vpc["features"][0]))
    item["properties"]["pc:count"] = "many"
    assert list(validator_for(pointcloud, schemas).iter_errors(item))
    item = json.loads(json.dumps(vpc["features"][0]))
    item["properties"]["pc:schemas"][0]["type"] = "double"
    assert list(validator_for(pointcloud, schemas).iter_errors(item))
    item = json.loads(json.dumps(vpc["features"][0]))
    del item["properties"]["datetime"]
    assert list(validator_for(ITEM, schemas).iter_errors(item))


def test_items_carry_what_qgis_340_reads(vpc):
    """qgsvirtualpointcloudprovider.cpp (3.40) parseFile: stac_version "1.0.0", the first asset with an
    href is the data and an href starting with "./" is resolved, proj:epsg as an integer, proj:bbox of
    6 numbers, a Polygon geometry, pc:schemas names."""
    for item in vpc["features"]:
        assert item["stac_version"] == "1.0.0"
        first = next(iter(item["assets"].values()))
        assert first["roles"] == ["data"] and first["href"].startswith("./")
        assert isinstance(item["properties"]["proj:epsg"], int)
        assert len(item["properties"]["proj:bbox"]) == 6 and item["geometry"]["type"] == "Polygon"
        names = [d["name"] for d in item["properties"]["pc:schemas"]]
        assert {"Classification", "Red", "Infrared", "GpsTime", "amplitude"} <= set(names)

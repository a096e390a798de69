"""A tiled build to s3:// (the tiles and the overview uploaded, the .vpc
last), and a .vpc on a server (s3://, http://) read through the storage
layer: as input, by validate and by info.  Real servers on loopback
(tests/storage_servers.py): moto's S3 behind a front that logs, counts and
breaks requests, and an HTTP server with Range support."""
from __future__ import annotations

import pytest

from copc_builder.algorithms.format.vpc_record import resolve_href


@pytest.mark.parametrize("vpc, href, member", [
    ("s3://b/p/out.vpc", "./out-tiles/t.copc.laz", "s3://b/p/out-tiles/t.copc.laz"),
    ("s3://b/out.vpc", "./out-tiles/t.copc.laz", "s3://b/out-tiles/t.copc.laz"),
    ("s3://b/p/q/out.vpc", "../t.laz", "s3://b/p/t.laz"),
    ("s3://b/p/out.vpc", "/t.laz", "s3://b/t.laz"),
    ("s3://b/p/out.vpc", "t.laz", "s3://b/p/t.laz"),
    ("S3://b/p/out.vpc", "./t.laz", "S3://b/p/t.laz"),
    ("https://reader:pw@h:8080/a/out.vpc?sig=x", "./out-tiles/t.copc.laz",
     "https://reader:pw@h:8080/a/out-tiles/t.copc.laz"),
    ("http://h/out.vpc", "./t.laz", "http://h/t.laz"),
    ("s3://b/p/out.vpc", "https://elsewhere/t.laz", "https://elsewhere/t.laz"),
])
def test_hrefs_resolve_against_a_vpc_url(vpc, href, member):
    """RFC 3986 against the .vpc's URL, as PDAL's readers.stac does; the .vpc's query stays with it."""
    assert resolve_href(vpc, href) == member

"""URLs to remote objects: ``open_remote`` (size, version, ranges),
``open_range_file`` (a file object), and ``list_prefix``, the LAS/LAZ
objects under an s3:// prefix, as a folder lists its files."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Union

from ..common.errors import InputError
from .range_file import RangeFile
from .storage_options import StorageOptions
from .urls import LAS_SUFFIXES, Location, parse_url


def location_of(url: Union[str, Location]) -> Location:
    return url if isinstance(url, Location) else parse_url(url)


def open_remote(url: Union[str, Location], options: StorageOptions):
    """The object at ``url`` (an ``S3Object`` or ``HttpObject``): its size and
    version read, or a one-line ``InputError``."""
    location = location_of(url)
    if location.scheme == "s3":
        from .s3_object import S3Object

        if location.is_prefix:
            raise InputError(location.shown, "is a prefix, not a LAS/LAZ object")
        return S3Object.open(location, options)
    from .http_object import HttpObject

    return HttpObject.open(location, options)


def open_range_file(url: Union[str, Location], options: StorageOptions) -> RangeFile:
    """A file object over the object at ``url``; its counts include the HEAD that opened it."""
    f = RangeFile(open_remote(url, options))
    f.transfers.add(requests=1)
    return f


@dataclass
class PrefixListing:
    """The LAS/LAZ objects under a prefix, and what was left out (as ``FolderListing``)."""

    prefix: str
    files: List[str] = field(default_factory=list)
    skipped: List[str] = field(default_factory=list)
    subfolders: int = 0


def list_prefix(location: Location, options: StorageOptions, recursive: bool) -> PrefixListing:
    """The objects under an s3:// prefix, sorted by key; sub-prefixes only
    with ``recursive``."""
    from .s3_object import S3Object

    prefix = location.key if not location.key or location.key.endswith("/") else location.key + "/"
    listing = PrefixListing(location.with_key(prefix).shown)
    args = dict(Bucket=location.bucket, Prefix=prefix) if recursive else \
        dict(Bucket=location.bucket, Prefix=prefix, Delimiter="/")
    lister = S3Object(location.with_key(prefix), options)
    token = None
    while True:
        page = lister.call("list", lambda c: c.list_objects_v2(
            **args, **({"ContinuationToken": token} if token else {})))
        for item in page.get("Contents", []):
            key = item["Key"]
            if key.lower().endswith(LAS_SUFFIXES):
                listing.files.append(location.with_key(key).shown)
            elif not key.endswith("/"):
                listing.skipped.append(key[len(prefix):])
        listing.subfolders += len(page.get("CommonPrefixes", []))
        token = page.get("NextContinuationToken")
        if not page.get("IsTruncated") or not token:
            break
    listing.files.sort()
    listing.skipped.sort()
    return listing

"""URLs to remote objects: ``open_remote`` (size, version, ranges),
``open_range_file`` (a file object), ``read_whole`` (a small object, such
as a .vpc), ``objects_exist`` (which of several URLs are there), and
``list_prefix``, the LAS/LAZ objects under an s3:// prefix, as a folder
lists its files."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Dict, List, Sequence, Union

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

        if not location.key or location.key.endswith("/"):
            raise InputError(location.shown, "is a prefix, not an object")
        return S3Object.open(location, options)
    from .http_object import HttpObject

    return HttpObject.open(location, options)


def open_range_file(url: Union[str, Location], options: StorageOptions) -> RangeFile:
    """A file object over the object at ``url``; its counts include the HEAD that opened it."""
    f = RangeFile(open_remote(url, options))
    f.transfers.add(requests=1)
    return f


def read_whole(url: Union[str, Location], options: StorageOptions) -> bytes:
    """A small object's bytes (a .vpc), by ranges as every read."""
    with open_range_file(url, options) as f:
        return f.read_at(0, f.size)


def objects_exist(urls: Sequence[str], options: StorageOptions) -> Dict[str, bool]:
    """Which of ``urls`` are there: a HEAD each, ``max_concurrency`` at once.
    "Not found" is False; any other failure (a 403, a server that is gone)
    is raised, as one line naming the URL."""
    def there(url: str) -> bool:
        try:
            open_remote(url, options)
        except InputError as exc:
            # Both stores' messages for a 404 (s3_object.s3_failure, http_object._answer).
            if exc.problem.startswith("not found"):
                return False
            raise
        return True

    unique = sorted(set(urls))
    with ThreadPoolExecutor(max(1, options.max_concurrency), thread_name_prefix="copc_builder-head") as pool:
        return dict(zip(unique, pool.map(there, unique)))


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

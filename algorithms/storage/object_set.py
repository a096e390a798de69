"""Several objects under one prefix, as a tiled build publishes them.

    upload_files   local files sent one after another in the order given, each
                   as ``upload_file`` sends it (whole or not at all); every key
                   is noted before its upload starts, so a failure can take
                   back all that may have been stored
    list_keys      the keys directly under a prefix, and its sub-prefixes
    delete_keys    keys removed, a thousand a request, retried as patiently
                   as an aborted upload (what is left behind stays stored)
    read_small     a small object's bytes, or None when there is none
    upload_tree    a local folder's files -> objects under a prefix

S3 has no rename: a set of objects cannot appear at once, so the caller
chooses the order (a .vpc after every file it lists).
"""
from __future__ import annotations

import os
from dataclasses import replace
from typing import Callable, List, Optional, Sequence, Tuple

from ..common.errors import OutputError
from .s3_object import S3Object
from .storage_options import StorageOptions
from .support import import_boto3
from .upload import ABORT_RETRIES, Progress, upload_file
from .urls import Location

DELETE_BATCH = 1000     # S3 DeleteObjects: "a list of up to 1,000 keys"


def upload_files(files: Sequence[Tuple[str, Location]], options: StorageOptions, started: List[Location],
                 progress: Progress = None, check_cancel: Optional[Callable[[], None]] = None) -> int:
    """Each (path, location) in turn; ``started`` gets each location before its
    upload begins.  The bytes sent."""
    total = sum(os.path.getsize(path) for path, _ in files)
    sent = 0
    for path, location in files:
        if check_cancel is not None:
            check_cancel()
        started.append(location)
        before = sent
        step = (lambda done, _size, before=before: progress(before + done, total)) if progress else None
        sent += upload_file(path, location, options, step, check_cancel)
    return sent


def upload_tree(folder: str, prefix: Location, options: StorageOptions, progress: Progress = None,
                check_cancel: Optional[Callable[[], None]] = None) -> int:
    """Every file under ``folder`` to ``prefix`` + its relative path (sorted,
    each object whole or not at all); the bytes sent."""
    files = sorted(os.path.join(root, name) for root, _, names in os.walk(folder) for name in names)
    base = prefix.key if not prefix.key or prefix.key.endswith("/") else prefix.key + "/"
    pairs = [(path, prefix.with_key(base + os.path.relpath(path, folder).replace(os.sep, "/"))) for path in files]
    return upload_files(pairs, options, [], progress, check_cancel)


def list_keys(prefix: Location, options: StorageOptions, error=OutputError) -> Tuple[List[str], List[str]]:
    """The keys under ``prefix.key`` up to the next "/", and the sub-prefixes
    ("folders") below it, each sorted."""
    lister = S3Object(prefix, options)
    keys: List[str] = []
    prefixes: List[str] = []
    token = None
    while True:
        page = lister.call("list", lambda c: c.list_objects_v2(
            Bucket=prefix.bucket, Prefix=prefix.key, Delimiter="/",
            **({"ContinuationToken": token} if token else {})), error=error)
        keys += [item["Key"] for item in page.get("Contents", [])]
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        token = page.get("NextContinuationToken")
        if not page.get("IsTruncated") or not token:
            return sorted(keys), sorted(prefixes)


def delete_keys(where: Location, keys: Sequence[str], options: StorageOptions) -> None:
    """Remove ``keys`` of the bucket of ``where`` (a prefix, which messages name;
    a key that is not there is no error); an ``OutputError`` naming what could
    not be removed."""
    patient = S3Object(where, replace(options, retries=max(options.retries, ABORT_RETRIES)))
    todo = sorted(set(keys))
    for start in range(0, len(todo), DELETE_BATCH):
        batch = todo[start:start + DELETE_BATCH]
        reply = patient.call("delete objects under", lambda c: c.delete_objects(
            Bucket=where.bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}),
            error=OutputError)
        failed = reply.get("Errors") or []
        if failed:
            first = failed[0]
            raise OutputError(where.with_key(first.get("Key", "")).shown,
                              f"cannot be removed ({first.get('Code', '?')}), nor {len(failed) - 1} other "
                              f"object(s) of the same request")


def read_small(location: Location, options: StorageOptions) -> Optional[bytes]:
    """The whole object (meant for a few kilobytes), or None when the key is not there."""
    _, botocore = import_boto3(location.shown)

    def get(client):
        try:
            return client.get_object(Bucket=location.bucket, Key=location.key)["Body"].read()
        except botocore.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise

    return S3Object(location, options).call("read", get, error=OutputError)

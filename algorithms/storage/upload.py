"""A finished local file -> the store.

The build writes its output to a local temp file as always; this sends it
to ``s3://bucket/key``: one PUT when it fits in a part, else a multipart
upload, parts side by side (``max_concurrency`` at most, each read from the
file when its turn comes, so memory holds a few parts).  S3 makes the
object appear only when the upload completes; on any failure, cancel or
interrupt the upload is aborted, so no part stays stored (and billed).
When even the abort cannot reach the store, the error says how to abort it.

``check_destination`` runs before any point is read: the bucket must exist
and take uploads (a multipart upload started and aborted at once).
"""
from __future__ import annotations

import os
from dataclasses import replace
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Callable, Dict, List, Optional

from ..common.errors import CopcBuilderError, OutputError
from .s3_object import S3Object
from .storage_options import StorageOptions
from .transfers import TRANSFERS
from .urls import Location, parse_url

MAX_PARTS = 10_000        # S3: "Part numbers can be any number from 1 to 10,000, inclusive"
# An abort is tried more patiently than a read (1 + 2 + ... + 32 times the
# retry wait, 31 s by default): parts left behind stay stored, and billed.
ABORT_RETRIES = 6
Progress = Optional[Callable[[int, int], None]]


def output_location(url: str) -> Location:
    """The s3:// object a build writes; an ``OutputError`` for anything else."""
    try:
        location = parse_url(url)
    except CopcBuilderError as exc:
        raise OutputError(getattr(exc, "source", url), getattr(exc, "problem", str(exc))) from None
    if location.scheme != "s3":
        raise OutputError(location.shown, "an output URL must be s3:// (http(s) servers are read, not written)")
    if not location.key or location.key.endswith("/"):
        raise OutputError(location.shown, "give the object's key: s3://bucket/path/out.copc.laz")
    return location


def check_destination(location: Location, options: StorageOptions) -> None:
    """The bucket exists and these credentials may upload to it; else one line."""
    obj = S3Object(location, options)
    obj.call("write", lambda c: c.head_bucket(Bucket=location.bucket), error=OutputError)
    started = obj.call("write", lambda c: c.create_multipart_upload(Bucket=location.bucket, Key=location.key),
                       error=OutputError)
    _abort(obj, started["UploadId"])


def upload_file(path: str, location: Location, options: StorageOptions, progress: Progress = None,
                check_cancel: Optional[Callable[[], None]] = None) -> int:
    """Send the file at ``path`` to ``location``; its size in bytes."""
    size = os.path.getsize(path)
    obj = S3Object(location, options)
    part = max(options.part_size, -(-size // MAX_PARTS))
    if size <= part:
        with open(path, "rb") as f:
            data = f.read()
        obj.call("write", lambda c: c.put_object(Bucket=location.bucket, Key=location.key, Body=data),
                 error=OutputError)
        TRANSFERS.add(requests=0, bytes_written=size)
        if progress:
            progress(size, size)
        return size
    started = obj.call("write", lambda c: c.create_multipart_upload(Bucket=location.bucket, Key=location.key),
                       error=OutputError)
    upload_id = started["UploadId"]
    try:
        parts = _send_parts(obj, path, upload_id, size, part, progress, check_cancel)
        obj.call("write", lambda c: c.complete_multipart_upload(
            Bucket=location.bucket, Key=location.key, UploadId=upload_id,
            MultipartUpload={"Parts": [{"ETag": parts[n], "PartNumber": n} for n in sorted(parts)]}),
            error=OutputError)
    except BaseException as exc:
        _abort(obj, upload_id, exc)
        if isinstance(exc, OutputError):
            raise OutputError(exc.path, f"{exc.problem}; the upload was aborted, nothing was stored") from None
        raise
    return size


def _send_parts(obj: S3Object, path: str, upload_id: str, size: int, part: int, progress: Progress,
                check_cancel) -> Dict[int, str]:
    """Parts 1.. of the file, at most ``max_concurrency`` in flight; their ETags."""
    loc = obj.location
    numbers: List[int] = list(range(1, -(-size // part) + 1))
    etags: Dict[int, str] = {}

    def send(number: int) -> int:
        with open(path, "rb") as f:
            f.seek((number - 1) * part)
            data = f.read(part)
        reply = obj.call("write", lambda c: c.upload_part(Bucket=loc.bucket, Key=loc.key, UploadId=upload_id,
                                                          PartNumber=number, Body=data), error=OutputError)
        etags[number] = reply["ETag"]
        TRANSFERS.add(requests=0, bytes_written=len(data))
        return len(data)

    done = 0
    with ThreadPoolExecutor(obj.options.max_concurrency, thread_name_prefix="copc_builder-upload") as pool:
        running = set()
        try:
            while numbers or running:
                while numbers and len(running) < obj.options.max_concurrency:
                    running.add(pool.submit(send, numbers.pop(0)))
                finished, running = wait(running, timeout=0.2, return_when=FIRST_COMPLETED)
                for future in finished:
                    done += future.result()
                if progress:
                    progress(done, size)
                if check_cancel is not None:
                    check_cancel()
        except BaseException:
            for future in running:
                future.cancel()
            raise
    return etags


def _abort(obj: S3Object, upload_id: str, cause: Optional[BaseException] = None) -> None:
    """Abort the upload; when the abort itself fails, one line saying how to finish the job."""
    loc = obj.location
    patient = S3Object(loc, replace(obj.options, retries=max(obj.options.retries, ABORT_RETRIES)))
    try:
        patient.call("write", lambda c: c.abort_multipart_upload(Bucket=loc.bucket, Key=loc.key,
                                                              UploadId=upload_id), error=OutputError)
    except CopcBuilderError as exc:
        why = f"the upload failed ({getattr(cause, 'problem', cause)}) and " if cause is not None else ""
        raise OutputError(loc.shown, f"{why}its unfinished multipart upload could not be aborted "
                                     f"({getattr(exc, 'problem', exc)}); abort it with: aws s3api "
                                     f"abort-multipart-upload --bucket {loc.bucket} --key {loc.key} --upload-id "
                                     f"{upload_id} (a bucket lifecycle rule AbortIncompleteMultipartUpload does "
                                     f"it for every upload)") from None

"""An S3 object read by ranges through boto3, and the one place S3 errors
become messages: a 403 or a 404 names the bucket, the key and what is
missing; a reset connection or a 5xx is ``Transient``.

boto3 clients are made once per process and options (they are
thread-safe, not fork-safe, hence the pid in the key) and never pickled:
what travels to a Dask worker is the ``S3Object``'s location and options.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Optional, Type

from ..common.errors import CopcBuilderError, InputError, OptionError
from .log_redaction import redact_library_logs
from .retry import TRANSIENT_STATUS, Transient, fault_text, retrying
from .storage_options import StorageOptions
from .support import import_boto3
from .transfers import TRANSFERS, Transfers
from .urls import Location

_CLIENTS: dict = {}
_LOCK = threading.Lock()
DENIED_CODES = ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AllAccessDisabled",
                "InvalidToken", "ExpiredToken", "AccountProblem", "403")
TRANSIENT_CODES = ("SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable", "RequestTimeTooSkewed")


def s3_client(options: StorageOptions, url: str):
    """The process's boto3 client for these options and AWS environment."""
    key = (os.getpid(), options, tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_"))))
    with _LOCK:
        client = _CLIENTS.get(key)
        if client is None:
            client = _CLIENTS[key] = _new_client(options, url)
        return client


def _new_client(options: StorageOptions, url: str):
    boto3, botocore = import_boto3(url)
    reveal = lambda s: s.reveal() if s is not None else None   # noqa: E731
    try:
        session = boto3.session.Session(profile_name=options.profile, aws_access_key_id=reveal(options.key),
                                        aws_secret_access_key=reveal(options.secret),
                                        aws_session_token=reveal(options.token), region_name=options.region)
    except botocore.exceptions.ProfileNotFound:
        raise OptionError(f"the AWS profile {options.profile!r} is not in ~/.aws/config or ~/.aws/credentials") \
            from None
    config = botocore.config.Config(
        signature_version=botocore.UNSIGNED if options.anon else None,
        retries={"total_max_attempts": 1},       # retry.py retries, the same way for every request
        max_pool_connections=max(10, 2 * options.max_concurrency),
        connect_timeout=options.timeout, read_timeout=options.timeout,
        s3={"addressing_style": options.addressing_style} if options.addressing_style else None,
        request_checksum_calculation="when_required", response_checksum_validation="when_required")
    client = session.client("s3", endpoint_url=options.endpoint_url, config=config, verify=options.verify)
    redact_library_logs()
    return client


def s3_failure(exc: BaseException, location: Location, doing: str, options: StorageOptions,
               error: Type[CopcBuilderError] = InputError) -> BaseException:
    """``Transient`` for what may pass; otherwise the one-line error to raise."""
    _, botocore = import_boto3(location.shown)
    b, k, shown = location.bucket, location.key, location.shown
    if isinstance(exc, botocore.exceptions.ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        code = str(exc.response.get("Error", {}).get("Code", status))
        if status in TRANSIENT_STATUS or code in TRANSIENT_CODES:
            return Transient(f"{status} {code}")
        if status == 412:
            return error(shown, f"changed while it was being read: a new version was stored "
                                f"({_status(status, code)}); run again")
        if code in ("NoSuchBucket",) or (status == 404 and not k):
            return error(shown, f"not found: the bucket {b} does not exist ({_status(status, code)})")
        if status == 404:
            what = _missing(location, options)
            return error(shown, f"not found: {what} ({_status(status, code)})")
        if status == 403 or code in DENIED_CODES:
            target = f"the object {k} of bucket {b}" if k else f"the bucket {b}"
            return error(shown, f"access denied ({_status(status, code)}): the credentials in use may not {doing} "
                                f"{target}; give credentials that may (AWS_ACCESS_KEY_ID and "
                                f"AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or --storage-option key=... secret=...), "
                                f"or anon=true for a public bucket")
        return error(shown, f"cannot {doing} it: the store answered {_status(status, code)}")
    if isinstance(exc, (botocore.exceptions.NoCredentialsError, botocore.exceptions.PartialCredentialsError)):
        return error(shown, "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or "
                            "AWS_PROFILE, give --storage-option key=... secret=..., or anon=true for a "
                            "public bucket")
    if isinstance(exc, (botocore.exceptions.BotoCoreError, OSError)):
        if isinstance(exc, (botocore.exceptions.ParamValidationError, botocore.exceptions.NoRegionError)):
            return error(shown, f"cannot {doing} it: {type(exc).__name__}")
        return Transient(fault_text(exc))
    return exc


def _missing(location: Location, options: StorageOptions) -> str:
    """What a 404 means: no such bucket, or no such key in it."""
    b, k = location.bucket, location.key
    try:
        s3_client(options, location.shown).head_bucket(Bucket=b)
    except Exception:   # the bucket cannot be seen: say so, whatever the reason
        return f"the bucket {b} does not exist, or these credentials cannot see it"
    return f"the bucket {b} has no object {k}"


@dataclass
class S3Object:
    """One object: its size and ETag from a HEAD, its bytes by ranges."""

    location: Location
    options: StorageOptions
    size: int = 0
    version: str = ""

    @classmethod
    def open(cls, location: Location, options: StorageOptions) -> "S3Object":
        obj = cls(location, options)
        head = obj.call("read", lambda c: c.head_object(Bucket=location.bucket, Key=location.key))
        obj.size = int(head["ContentLength"])
        obj.version = str(head.get("ETag", ""))
        return obj

    def read_range(self, start: int, end: int, counter: Optional[Transfers] = None) -> bytes:
        """Bytes [start, end): one ranged GET (retried)."""
        loc = self.location

        # If-Match: every range of one read comes from the version the HEAD saw
        # (a Dask task reads hours later, maybe after the object was replaced).
        match = {"IfMatch": self.version} if self.version else {}

        def get(client):
            reply = client.get_object(Bucket=loc.bucket, Key=loc.key, Range=f"bytes={start}-{end - 1}", **match)
            data = reply["Body"].read()
            if len(data) != end - start:
                raise OSError(0, f"short read: {len(data)} of {end - start} bytes")
            return data

        data = self.call("read", get, counter)
        for c in (TRANSFERS, counter):
            if c is not None:
                c.add(requests=0, bytes_read=len(data))
        return data

    def call(self, doing: str, request, counter: Optional[Transfers] = None,
             error: Type[CopcBuilderError] = InputError):
        """``request(client)``, retried; failures as one line of ``error``'s kind."""
        loc, options = self.location, self.options
        client = s3_client(options, loc.shown)

        def attempt():
            for c in (TRANSFERS, counter):
                if c is not None:
                    c.add()
            try:
                return request(client)
            except Exception as exc:
                failure = s3_failure(exc, loc, doing, options, error)
                if failure is exc:
                    raise
                raise failure from None

        return retrying(options, attempt, lambda reason, n: error(
            loc.shown, f"cannot {doing} it: {reason} (after {n} attempts)"))


def _status(status: int, code: str) -> str:
    return f"HTTP {status}" if code == str(status) else f"HTTP {status} {code}"

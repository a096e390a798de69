"""An http(s) object read by range requests through urllib3.

The size comes from a HEAD (or, when the server gives none there, from
the Content-Range of a one-byte GET); every read is a ``Range`` GET, and a
server that answers one with the whole file is refused rather than read
whole.  A URL's ``user:password@`` becomes a Basic Authorization header.
"""
from __future__ import annotations

import base64
import os
import re
import threading
from dataclasses import dataclass
from typing import Dict, Optional

from ..common.errors import InputError
from .log_redaction import redact_library_logs
from .retry import TRANSIENT_STATUS, Transient, fault_text, retrying
from .storage_options import StorageOptions
from .support import import_urllib3
from .transfers import TRANSFERS, Transfers
from .urls import Location

_POOLS: dict = {}
_LOCK = threading.Lock()
_CONTENT_RANGE = re.compile(r"bytes\s+\d+-\d+/(\d+)")


def http_pool(options: StorageOptions, url: str):
    key = (os.getpid(), options.verify, options.timeout, options.max_concurrency)
    with _LOCK:
        pool = _POOLS.get(key)
        if pool is None:
            urllib3 = import_urllib3(url)
            pool = _POOLS[key] = urllib3.PoolManager(
                num_pools=16, maxsize=max(10, 2 * options.max_concurrency), retries=False,
                timeout=urllib3.Timeout(connect=options.timeout, read=options.timeout),
                cert_reqs="CERT_REQUIRED" if options.verify else "CERT_NONE")
            redact_library_logs()
        return pool


@dataclass
class HttpObject:
    location: Location
    options: StorageOptions
    size: int = 0
    version: str = ""

    @classmethod
    def open(cls, location: Location, options: StorageOptions) -> "HttpObject":
        obj = cls(location, options)
        status, headers, _ = obj._request("HEAD", {})
        length = headers.get("content-length")
        if status == 200 and length is not None and headers.get("accept-ranges", "bytes") != "none":
            obj.size = int(length)
        else:   # no length (or no HEAD): a one-byte range tells the size
            status, headers, _ = obj._request("GET", {"Range": "bytes=0-0"})
            match = _CONTENT_RANGE.match(headers.get("content-range", ""))
            if status != 206 or not match:
                raise obj._no_ranges()
            obj.size = int(match.group(1))
        obj.version = headers.get("etag") or headers.get("last-modified") or ""
        return obj

    def read_range(self, start: int, end: int, counter: Optional[Transfers] = None) -> bytes:
        ask = {"Range": f"bytes={start}-{end - 1}"}
        if self.version.startswith('"'):     # a strong ETag: every range from the version the HEAD saw
            ask["If-Match"] = self.version
        status, headers, data = self._request("GET", ask, end - start, counter)
        if status == 200 and not (start == 0 and end == self.size):
            raise self._no_ranges()
        for c in (TRANSFERS, counter):
            if c is not None:
                c.add(requests=0, bytes_read=len(data))
        return data

    def _no_ranges(self) -> InputError:
        return InputError(self.location.shown, "the server does not answer range requests (HTTP Range), "
                                               "which copc_builder reads remote files with")

    def _request(self, method: str, headers: Dict[str, str], expect: int = 0,
                 counter: Optional[Transfers] = None):
        loc, options = self.location, self.options
        url = f"{loc.scheme}://{loc.host}{loc.request_target}"
        if loc.auth is not None:
            headers = dict(headers, Authorization="Basic " + base64.b64encode(loc.auth.reveal().encode()).decode())
        pool = http_pool(options, loc.shown)

        def attempt():
            for c in (TRANSFERS, counter):
                if c is not None:
                    c.add()
            try:
                reply = pool.request(method, url, headers=headers, preload_content=False, redirect=True)
            except Exception as exc:   # urllib3's errors: connection refused, reset, timeout
                raise Transient(fault_text(exc)) from None
            try:
                return self._answer(method, reply, expect)
            finally:
                reply.release_conn()

        return retrying(options, attempt, lambda reason, n: InputError(
            loc.shown, f"cannot read it: {reason} (after {n} attempts)"))

    def _answer(self, method: str, reply, expect: int):
        status = reply.status
        shown = self.location.shown
        if status in TRANSIENT_STATUS:
            raise Transient(f"HTTP {status}")
        if status == 404 or status == 410:
            raise InputError(shown, f"not found: the server has no file at this URL (HTTP {status})")
        if status == 412:
            raise InputError(shown, "changed while it was being read: the server holds a new version "
                                    "(HTTP 412); run again")
        if status in (401, 403):
            raise InputError(shown, f"access denied (HTTP {status}): the server does not let these credentials "
                                    f"read it (a user:password@ in the URL, or none)")
        if status >= 400 and not (method == "HEAD" and status == 405):
            raise InputError(shown, f"cannot read it: the server answered HTTP {status}")
        headers = {k.lower(): v for k, v in reply.headers.items()}
        data = b""
        if method == "GET" and status == 206:
            try:
                data = reply.read()
            except Exception as exc:
                raise Transient(fault_text(exc)) from None
            if expect and len(data) != expect:
                raise Transient(f"short read: {len(data)} of {expect} bytes")
        elif method == "GET" and status == 200:
            if int(headers.get("content-length", -1)) != expect:
                reply.close()     # the whole file: not read, the connection dropped
                return status, headers, data
            data = reply.read()
        return status, headers, data

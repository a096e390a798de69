"""s3:// and http(s):// URLs: parsed, and shown without their credentials.

A URL's ``user:password@`` part and an http(s) URL's query (a presigned
URL's signature, a token) are kept in ``Secret``s and never shown:
``Location.shown`` is the URL without them, the name every message,
progress event and summary uses.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional
from urllib.parse import unquote, urlsplit

from ..common.errors import CopcBuilderError, InputError
from .storage_options import Secret

_URL = re.compile(r"^(s3|https?)://", re.IGNORECASE)
LAS_SUFFIXES = (".las", ".laz")


def is_url(item) -> bool:
    """An s3://, http:// or https:// URL (any case)."""
    return isinstance(item, str) and bool(_URL.match(item))


@dataclass(frozen=True)
class Location:
    """Where a remote object (or, for s3, a prefix) is."""

    scheme: str                     # "s3", "http" or "https"
    host: str                       # the bucket (s3), or host[:port]
    key: str                        # the object key (s3, no leading /), or the path (http)
    auth: Optional[Secret] = None   # "user:password" of an http(s) URL
    query: Optional[Secret] = None  # an http(s) URL's query (a presigned URL's signature, a token)

    @property
    def shown(self) -> str:
        """The URL without credentials: what messages name."""
        if self.scheme == "s3":
            return f"s3://{self.host}/{self.key}"
        return f"{self.scheme}://{self.host}{self.key}" + ("?..." if self.query is not None else "")

    @property
    def request_target(self) -> str:
        """The path and query an http(s) request asks for (holds the query's secret)."""
        return self.key + ("?" + self.query.reveal() if self.query is not None else "")

    @property
    def bucket(self) -> str:
        return self.host

    @property
    def is_prefix(self) -> bool:
        """An s3 URL that names a prefix (a "folder" of objects), not a LAS/LAZ object."""
        return self.scheme == "s3" and not self.key.lower().endswith(LAS_SUFFIXES)

    def with_key(self, key: str) -> "Location":
        return Location(self.scheme, self.host, key, self.auth, self.query)

    def __repr__(self) -> str:
        return f"Location({self.shown!r})"


def parse_url(text: str) -> Location:
    """A URL -> its ``Location``; an ``InputError`` (naming the URL without
    credentials) when it cannot be one."""
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    auth = None
    if parts.username is not None or parts.password is not None:
        auth = Secret(f"{unquote(parts.username or '')}:{unquote(parts.password or '')}")
    if scheme == "s3":
        shown = f"s3://{host}{parts.path}"
        if auth is not None:
            raise InputError(shown, "an s3:// URL cannot carry credentials; give them in the environment "
                                    "(AWS_ACCESS_KEY_ID...), an AWS profile or --storage-option")
        if not host:
            raise InputError(text, "an s3:// URL needs a bucket (s3://bucket/key.laz)")
        return Location("s3", parts.hostname or host, unquote(parts.path.lstrip("/")))
    if not host:
        raise InputError(f"{scheme}://", "an http(s) URL needs a host")
    return Location(scheme, host, parts.path or "/", auth, Secret(parts.query) if parts.query else None)


def path_of(item) -> str:
    """A path as it is; of a URL, the key or path alone (no query): what its name ends with."""
    text = str(item)
    if not is_url(text):
        return text
    try:
        return parse_url(text).key
    except CopcBuilderError:
        return text.split("?", 1)[0]


def shown_name(item) -> str:
    """What messages call an input: a URL without its credentials and query, else the path."""
    text = str(item)
    if not is_url(text):
        return text
    try:
        return parse_url(text).shown
    except CopcBuilderError:
        return re.sub(r"//[^/@]*@", "//", text.split("?", 1)[0])

"""What a user sets for object storage beyond the environment:
``--storage-option KEY=VALUE`` (API ``storage_options={...}``), as plain
data that pickles to Dask workers, and ``Secret``, which keeps a key, a
token or a password out of every repr, message and log line.

Credentials and endpoints come first from where AWS tools read them
(AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN,
AWS_PROFILE and ~/.aws, AWS_REGION, AWS_ENDPOINT_URL); an option given
here wins over them.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Iterable, Mapping, Optional, Union

from ..common.errors import OptionError
from ..common.options import parse_size

MiB = 1 << 20
MIN_PART_SIZE = 5 * MiB     # S3: "Each part must be at least 5 MB in size, except the last part"


_KNOWN: set = set()     # every secret value this process holds, for log_redaction.py


def known_secrets() -> frozenset:
    return frozenset(_KNOWN)


class Secret:
    """A value that pickles (Dask workers need it) but never shows itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value
        if len(value) >= 4:    # shorter ones would blank out ordinary words
            _KNOWN.add(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "'***'"

    __str__ = __repr__

    def __eq__(self, other) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self):
        return Secret, (self._value,)


# The option names, with the other spellings users bring from boto3, s3fs and obstore.
ALIASES = {
    "anon": "anon", "anonymous": "anon", "skip_signature": "anon",
    "region": "region", "region_name": "region", "aws_region": "region",
    "endpoint_url": "endpoint_url", "endpoint": "endpoint_url", "aws_endpoint_url": "endpoint_url",
    "profile": "profile", "aws_profile": "profile",
    "key": "key", "aws_access_key_id": "key", "access_key_id": "key",
    "secret": "secret", "aws_secret_access_key": "secret", "secret_access_key": "secret",
    "token": "token", "aws_session_token": "token", "session_token": "token",
    "addressing_style": "addressing_style",
    "verify": "verify",
    "max_concurrency": "max_concurrency",
    "retries": "retries",
    "retry_wait": "retry_wait",
    "part_size": "part_size",
    "timeout": "timeout",
}
SECRET_OPTIONS = ("key", "secret", "token")


@dataclass(frozen=True, repr=False)
class StorageOptions:
    anon: bool = False               # unsigned requests: a public bucket
    region: Optional[str] = None
    endpoint_url: Optional[str] = None   # an S3-compatible store (MinIO, Ceph, moto)
    profile: Optional[str] = None
    key: Optional[Secret] = None
    secret: Optional[Secret] = None
    token: Optional[Secret] = None
    addressing_style: Optional[str] = None   # "path" or "virtual" (boto3's "auto" by default)
    verify: bool = True              # check TLS certificates
    max_concurrency: int = 4         # requests in flight for one read or one upload
    retries: int = 3                 # a reset connection or a 5xx is tried again this many times
    retry_wait: float = 0.5          # seconds before the first retry, doubled after each
    part_size: int = 8 * MiB         # upload parts, and the pieces a big read is cut into
    timeout: float = 60.0            # seconds to connect, and between bytes

    def __repr__(self) -> str:
        shown = []
        for f in fields(self):
            value = getattr(self, f.name)
            if value != f.default:
                shown.append(f"{f.name}={value!r}")
        return f"StorageOptions({', '.join(shown)})"


def storage_options(given: Union[None, "StorageOptions", Mapping[str, object], Iterable[str]]) -> StorageOptions:
    """StorageOptions from a mapping ({"anon": True}), "KEY=VALUE" strings
    (the command line's), or StorageOptions.  Errors name the key, never a
    value: a secret pasted after the wrong key must not be echoed."""
    if given is None:
        return StorageOptions()
    if isinstance(given, StorageOptions):
        return given
    pairs = given.items() if isinstance(given, Mapping) else [_split(item) for item in given]
    values = {}
    for raw_key, value in pairs:
        key = ALIASES.get(str(raw_key).strip().lower().replace("-", "_"))
        if key is None:
            raise OptionError(f"unknown storage option {str(raw_key)!r}; known: "
                              f"{', '.join(sorted(set(ALIASES.values())))}")
        values[key] = _typed(key, value)
    options = replace(StorageOptions(), **values)
    if (options.key is None) != (options.secret is None):
        raise OptionError("storage options key and secret go together: give both or neither")
    return options


def _split(item: str):
    key, sep, value = str(item).partition("=")
    if not sep or not key.strip():
        raise OptionError("a storage option is KEY=VALUE (for example anon=true or region=eu-central-2)")
    return key, value


def _typed(key: str, value):
    if key in SECRET_OPTIONS:
        return value if isinstance(value, Secret) else Secret(str(value))
    if key in ("anon", "verify"):
        return _boolean(key, value)
    if key in ("max_concurrency", "retries"):
        return _integer(key, value, 1 if key == "max_concurrency" else 0)
    if key in ("retry_wait", "timeout"):
        return _number(key, value)
    if key == "part_size":
        try:
            size = parse_size(value)
        except OptionError:
            raise OptionError("storage option part_size is a size such as 8M or 16M") from None
        if size < MIN_PART_SIZE:
            raise OptionError("storage option part_size must be at least 5M (S3's smallest part)")
        return size
    if key == "addressing_style" and str(value) not in ("path", "virtual", "auto"):
        raise OptionError("storage option addressing_style is path, virtual or auto")
    return str(value)


def _boolean(key: str, value) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise OptionError(f"storage option {key} is true or false")


def _integer(key: str, value, low: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise OptionError(f"storage option {key} is a whole number") from None
    if number < low:
        raise OptionError(f"storage option {key} must be at least {low}")
    return number


def _number(key: str, value) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise OptionError(f"storage option {key} is a number of seconds") from None
    if not number >= 0:
        raise OptionError(f"storage option {key} must be 0 or more")
    return number


def redacted_storage_text(items: Iterable[str]) -> list:
    """"KEY=VALUE" items with the values of secret keys as ***: what a host may
    record (QGIS's history) of what a user typed."""
    out = []
    for item in items:
        key, sep, value = str(item).partition("=")
        name = ALIASES.get(key.strip().lower().replace("-", "_"))
        out.append(f"{key}=***" if sep and (name in SECRET_OPTIONS or name is None) else str(item))
    return out

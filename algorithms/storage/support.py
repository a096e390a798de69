"""The optional libraries behind URLs, imported only when a URL is used:
boto3 for s3:// (credentials, profiles, AWS_ENDPOINT_URL and signing as
every AWS tool does them) and urllib3 for http(s):// (which boto3 brings).
Without them, one line says what to install."""
from __future__ import annotations

from ..common.errors import DependencyError

STORAGE_INSTALL = "pip install 'copc-builder[storage]'"


def storage_missing_message(url: str, module: str) -> str:
    return (f"{url}: reading and writing s3:// and http(s):// URLs needs the optional storage extra "
            f"({module} is not installed): {STORAGE_INSTALL}")


def import_boto3(url: str):
    """(boto3, botocore) or a DependencyError naming what to install."""
    try:
        import boto3
        import botocore
        import botocore.config
        import botocore.exceptions
    except ImportError:
        raise DependencyError(storage_missing_message(url, "boto3")) from None
    return boto3, botocore


def import_urllib3(url: str):
    try:
        import urllib3
    except ImportError:
        raise DependencyError(storage_missing_message(url, "urllib3")) from None
    return urllib3

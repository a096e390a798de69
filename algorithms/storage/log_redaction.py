"""Secrets kept out of the storage libraries' own log lines.

boto3 and urllib3 log at DEBUG what they send: botocore the signed
headers (a session token among them), urllib3 the request line (an URL's
query).  Our messages never hold a secret; this filter, put on those
libraries' loggers when a client is made, replaces every secret this
process knows (each ``Secret``'s value, and the AWS secret variables) with
*** in what they log, whatever level a user turns on.
"""
from __future__ import annotations

import logging
import os

from .storage_options import known_secrets

LIBRARIES = ("botocore", "boto3", "urllib3", "s3transfer")
SECRET_VARIABLES = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        secrets = known_secrets() | {os.environ[v] for v in SECRET_VARIABLES if len(os.environ.get(v, "")) >= 4}
        if not secrets:
            return True
        try:
            text = record.getMessage()
        except Exception:      # a record that cannot format itself: left alone
            return True
        if any(s in text for s in secrets):
            for secret in secrets:
                text = text.replace(secret, "***")
            record.msg, record.args = text, ()
        return True


FILTER = RedactSecrets()


def redact_library_logs() -> None:
    """The filter on every logger of the storage libraries (filters are not inherited)."""
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if (isinstance(logger, logging.Logger) and name.split(".")[0] in LIBRARIES
                and FILTER not in logger.filters):
            logger.addFilter(FILTER)

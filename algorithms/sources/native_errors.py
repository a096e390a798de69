"""Errors from native code (lazrs, laspy) turned into plain messages."""
from __future__ import annotations

import contextlib
import os
import sys
import tempfile


def reraise_fatal(exc: BaseException) -> None:
    """Re-raise a real interrupt; lazrs can raise a Rust panic (a
    BaseException), and anything but an interrupt becomes an input error."""
    if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
        raise exc


def reraise_transfer(f) -> None:
    """Re-raise the error a remote file's read met (``RangeFile.failure``),
    which a native reader wrapped in one of its own."""
    failure = getattr(f, "failure", None)
    if failure is not None:
        raise failure


def short_text(exc: BaseException) -> str:
    """'ErrorType: first line of the message' for one-line errors."""
    text = str(exc).strip().splitlines()
    text = text[0] if text else ""
    name = type(exc).__name__
    return f"{name}: {text}" if text else name


@contextlib.contextmanager
def quiet_stderr():
    """Hold back what native code (a Rust panic message) writes to stderr.

    The text is replayed when the block succeeds; on failure it is dropped,
    because the caller raises one clear error instead.
    """
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    with tempfile.TemporaryFile() as held:
        sys.stderr.flush()
        os.dup2(held.fileno(), 2)
        ok = False
        try:
            yield
            ok = True
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            if ok:
                held.seek(0)
                text = held.read()
                if text:
                    os.write(2, text)

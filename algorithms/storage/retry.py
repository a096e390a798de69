"""Transient faults (a reset connection, a timeout, a 5xx) tried again a few
times with a doubling wait; what remains is one line naming the URL.

Fault texts are built from the exception's kind and the OS's words
("Connection reset by peer"), never from a library's message, which can
hold a request's URL with its query or signature."""
from __future__ import annotations

import time
from typing import Callable, Optional, TypeVar

from .storage_options import StorageOptions

T = TypeVar("T")
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class Transient(Exception):
    """A fault worth trying again; ``reason`` is safe to show."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def fault_text(exc: BaseException) -> str:
    """The OS's words for a network fault, else the exception's kind; no URL, no message."""
    seen = set()
    todo: Optional[BaseException] = exc
    while todo is not None and id(todo) not in seen:
        seen.add(id(todo))
        if isinstance(todo, OSError) and todo.strerror:
            return todo.strerror
        if isinstance(todo, TimeoutError) or "timeout" in type(todo).__name__.lower():
            return "timed out"
        nested = [a for a in getattr(todo, "args", ()) if isinstance(a, BaseException)]
        todo = todo.__cause__ or todo.__context__ or (nested[0] if nested else None)
    return type(exc).__name__


def retrying(options: StorageOptions, attempt: Callable[[], T], give_up: Callable[[str, int], Exception],
             check_cancel: Optional[Callable[[], None]] = None) -> T:
    """``attempt()``, again after each ``Transient`` up to ``options.retries``
    times; then ``give_up(reason, attempts)`` is raised."""
    reason = ""
    for number in range(options.retries + 1):
        if number:
            time.sleep(options.retry_wait * 2 ** (number - 1))
            if check_cancel is not None:
                check_cancel()
        try:
            return attempt()
        except Transient as exc:
            reason = exc.reason
    raise give_up(reason, options.retries + 1)

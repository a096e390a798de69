"""Bytes and requests a process has asked of the stores, counted where the
requests are made: a build's "bytes read" and ``info``'s come from here."""
from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass
class TransferCount:
    requests: int = 0
    bytes_read: int = 0
    bytes_written: int = 0


class Transfers:
    """Thread-safe counters; one for the process (``TRANSFERS``), one per open file."""

    def __init__(self):
        self._lock = threading.Lock()
        self._count = TransferCount()

    def add(self, requests: int = 1, bytes_read: int = 0, bytes_written: int = 0) -> None:
        with self._lock:
            self._count.requests += requests
            self._count.bytes_read += bytes_read
            self._count.bytes_written += bytes_written

    def snapshot(self) -> TransferCount:
        with self._lock:
            c = self._count
            return TransferCount(c.requests, c.bytes_read, c.bytes_written)


TRANSFERS = Transfers()

"""Where an input's bytes are: a local path, or an s3:// or http(s):// URL
read by range requests (``storage/``).  Either way the readers get a file
object; ``name`` is what messages call the input (a URL without its
credentials)."""
from __future__ import annotations

import os
from typing import BinaryIO, Union

from ..common.errors import InputError
from ..storage.urls import is_url, parse_url


class InputFile:
    """One input's bytes; pickles (with its storage options) to Dask workers,
    which then read the store themselves."""

    def __init__(self, path: str, storage=None):
        self.remote = None
        if is_url(path):
            from ..storage.remote import open_remote
            from ..storage.storage_options import storage_options

            self.remote = open_remote(parse_url(path), storage_options(storage))
            self.name = self.remote.location.shown
            self.size = self.remote.size
            return
        self.name = os.fspath(path)
        if not os.path.exists(self.name):
            raise InputError(self.name, "file not found")
        if os.path.isdir(self.name):
            raise InputError(self.name, "is a folder, not a LAS/LAZ file")
        self.size = os.path.getsize(self.name)

    def __repr__(self) -> str:
        return f"InputFile({self.name!r})"

    def open(self) -> BinaryIO:
        """A new file object at byte 0."""
        if self.remote is not None:
            from ..storage.range_file import RangeFile

            return RangeFile(self.remote)
        try:
            return open(self.name, "rb")
        except OSError as exc:
            raise InputError(self.name, f"cannot open ({exc.strerror})") from None

    def read_at(self, offset: int, size: int) -> bytes:
        with self.open() as f:
            f.seek(offset)
            return f.read(size)


def input_file(path: Union[str, InputFile], storage=None) -> InputFile:
    return path if isinstance(path, InputFile) else InputFile(path, storage)

"""Where a build's output goes, checked before any point is read.

A path: the writer writes a temp name beside it and renames it into place.
An s3:// URL: the writer writes into a folder of the temp folder, and the
finished file is uploaded (storage/upload.py: in parts, the object appears
only when complete); the local copy is removed however the build ends.
"""
from __future__ import annotations

import os
import posixpath
import shutil
import tempfile
from typing import Sequence

from ..common.errors import OutputError
from ..common.options import BuildOptions
from ..common.progress import Progress
from ..common.temp_files import temp_name_for
from ..storage.urls import is_url


def check_output_path(output: str, inputs: Sequence[str]) -> str:
    path = os.path.abspath(os.fspath(output))
    folder = os.path.dirname(path)
    if os.path.isdir(path):
        raise OutputError(path, "is a folder; give a file name such as out.copc.laz")
    if not os.path.exists(folder):
        raise OutputError(path, f"the folder {folder} does not exist")
    if not os.path.isdir(folder):
        raise OutputError(path, f"{folder} is not a folder")
    for inp in inputs:
        if os.path.exists(inp) and os.path.exists(path) and os.path.samefile(inp, path):
            raise OutputError(path, "is also an input; choose another output name")
    # Find out now, not after reading every point, whether the folder takes files.
    probe = temp_name_for(path)
    try:
        with open(probe, "wb"):
            pass
        os.remove(probe)
    except OSError as exc:
        raise OutputError(path, f"cannot write here ({exc.strerror})") from None
    return path


class OutputTarget:
    """A local output: written in place."""

    def __init__(self, path: str):
        self.name = path          # what the summary and messages call the output
        self.local_path = path    # where the writer writes

    def publish(self, progress: Progress) -> None:
        """Put the finished file where it belongs (here: it is there)."""

    def close(self) -> None:
        """Remove what only served to make the output."""


class RemoteOutputTarget(OutputTarget):
    """An s3:// output: written to the temp folder, then uploaded."""

    def __init__(self, url: str, options: BuildOptions):
        from ..storage.storage_options import storage_options
        from ..storage.upload import check_destination, output_location

        self.location = output_location(url)
        self.storage = storage_options(options.storage)
        check_destination(self.location, self.storage)
        try:
            self.folder = tempfile.mkdtemp(prefix="copc_builder-upload-", dir=options.temp_dir)
        except OSError as exc:
            raise OutputError(self.location.shown, f"cannot make a local copy to upload in the temp folder "
                                                   f"({exc.strerror})") from None
        super().__init__(os.path.join(self.folder, posixpath.basename(self.location.key)))
        self.name = self.location.shown

    def publish(self, progress: Progress) -> None:
        from ..storage.upload import upload_file

        size = os.path.getsize(self.local_path)
        progress.info(f"uploading {size / 1e6:.1f} MB to {self.name}")
        upload_file(self.local_path, self.location, self.storage,
                    lambda done, total: progress.update("finish", done, total), progress.check_cancel)

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def output_target(output, inputs: Sequence[str], options: BuildOptions) -> OutputTarget:
    """The build's output, checked: a path that takes files, or an s3://
    object whose bucket exists and takes uploads."""
    if is_url(output):
        return RemoteOutputTarget(output, options)
    return OutputTarget(check_output_path(output, inputs))

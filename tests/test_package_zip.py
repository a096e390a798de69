"""The plugin zip is written whole or not at all."""
from __future__ import annotations

import errno
import os
import zipfile

import pytest

from copc_builder.plugin.package import build_zip


def test_a_failed_zip_leaves_nothing(tmp_path, monkeypatch):
    real = zipfile.ZipFile.writestr
    written = []

    def failing(self, info, data, *args, **kw):
        if len(written) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        written.append(info)
        return real(self, info, data, *args, **kw)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing)
    out = tmp_path / "dist" / "plugin.zip"
    with pytest.raises(OSError, match="No space"):
        build_zip(str(out))
    assert len(written) == 3
    assert os.listdir(tmp_path / "dist") == []


def test_the_zip_replaces_an_older_one_whole(tmp_path):
    out = tmp_path / "plugin.zip"
    out.write_bytes(b"an older zip")
    entries = build_zip(str(out))
    with zipfile.ZipFile(out) as zf:
        assert zf.namelist() == entries
    assert os.listdir(tmp_path) == ["plugin.zip"]

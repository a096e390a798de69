"""Where a tiled build's files go, and how they appear only on success.

    out.vpc                         the virtual point cloud (STAC ItemCollection)
    out-tiles/out_<x>_<y>.copc.laz  one COPC per non-empty cell
    out-overview.copc.laz           the overview (PDAL wrench's name, which QGIS 3.42+
                                    also looks for beside a .vpc), or, split on a
                                    coarser grid, out-overview_<x>_<y>.copc.laz

Everything is written into a hidden staging folder beside the .vpc, then
moved into place: the tiles folder first (an earlier build's folder, which
must hold nothing but .copc.laz files, is replaced), the overviews, the .vpc
last.  On error or cancel the staging folder is removed and nothing else is
touched.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from typing import Iterable, List, Sequence

from ..common.errors import OutputError
from ..common.temp_files import TEMP_SUFFIX, pid_alive, remove_quietly
from ..format.vpc_record import relative_href

VPC_SUFFIX = ".vpc"
COPC_SUFFIX = ".copc.laz"


def is_vpc_name(path) -> bool:
    return isinstance(path, (str, os.PathLike)) and os.fspath(path).lower().endswith(VPC_SUFFIX)


class VpcOutputs:
    def __init__(self, vpc_path: str, inputs: Sequence[str] = ()):
        self.vpc = _checked_vpc_path(vpc_path, inputs)
        self.folder, name = os.path.split(self.vpc)
        self.stem = name[:-len(VPC_SUFFIX)]
        self.tiles_dir = os.path.join(self.folder, f"{self.stem}-tiles")
        _check_tiles_folder(self.tiles_dir)
        _remove_stale_staging(self.folder, self.stem)
        try:
            self.staging = tempfile.mkdtemp(prefix=f".{self.stem}.{os.getpid()}-", suffix=TEMP_SUFFIX,
                                            dir=self.folder)
            os.mkdir(os.path.join(self.staging, "tiles"))
        except OSError as exc:
            raise OutputError(self.vpc, f"cannot write here ({exc.strerror})") from None

    @property
    def overview_stem(self) -> str:
        return f"{self.stem}-overview"

    def tile_path(self, name: str) -> str:
        """Where a tile is written (in the staging folder)."""
        return os.path.join(self.staging, "tiles", name + COPC_SUFFIX)

    def overview_path(self, name: str) -> str:
        return os.path.join(self.staging, name + COPC_SUFFIX)

    def final_tile(self, name: str) -> str:
        return os.path.join(self.tiles_dir, name + COPC_SUFFIX)

    def final_overview(self, name: str) -> str:
        return os.path.join(self.folder, name + COPC_SUFFIX)

    def tile_href(self, name: str) -> str:
        """The tile's href in the .vpc: "./OUT-tiles/NAME.copc.laz", relative to the .vpc."""
        return relative_href(self.vpc, self.final_tile(name))

    def overview_href(self, name: str) -> str:
        return relative_href(self.vpc, self.final_overview(name))

    def commit(self, vpc_bytes: bytes, overview_names: Iterable[str]) -> None:
        """Move every file into place, the .vpc last."""
        names = list(overview_names)
        temp_vpc = os.path.join(self.staging, "collection" + VPC_SUFFIX)
        try:
            with open(temp_vpc, "wb") as f:
                f.write(vpc_bytes)
                f.flush()
                os.fsync(f.fileno())
            if os.path.isdir(self.tiles_dir):
                os.rename(self.tiles_dir, os.path.join(self.staging, "replaced-tiles"))
            os.rename(os.path.join(self.staging, "tiles"), self.tiles_dir)
            for name in names:
                os.replace(self.overview_path(name), self.final_overview(name))
            for stale in self._stale_overviews(names):
                remove_quietly(stale)
            os.replace(temp_vpc, self.vpc)
        except OSError as exc:
            raise OutputError(self.vpc, f"cannot move the outputs into place ({exc.strerror})") from None
        finally:
            shutil.rmtree(self.staging, ignore_errors=True)

    def abort(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)

    def _stale_overviews(self, keep: Sequence[str]) -> List[str]:
        """Overview files an earlier build to this name wrote that this one did not."""
        pattern = overview_name_pattern(self.stem)
        kept = {n + COPC_SUFFIX for n in keep}
        return [os.path.join(self.folder, e) for e in os.listdir(self.folder)
                if pattern.match(e) and e not in kept]


def overview_name_pattern(stem: str) -> "re.Pattern":
    """The names of the overview files a tiled build to STEM.vpc writes (one, or split on a grid)."""
    return re.compile(re.escape(f"{stem}-overview") + r"(_-?[0-9.]+_-?[0-9.]+)?" + re.escape(COPC_SUFFIX) + "$")


def vpc_outputs(output, inputs: Sequence[str], options, progress) -> "VpcOutputs":
    """Where a tiled build's files go, checked before any point is read: beside a
    local .vpc, or, for an s3:// .vpc, uploaded from the temp folder (vpc_remote_outputs.py)."""
    if isinstance(output, str) and "://" in output:
        from .vpc_remote_outputs import RemoteVpcOutputs

        return RemoteVpcOutputs(output, options, progress)
    return VpcOutputs(output, inputs)


def _checked_vpc_path(path, inputs: Sequence[str]) -> str:
    path = os.path.abspath(os.fspath(path))
    if not is_vpc_name(path):
        raise OutputError(path, "a tiled build writes a virtual point cloud: name the output *.vpc")
    folder = os.path.dirname(path)
    if os.path.isdir(path):
        raise OutputError(path, "is a folder; give a file name such as out.vpc")
    if not os.path.isdir(folder):
        raise OutputError(path, f"the folder {folder} does not exist")
    for inp in inputs:
        if os.path.exists(inp) and os.path.exists(path) and os.path.samefile(inp, path):
            raise OutputError(path, "is also an input; choose another output name")
    return path


def _check_tiles_folder(tiles_dir: str) -> None:
    """An earlier build's tiles folder may be replaced; anything else stays untouched."""
    if not os.path.lexists(tiles_dir):
        return
    if not os.path.isdir(tiles_dir) or os.path.islink(tiles_dir):
        raise OutputError(tiles_dir, "exists and is not a tiles folder; remove it or choose another output name")
    others = [e for e in os.listdir(tiles_dir) if not e.lower().endswith(COPC_SUFFIX)]
    if others:
        raise OutputError(tiles_dir, f"holds files a tiled build did not write ({others[0]}); remove them or "
                                     f"choose another output name")


def _remove_stale_staging(folder: str, stem: str) -> None:
    """Staging folders of killed builds to the same name (their pid is gone)."""
    prefix = f".{stem}."
    for entry in os.listdir(folder):
        if entry.startswith(prefix) and entry.endswith(TEMP_SUFFIX):
            pid = entry[len(prefix):].split("-", 1)[0]
            if pid.isdigit() and not pid_alive(int(pid)):
                shutil.rmtree(os.path.join(folder, entry), ignore_errors=True)

"""A tiled build's outputs at ``s3://bucket/prefix/out.vpc``: written into a
staging folder of the temp folder, as the local build writes them, then
uploaded.

    s3://bucket/prefix/out-tiles/out_<x>_<y>.copc.laz  first, in name order
    s3://bucket/prefix/out-overview.copc.laz           then the overview(s)
    s3://bucket/prefix/out.vpc                         last

Before any point is read: the bucket exists and takes an upload (one started
and aborted on the .vpc's key, as for one file), and ``out-tiles/`` holds
nothing but ``.copc.laz`` objects (as a local tiles folder must).

S3 has no rename, so the objects cannot appear at once; the order makes the
.vpc the commit point: whoever finds it finds every file it lists.  Each
object is sent as one file is (storage/upload.py: in parts, whole or not at
all).  The hrefs stay relative (``./out-tiles/...``): readers resolve them
against the .vpc's URL.

- A failed, cancelled or interrupted upload removes every object this build
  had started to upload (the .vpc included, had it gone up); no multipart
  upload is left unfinished (each aborts its own).
- An earlier build to the same name: its files of the same names are
  overwritten as the new ones go up (a reader of its .vpc may meanwhile find
  some of them replaced); once the new .vpc is in place, its tiles and
  overviews that the new .vpc does not list are removed.  If the upload
  fails after replacing any of its files, its .vpc is removed too (it would
  list files that are gone); its other files stay until a build to the same
  name succeeds.
"""
from __future__ import annotations

import os
import posixpath
import shutil
import tempfile
from typing import Iterable, List, Set

from ..common.errors import BuildCancelled, CopcBuilderError, OutputError
from ..common.options import BuildOptions
from ..common.progress import Progress
from .vpc_outputs import COPC_SUFFIX, VPC_SUFFIX, VpcOutputs, is_vpc_name, overview_name_pattern


class RemoteVpcOutputs(VpcOutputs):
    """VpcOutputs whose final places are objects under an s3:// prefix."""

    def __init__(self, url: str, options: BuildOptions, progress: Progress):
        from ..storage.storage_options import storage_options
        from ..storage.upload import check_destination, output_location

        self.location = output_location(url)
        self.storage = storage_options(options.storage)
        self.progress = progress
        name = posixpath.basename(self.location.key)
        if not is_vpc_name(name):
            raise OutputError(self.location.shown, "a tiled build writes a virtual point cloud: name the output *.vpc")
        self.vpc = self.location.shown
        self.stem = name[:-len(VPC_SUFFIX)]
        folder = posixpath.dirname(self.location.key)
        self.base = folder + "/" if folder else ""           # the .vpc's "folder", as a key prefix
        self.tiles_key = f"{self.base}{self.stem}-tiles/"
        self.folder = self.location.with_key(self.base).shown
        self.tiles_dir = self.location.with_key(self.tiles_key).shown
        check_destination(self.location, self.storage)
        self._check_tiles_prefix()
        try:
            self.staging = tempfile.mkdtemp(prefix="copc_builder-vpc-", dir=options.temp_dir)
            os.mkdir(os.path.join(self.staging, "tiles"))
        except OSError as exc:
            raise OutputError(self.vpc, f"cannot make the files to upload in the temp folder ({exc.strerror})") \
                from None

    # -- where things go ------------------------------------------------------------------
    def final_tile(self, name: str) -> str:
        return self.location.with_key(self.tiles_key + name + COPC_SUFFIX).shown

    def final_overview(self, name: str) -> str:
        return self.location.with_key(self.base + name + COPC_SUFFIX).shown

    def tile_href(self, name: str) -> str:
        return f"./{self.stem}-tiles/{name}{COPC_SUFFIX}"

    def overview_href(self, name: str) -> str:
        return f"./{name}{COPC_SUFFIX}"

    # -- the upload -------------------------------------------------------------------------
    def commit(self, vpc_bytes: bytes, overview_names: Iterable[str]) -> None:
        """Upload the tiles, the overviews, then the .vpc; then remove what an
        earlier build left that the new .vpc does not list."""
        from ..storage.object_set import upload_files

        files = self._files(vpc_bytes, list(overview_names))
        try:
            before = self._existing()
            started: List = []
            size = sum(os.path.getsize(path) for path, _ in files)
            self.progress.info(f"uploading {len(files)} files, {size / 1e6:.1f} MB, to {self.folder}")
            try:
                upload_files(files, self.storage, started,
                             lambda done, total: self.progress.update("finish", done, total),
                             self.progress.check_cancel)
            except BaseException as exc:
                self._take_back({loc.key for loc in started}, before, vpc_bytes, exc)
                raise
        finally:
            shutil.rmtree(self.staging, ignore_errors=True)
        self._remove_stale(before - {loc.key for _, loc in files})

    def _files(self, vpc_bytes: bytes, overview_names: List[str]) -> list:
        """(local path, location) of every output, in upload order."""
        temp_vpc = os.path.join(self.staging, "collection" + VPC_SUFFIX)
        with open(temp_vpc, "wb") as f:
            f.write(vpc_bytes)
        tiles = sorted(e[:-len(COPC_SUFFIX)] for e in os.listdir(os.path.join(self.staging, "tiles")))
        loc = self.location.with_key
        return ([(self.tile_path(t), loc(self.tiles_key + t + COPC_SUFFIX)) for t in tiles]
                + [(self.overview_path(o), loc(self.base + o + COPC_SUFFIX)) for o in sorted(overview_names)]
                + [(temp_vpc, self.location)])

    def _existing(self) -> Set[str]:
        """The keys of an earlier build to this name: its .vpc, overviews and tiles."""
        from ..storage.object_set import list_keys

        beside, _ = list_keys(self.location.with_key(self.base + self.stem), self.storage)
        tiles, _ = list_keys(self.location.with_key(self.tiles_key), self.storage)
        pattern = overview_name_pattern(self.stem)
        return ({k for k in beside if k == self.location.key or pattern.match(posixpath.basename(k))}
                | {k for k in tiles if k.lower().endswith(COPC_SUFFIX)})

    def _check_tiles_prefix(self) -> None:
        """An earlier build's tiles may be replaced; a prefix holding anything else is refused."""
        from ..storage.object_set import list_keys

        keys, folders = list_keys(self.location.with_key(self.tiles_key), self.storage)
        others = [k for k in keys + folders if k != self.tiles_key and not k.lower().endswith(COPC_SUFFIX)]
        if others:
            raise OutputError(self.tiles_dir, f"holds objects a tiled build did not write "
                                              f"({others[0][len(self.tiles_key):]}); remove them or choose "
                                              f"another output name")

    def _take_back(self, started: Set[str], before: Set[str], vpc_bytes: bytes, cause: BaseException) -> None:
        """Remove what the failed upload stored (the .vpc first), and an earlier
        .vpc whose files it replaced; a failure to do so is one line saying what is left."""
        from ..storage.object_set import delete_keys, read_small

        vpc = self.location.key
        files = started - {vpc}
        drop_vpc = vpc in before and bool(files & before)
        try:
            if vpc in started and not drop_vpc:     # it may have gone up: ours, unless the earlier one is there
                drop_vpc = vpc not in before or read_small(self.location, self.storage) == vpc_bytes
            if drop_vpc:
                delete_keys(self.location, [vpc], self.storage)
            delete_keys(self.location.with_key(self.base), sorted(files), self.storage)
        except CopcBuilderError as exc:
            why = getattr(cause, "problem", None) or ("cancelled" if isinstance(cause, BuildCancelled)
                                                     else type(cause).__name__)
            shown = ", ".join(self.location.with_key(k).shown for k in sorted(files)[:2])
            raise OutputError(self.vpc, f"the upload failed ({why}) and what it had stored could not be removed "
                                        f"({getattr(exc, 'problem', exc)}): {len(files)} file(s) such as {shown}"
                                        f"{' and the .vpc' if drop_vpc else ''}; a build to this name that "
                                        f"succeeds replaces them") from None
        if isinstance(cause, OutputError):
            raise OutputError(cause.path, f"{cause.problem}; the {len(files)} file(s) of the tiled build "
                                          f"already uploaded were removed, its .vpc was not stored") from None

    def _remove_stale(self, stale: Set[str]) -> None:
        """An earlier build's files that the new .vpc does not list; a failure is a warning (the
        new collection is whole)."""
        from ..storage.object_set import delete_keys

        if not stale:
            return
        try:
            delete_keys(self.location.with_key(self.base), sorted(stale), self.storage)
        except CopcBuilderError as exc:
            self.progress.warning(f"{self.folder}: {len(stale)} file(s) of an earlier build that the new .vpc "
                                  f"does not list could not be removed ({getattr(exc, 'problem', exc)})")
            return
        self.progress.info(f"removed {len(stale)} file(s) of an earlier build to {self.vpc} that the new .vpc "
                           f"does not list")

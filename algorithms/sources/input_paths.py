"""Folders and list files among the inputs, turned into the LAS/LAZ paths
they stand for.

    tiles/        the .las/.laz files in the folder (any case, .copc.laz
                  included), sorted by path so the output does not depend on
                  the order the file system lists them in; subfolders too
                  with ``recursive``; other files skipped with one note
    @tiles.txt    one path per line, relative paths relative to the list
                  file; blank lines and lines starting with # ignored; a
                  listed folder is read as above; URLs as they are
    s3://bucket/tiles/
                  the LAS/LAZ objects under the prefix, as a folder's files
                  (an s3:// URL not ending in .las/.laz is a prefix)
    tiles.vpc     a virtual point cloud: the files its items' data assets
                  name (LAS, LAZ or COPC), hrefs relative to the .vpc; a
                  .vpc at an s3:// or http(s):// URL too (its members, then,
                  URLs relative to it)

Everything else (files, arrays, pipelines, opened sources) passes through
unchanged.  A file whose name starts with @ is given as ``./@name``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Tuple

from ..common.errors import InputError
from ..format.vpc_record import VpcItem, parse_collection, resolve_href
from ..storage.urls import is_url, parse_url, path_of, shown_name

LAS_SUFFIXES = (".las", ".laz")
LIST_PREFIX = "@"


def is_las_name(name: str) -> bool:
    """A LAS or LAZ file name (.las, .laz, .copc.laz; any case)."""
    return name.lower().endswith(LAS_SUFFIXES)


@dataclass
class FolderListing:
    """The LAS/LAZ files of a folder, and what was left out."""

    folder: str
    files: List[str] = field(default_factory=list)
    skipped: List[str] = field(default_factory=list)     # other files
    subfolders: int = 0                                  # not searched (recursive off)

    def note(self) -> Optional[str]:
        """One line on what was left out, or None."""
        parts = []
        if self.skipped:
            n = len(self.skipped)
            parts.append(f"skipped {n} file{'' if n == 1 else 's'} that {'is' if n == 1 else 'are'} "
                         f"not LAS/LAZ (e.g. {self.skipped[0]})")
        if self.subfolders:
            n = self.subfolders
            parts.append(f"{n} subfolder{'' if n == 1 else 's'} not searched (--recursive searches them)")
        return f"{self.folder}: " + "; ".join(parts) if parts else None


def list_folder(folder: str, recursive: bool = False) -> FolderListing:
    """The LAS/LAZ files under ``folder``, sorted by path; an error when there are none."""
    listing = FolderListing(folder)
    if recursive:
        for root, dirs, names in os.walk(folder):
            dirs.sort()
            for name in names:
                _sort_into(listing, os.path.join(root, name), os.path.relpath(os.path.join(root, name), folder))
    else:
        for entry in os.scandir(folder):
            if entry.is_dir():
                listing.subfolders += 1
            else:
                _sort_into(listing, entry.path, entry.name)
    listing.files.sort()
    listing.skipped.sort()
    if not listing.files:
        hint = "; use --recursive (recursive=True) to search its subfolders" if listing.subfolders else ""
        raise InputError(folder, f"is a folder with no LAS/LAZ files in it (.las, .laz){hint}")
    return listing


def list_bucket_prefix(url: str, recursive: bool, storage) -> FolderListing:
    """The LAS/LAZ objects under an s3:// prefix, as ``list_folder`` lists a folder."""
    from ..storage.remote import list_prefix
    from ..storage.storage_options import storage_options

    found = list_prefix(parse_url(url), storage_options(storage), recursive)
    listing = FolderListing(found.prefix, found.files, found.skipped, found.subfolders)
    if not listing.files:
        hint = "; use --recursive (recursive=True) to search below it" if listing.subfolders else ""
        raise InputError(found.prefix, f"is a prefix with no LAS/LAZ objects under it (.las, .laz){hint}")
    return listing


def _sort_into(listing: FolderListing, path: str, shown: str) -> None:
    if is_las_name(path):
        listing.files.append(path)
    else:
        listing.skipped.append(shown)


def read_list_file(list_path: str) -> List[str]:
    """The paths of a list file, relative ones made relative to its folder."""
    try:
        with open(list_path, encoding="utf-8-sig") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        raise InputError(list_path, "list file does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(list_path, f"cannot read the list file ({exc})") from None
    base = os.path.dirname(list_path)
    paths = []
    for number, line in enumerate(lines, start=1):
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        if is_url(entry):
            paths.append(entry)
            continue
        path = os.path.join(base, entry)
        if not os.path.exists(path):
            raise InputError(f"{list_path}, line {number}", f"{entry} does not exist")
        paths.append(path)
    if not paths:
        raise InputError(list_path, "list file names no files")
    return paths


def is_vpc_file(item) -> bool:
    """A virtual point cloud (.vpc) among the inputs."""
    return isinstance(item, (str, os.PathLike)) and path_of(os.fspath(item)).lower().endswith(".vpc")


def read_vpc(vpc_path: str, storage=None) -> Tuple[List[VpcItem], int]:
    """The items of a .vpc (a path, or an s3:// or http(s):// URL read through
    the storage layer with ``storage`` options) and its size; one-line errors."""
    shown = shown_name(vpc_path)
    try:
        if is_url(vpc_path):
            from ..storage.remote import read_whole
            from ..storage.storage_options import storage_options

            data = read_whole(vpc_path, storage_options(storage))
        else:
            with open(vpc_path, "rb") as f:
                data = f.read()
        return parse_collection(data), len(data)
    except FileNotFoundError:
        raise InputError(shown, "virtual point cloud does not exist") from None
    except OSError as exc:
        raise InputError(shown, f"cannot read the virtual point cloud ({exc.strerror})") from None
    except ValueError as exc:
        raise InputError(shown, str(exc)) from None


def read_vpc_members(vpc_path: str, storage=None) -> List[str]:
    """The files a .vpc lists (its items' data assets), in its order: paths,
    or URLs (a remote .vpc's relative hrefs resolve against its URL)."""
    items, _ = read_vpc(vpc_path, storage)
    shown = shown_name(vpc_path)
    paths = []
    for item in items:
        path = resolve_href(vpc_path, item.data_href)
        if is_url(path):
            paths.append(path)      # opened with the other inputs: a missing one is one line naming it
            continue
        if "://" in path or is_url(vpc_path):
            raise InputError(shown, f"item {item.id} names {item.data_href}; a .vpc lists local files, or "
                                    f"s3:// and http(s):// URLs")
        if not os.path.isfile(path):
            raise InputError(shown, f"item {item.id} names {item.data_href}, which does not exist ({path})")
        paths.append(path)
    return paths


def is_list_file(item) -> bool:
    """``@path``: a list file of input paths."""
    return isinstance(item, str) and item.startswith(LIST_PREFIX) and len(item) > 1


def expand_inputs(inputs, recursive: bool = False, note: Optional[Callable[[str], None]] = None,
                  storage=None):
    """``inputs`` with every folder, s3:// prefix and ``@list`` replaced by
    the paths they stand for; anything else unchanged (a single item stays
    a single item unless it expands).  ``note`` receives one line per folder
    that had files left out; ``storage`` (StorageOptions) reads prefixes."""
    single = isinstance(inputs, (str, os.PathLike))
    if not single and not isinstance(inputs, (list, tuple)):
        return inputs
    items = [inputs] if single else list(inputs)
    if not any(is_list_file(i) or _is_folder(i) or is_vpc_file(i) for i in items):
        return inputs
    out: list = []
    for item in items:
        if is_vpc_file(item):
            out += read_vpc_members(os.fspath(item), storage)
        elif is_list_file(item):
            for path in read_list_file(item[1:]):
                out += _folder_files(path, recursive, note, storage) if _is_folder(path) else [path]
        elif _is_folder(item):
            out += _folder_files(os.fspath(item), recursive, note, storage)
        else:
            out.append(item)
    return out


def _is_folder(item) -> bool:
    """A local folder, or an s3:// prefix."""
    if is_url(item):
        return parse_url(item).is_prefix
    return isinstance(item, (str, os.PathLike)) and os.path.isdir(item)


def _folder_files(folder: str, recursive: bool, note: Optional[Callable[[str], None]], storage) -> List[str]:
    listing = list_bucket_prefix(folder, recursive, storage) if is_url(folder) else list_folder(folder, recursive)
    text = listing.note()
    if text and note is not None:
        note(text)
    return listing.files

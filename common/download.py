"""Paper-scale sources (real datasets, ImageNet weights) fetched by explicit rules and checked.

Nothing in the embedded default downloads. Each entry of the config section
``downloads`` names a URL, the checksum its publisher gives and how to unpack
it; workflow/rules/downloads.smk fetches it to ``resources/downloads/<name>/<file>``
and, for archives, unpacks it to the directory ``resources/sources/<name>``.
A dataset ``root`` or a weight file that lies under one of those two places is
thereby an output of those rules, so Snakemake fetches what a target needs and
nothing else.

Checksums: sha256, sha1 or md5, as the publisher states them. A sha256 may be
given as the prefix that torchvision puts into its weight files' names (at
least eight hex digits), which is the check torchvision itself applies. A
mismatch deletes the fetched bytes and names the config key, the URL and both
digests. An interrupted download resumes where the server supports byte ranges.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

DOWNLOADS = Path("resources/downloads")
SOURCES = Path("resources/sources")
ALGORITHMS = ("sha256", "sha1", "md5")
CHUNK = 1 << 20


class ChecksumError(RuntimeError):
    """The fetched bytes are not those the configuration's checksum describes."""


@dataclass(frozen=True)
class Source:
    """One entry of ``downloads``: where it comes from, its checksum and its archive format."""

    name: str
    url: str
    algorithm: str
    digest: str
    unpack: str = "none"  # "zip", "tar" (any compression tarfile reads) or "none" (one file)
    file: str | None = None  # the fetched file's name; default: the URL's last path segment

    @classmethod
    def from_config(cls, config: Mapping[str, Any], name: str) -> Source:
        entry = dict(config["downloads"][name])
        algorithm = next(key for key in ALGORITHMS if key in entry)
        return cls(name=name, url=entry["url"], algorithm=algorithm,
                   digest=entry[algorithm].lower(), unpack=entry.get("unpack", "none"),
                   file=entry.get("file"))

    @property
    def key(self) -> str:
        return f"downloads.{self.name}"

    @property
    def filename(self) -> str:
        return self.file or unquote(urlparse(self.url).path.rsplit("/", 1)[-1])

    @property
    def filename_problem(self) -> str | None:
        """Why :attr:`filename` cannot name a file in this source's folder (None if it can):
        the URL's last segment may be empty, decode to ``..`` or hold a ``/`` (``%2F``)."""
        name = self.filename
        if name in ("", ".", ".."):
            return f"gives the file name {name!r}"
        if "/" in name or "\\" in name or not name.isprintable():
            return f"gives the file name {name!r}, which is not one name in one folder"
        return None

    @property
    def fetched(self) -> Path:
        """Where the fetched file lies (also the path a weight entry names)."""
        return DOWNLOADS / self.name / self.filename

    @property
    def unpacked(self) -> Path:
        return SOURCES / self.name


def source_name(path: str | os.PathLike, base: Path) -> str | None:
    """The ``<name>`` of a path under ``base/<name>/`` (DOWNLOADS or SOURCES), else None."""
    parts, depth = Path(path).parts, len(base.parts)
    return parts[depth] if len(parts) > depth and Path(*parts[:depth]) == base else None


def download_inputs(config: Mapping[str, Any], *paths: str | None) -> list[str]:
    """The fetched files and unpacked directories that ``paths`` lie in (a rule's inputs).

    A path under ``resources/downloads/<name>/`` or ``resources/sources/<name>/``
    needs that source; any other path (the user's own copy, or None) needs nothing.
    """
    needed = []
    for path in filter(None, paths):
        for base, location in ((DOWNLOADS, "fetched"), (SOURCES, "unpacked")):
            if (name := source_name(path, base)) is not None:
                needed.append(str(getattr(Source.from_config(config, name), location)))
    return needed


def _hash_of(path: Path, algorithm: str):
    """The running digest of the bytes already at ``path`` (none if it is missing)."""
    digest = hashlib.new(algorithm)
    if path.exists():
        with path.open("rb") as stream:
            for block in iter(lambda: stream.read(CHUNK), b""):
                digest.update(block)
    return digest


def _open(url: str, offset: int):
    """The server's response, from byte ``offset`` where it honours the range; ``None`` when
    the range lies past the end of the file (416: the ``.part`` file is complete or stale)."""
    import urllib.error  # here, not at the top: every job imports this module to check inputs
    import urllib.request

    request = urllib.request.Request(url, headers={"Range": f"bytes={offset}-"} if offset else {})
    try:
        return urllib.request.urlopen(request, timeout=60)  # noqa: S310 (configured URL)
    except urllib.error.HTTPError as error:
        if offset and error.code == 416:
            return None
        raise


def _resumes_at(response, offset: int) -> bool:
    """Whether ``response`` continues a file at ``offset`` (206 with a matching range)."""
    content_range = response.headers.get("Content-Range", f"bytes {offset}-")
    return offset > 0 and response.status == 206 and \
        content_range.startswith(f"bytes {offset}-")


def _download(source: Source, partial: Path):
    """Append the rest of ``source`` to ``partial`` (or rewrite it) and return the digest."""
    offset = partial.stat().st_size if partial.exists() else 0
    response = _open(source.url, offset)
    if response is None:  # nothing left to fetch: the bytes at hand decide
        return _hash_of(partial, source.algorithm), True
    with response:
        resumed = _resumes_at(response, offset)
        digest = _hash_of(partial, source.algorithm) if resumed else hashlib.new(source.algorithm)
        with partial.open("ab" if resumed else "wb") as stream:
            for block in iter(lambda: response.read(CHUNK), b""):
                stream.write(block)
                digest.update(block)
    return digest, resumed


def fetch(source: Source, destination: str | os.PathLike) -> str:
    """Download ``source`` to ``destination`` via ``<destination>.part`` and verify it.

    Bytes already in the ``.part`` file of an interrupted run are kept when the
    server answers the range request (206); otherwise the download starts over. A
    resumed file that fails the check is fetched once more from its first byte
    (the old bytes may be stale). Returns the full hex digest; on a mismatch
    nothing is left at either path.
    """
    destination = Path(destination)
    partial = destination.with_name(destination.name + ".part")
    destination.parent.mkdir(parents=True, exist_ok=True)
    digest, resumed = _download(source, partial)
    if resumed and not digest.hexdigest().startswith(source.digest):
        partial.unlink()
        digest, _ = _download(source, partial)
    actual = digest.hexdigest()
    if not actual.startswith(source.digest):
        partial.unlink()
        raise ChecksumError(f"config key '{source.key}': {source.url} has {source.algorithm} "
                            f"{actual}, but the configuration expects {source.digest}")
    os.replace(partial, destination)
    return actual


def verify_fetched(config: Mapping[str, Any], paths) -> None:
    """Check the checksum of each of ``paths`` that is a configured source's fetched file.

    A file placed by hand under ``resources/downloads/<name>/`` was never fetched, so never
    checked (Snakemake runs no download for a file that exists): the jobs that read it
    check it here first. Raises :class:`ChecksumError` naming the file and its key."""
    for path in map(Path, paths):
        if (name := source_name(path, DOWNLOADS)) is None:
            continue
        source = Source.from_config(config, name)
        if path != source.fetched:
            continue
        actual = _hash_of(path, source.algorithm).hexdigest()
        if not actual.startswith(source.digest):
            raise ChecksumError(
                f"config key '{source.key}': {path} has {source.algorithm} {actual}, but the "
                f"configuration expects {source.digest}; it is not the published file (placed "
                f"by hand, or changed since): replace it, or delete it to have it fetched")


def _members_inside(names: list[str], archive: Path) -> None:
    for name in names:
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise ValueError(f"{archive}: member {name!r} would be written outside its folder")


def _extract(source: Source, archive: Path, folder: Path) -> None:
    if source.unpack == "zip":
        with zipfile.ZipFile(archive) as bundle:
            _members_inside(bundle.namelist(), archive)
            bundle.extractall(folder)
    elif source.unpack == "tar":
        with tarfile.open(archive) as bundle:
            _members_inside(bundle.getnames(), archive)
            bundle.extractall(folder, filter="data")
    else:
        raise ValueError(f"config key '{source.key}.unpack': {source.unpack!r} is a single file; "
                         f"use {source.fetched} itself")


def unpack(source: Source, archive: str | os.PathLike, directory: str | os.PathLike) -> None:
    """Extract ``archive`` into ``directory``: built beside it, renamed into place when
    complete, removed if extraction fails."""
    archive, directory = Path(archive), Path(directory)
    building = directory.with_name(directory.name + ".part")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    try:
        _extract(source, archive, building)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    shutil.rmtree(directory, ignore_errors=True)
    os.replace(building, directory)

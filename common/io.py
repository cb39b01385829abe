"""Small file utilities: content hashes and atomic writes.

Every output of the workflow is written through :func:`atomic_path`, so that an
interrupted job never leaves a half-written file that looks complete.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import hashlib
import json
import os
import pickle
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_CHUNK = 1 << 20


def sha256_file(path: str | os.PathLike) -> str:
    """Return the hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_path(path: str | os.PathLike) -> str:
    """The sha256 of a file, or of a directory's listing: each file's relative path and
    sha256, in sorted order (an unpacked archive is one output of its rule)."""
    path = Path(path)
    if not path.is_dir():
        return sha256_file(path)
    digest = hashlib.sha256()
    for member in sorted(item for item in path.rglob("*") if item.is_file()):
        digest.update(f"{member.relative_to(path).as_posix()}\0{sha256_file(member)}\n".encode())
    return digest.hexdigest()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only on success.

    The temporary name keeps the suffix, because writers such as ``np.savez`` and
    ``Figure.savefig`` choose their format from it. On error the temporary file
    is removed and ``path`` is left as it was; a full disk is reported naming ``path``
    (torch and numpy say only "No space left on device"). Temporary files of ``path``
    that a killed process left behind are removed first (Snakemake never runs two jobs
    that write the same output).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(target)
    temporary = target.with_name(f".{target.stem}.tmp{os.getpid()}{target.suffix}")
    try:
        yield temporary
        os.replace(temporary, target)
    except OSError as error:
        if error.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        raise OSError(error.errno, f"no space left on the device (or quota) to write {target}; "
                      f"it is as it was before this job: free space and rerun",
                      str(target)) from error
    finally:
        temporary.unlink(missing_ok=True)


def save_torch(data: Any, path: str | os.PathLike) -> None:
    """``torch.save`` ``data`` to ``path`` atomically, through a file object.

    Given a path, torch names the records inside its zip archive after the file, so
    saving to the temporary path would write this process's id into the bytes; given a
    file object it names them ``archive/``, and the same data gives the same bytes in
    every run (which ``lineage verify`` and byte-identical reruns rely on).
    """
    import torch  # here, not above: most users of this module never load torch

    with atomic_path(path) as temporary, temporary.open("wb") as stream:
        torch.save(data, stream)


def _remove_leftovers(target: Path) -> None:
    """Delete ``target``'s temporary files from earlier, killed writes."""
    pattern = re.compile(rf"\.{re.escape(target.stem)}\.tmp\d+{re.escape(target.suffix)}")
    for leftover in target.parent.glob(f".{glob.escape(target.stem)}.tmp*"):
        if pattern.fullmatch(leftover.name):
            leftover.unlink(missing_ok=True)


class UnreadableFile(ValueError):
    """A file the workflow wrote whose bytes can no longer be read (truncated, corrupted)."""


def load_torch(path: str | os.PathLike, map_location: Any = "cpu") -> Any:
    """``torch.load`` of a file this workflow wrote, tensors and plain data only.

    A corrupted file raises :class:`UnreadableFile` naming it, and the rule that wrote it
    where a provenance record says so, instead of torch's advice to load it with
    ``weights_only=False`` (which would not help, and would run whatever code it holds).
    """
    import torch

    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except (RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile) as error:
        raise UnreadableFile(f"{path} is not a readable torch file ({type(error).__name__})"
                             f"{_rebuild_hint(path)}") from None


def _rebuild_hint(path: str | os.PathLike) -> str:
    from common.provenance import BrokenRecord, read_record

    try:
        record = read_record(path)
    except BrokenRecord:
        record = None
    if record is None:
        return ""
    return (f"; rule {record['rule']} wrote it: rebuild it with "
            f"snakemake --forcerun {record['rule']} {path}")


def write_json(path: str | os.PathLike, data: Any) -> None:
    """Write ``data`` as indented, key-sorted JSON, atomically."""
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file."""
    return json.loads(Path(path).read_text())

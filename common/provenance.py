"""Provenance records: what produced each output, from which inputs, with which code.

One JSON record per output file, at ``results/provenance/<output path>.json``
(paths relative to the working directory). A job writes one record for each of
its declared outputs; they differ only in ``output``. One file per output keeps
parallel jobs from ever writing the same file, and makes the record of an
output a direct look-up.
"""

from __future__ import annotations

import csv
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from common import PROJECT_ROOT
from common.io import read_json, sha256_file, sha256_path, write_json

RECORD_ROOT = Path("results") / "provenance"
RECORD_VERSION = 1
REPORT_LABELS = ("commit", "inputs (sha256)", "W&B run")


def record_path(output: str | os.PathLike, workdir: Path | None = None) -> Path:
    """Where the record of ``output`` (a path relative to the working directory) lives."""
    return (workdir or Path.cwd()) / RECORD_ROOT / f"{Path(output).as_posix()}.json"


#: The keys an audit reads from every record.
AUDITED_KEYS = ("output", "output_sha256", "inputs", "rule", "code")


class BrokenRecord(ValueError):
    """A provenance record that cannot be audited: unreadable, not JSON (a job killed while
    writing it, a disk that filled), or without the keys an audit reads."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"provenance record {path} is broken: {reason}")
        self.path, self.reason = path, reason


def _load_record(path: Path) -> dict:
    try:
        record = read_json(path)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BrokenRecord(path, str(error)) from None
    if not isinstance(record, dict):
        raise BrokenRecord(path, "not a JSON object")
    missing = [key for key in AUDITED_KEYS if key not in record]
    if missing:
        raise BrokenRecord(path, f"missing {', '.join(missing)}")
    return record


def read_record(output: str | os.PathLike, workdir: Path | None = None) -> dict | None:
    """The record of ``output``, or None where the file has no record (raw data); raises
    :class:`BrokenRecord` where the record cannot be audited."""
    path = record_path(output, workdir)
    return _load_record(path) if path.exists() else None


def output_of(record_file: Path, workdir: Path | None = None) -> str:
    """The output a record file describes (the inverse of :func:`record_path`)."""
    relative = record_file.relative_to((workdir or Path.cwd()) / RECORD_ROOT).as_posix()
    return relative.removesuffix(".json")


def read_all_records(workdir: Path | None = None) -> tuple[list[dict], list[BrokenRecord]]:
    """Every record under the working directory's provenance folder, and, apart, every
    broken one, so that an audit reports those and goes on with the rest."""
    records, broken = [], []
    for path in sorted(((workdir or Path.cwd()) / RECORD_ROOT).rglob("*.json")):
        try:
            records.append(_load_record(path))
        except BrokenRecord as error:
            broken.append(error)
    return records, broken


def job_of(record: dict) -> tuple[str, str]:
    """The job that wrote ``record``: its rule and wildcards (as sorted JSON)."""
    return record["rule"], json.dumps(record.get("wildcards", {}), sort_keys=True)


def job_records(records: list[dict]) -> list[dict]:
    """One record per job: a job with several outputs wrote one record for each, which
    differ only in ``output``; jobs are told apart by rule and wildcards."""
    seen, jobs = set(), []
    for record in records:
        job = job_of(record)
        if job not in seen:
            seen.add(job)
            jobs.append(record)
    return jobs


def write_records(job: dict[str, Any], outputs: list[str]) -> None:
    """Write one record per output, each carrying the whole job and its own hash."""
    hashes = {output: sha256_path(output) for output in outputs}
    for output in outputs:
        record = dict(job, output=output, output_sha256=hashes[output], outputs=hashes)
        write_json(record_path(output), record)


def report_labels(output: str | os.PathLike) -> dict[str, str]:
    """What the HTML report shows beside an output: the commit that computed it (marked where
    the tree had uncommitted changes), the sha256 of each input (its first 12 hex digits), and
    the W&B run; the same keys say so where the record is missing or broken."""
    try:
        record = read_record(output)
    except BrokenRecord as error:
        return dict.fromkeys(REPORT_LABELS, f"record broken: {error.reason}")
    if record is None:
        return dict.fromkeys(REPORT_LABELS, "not recorded")
    code, run = record["code"], record.get("wandb") or {}
    commit = (code.get("commit") or "outside git")[:12]
    inputs = "; ".join(f"{Path(item['path']).name} {item['sha256'][:12]}"
                       for item in record["inputs"])
    return dict(zip(REPORT_LABELS, (
        commit + (" with uncommitted changes" if code.get("dirty") else ""),
        inputs or "none",
        run.get("run_id") or f"none (W&B {run.get('mode', 'not recorded')})",
    ), strict=True))


def hash_files(paths: list[str]) -> list[dict[str, str]]:
    """Path and sha256 of each file, in the given order."""
    return [{"path": path, "sha256": sha256_path(path)} for path in paths]


def _interpreter_prefixes() -> tuple[str, ...]:
    """The folders of the interpreter and its environment, which hold no project file:
    checked as text before any path is resolved, because a job imports thousands of their
    modules. A prefix that holds the project itself is left out."""
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    return tuple(prefix.rstrip(os.sep) + os.sep for prefix in sorted(prefixes)
                 if not PROJECT_ROOT.is_relative_to(prefix))


def project_modules() -> dict[str, str]:
    """sha256 of every project source file imported in this process, keyed by relative path.

    The running script counts too (Snakemake sets ``__main__.__file__`` to the
    original script path). Files of the virtual environment are excluded.
    """
    files = {getattr(module, "__file__", None) for module in list(sys.modules.values())}
    elsewhere = _interpreter_prefixes()
    hashes = {}
    for name in files:
        if (not name or not name.endswith(".py") or not os.path.isabs(name)
                or name.startswith(elsewhere)):
            continue
        path = Path(name).resolve()
        if not path.is_relative_to(PROJECT_ROOT) or ".venv" in path.parts:
            continue
        hashes[path.relative_to(PROJECT_ROOT).as_posix()] = sha256_file(path)
    return dict(sorted(hashes.items()))


def git_state() -> dict[str, Any]:
    """The project's git commit and whether the tree differs from it (None outside git)."""

    def git(*args: str) -> str | None:
        try:
            result = subprocess.run(
                ["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
            )
        except (OSError, subprocess.CalledProcessError):
            return None
        return result.stdout.strip()

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": None if commit is None else bool(status)}


def top_level_modules(distribution: importlib.metadata.Distribution) -> set[str]:
    """The top-level modules ``distribution`` provides, as ``packages_distributions()`` of
    ``importlib.metadata`` finds them: its ``top_level.txt``, else the first part of each
    ``.py`` file it lists. RECORD is read as text: building each of its paths as an object,
    as the standard library does, costs a job a tenth of a second."""
    declared = (distribution.read_text("top_level.txt") or "").split()
    if declared:
        return set(declared)
    record = distribution.read_text("RECORD")
    if record is None:  # no RECORD (an egg-info): the standard library's file list
        paths = [str(path) for path in distribution.files or ()]
    else:
        paths = [row[0] for row in csv.reader(record.splitlines()) if row]
    return {_top_level(path) for path in paths if path.endswith(".py")}


def _top_level(path: str) -> str:
    """The first part of a relative POSIX path, or its stem if it has one part."""
    parts = [part for part in path.split("/") if part not in ("", ".")]
    return parts[0] if len(parts) > 1 else parts[-1].removesuffix(".py")


def name_and_version(distribution: importlib.metadata.Distribution) -> tuple[str, str]:
    """The distribution's Name and Version, read from its metadata's header lines only: the
    standard library's parser reads each long description too, another tenth of a second."""
    text = distribution.read_text("METADATA") or distribution.read_text("PKG-INFO") or ""
    headers = dict(line.split(": ", 1) for line in text.partition("\n\n")[0].splitlines()
                   if ": " in line and not line[:1].isspace())
    if "Name" in headers and "Version" in headers:
        return headers["Name"], headers["Version"]
    return distribution.metadata["Name"], distribution.version


def imported_packages() -> dict[str, str]:
    """Version of every installed distribution whose top-level module this process imported:
    of a name installed twice, the one found first on ``sys.path``, as importlib finds it."""
    imported = {name.partition(".")[0] for name in list(sys.modules)}
    installed: dict[str, str] = {}
    provides: dict[str, set[str]] = {}
    for distribution in importlib.metadata.distributions():
        name, version = name_and_version(distribution)
        installed.setdefault(name, version)
        provides.setdefault(name, set()).update(top_level_modules(distribution))
    versions = {name: installed[name] for name, modules in provides.items() if modules & imported}
    versions["python"] = platform.python_version()
    return dict(sorted(versions.items(), key=lambda item: item[0].lower()))

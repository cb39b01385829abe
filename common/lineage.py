"""Audit where outputs came from: ``python -m common.lineage {show,verify,stale}``.

- ``show OUTPUT``: the chain of jobs from OUTPUT back to raw or generated data.
- ``verify``: re-hash every recorded output and input; list each mismatch (exit 1).
- ``stale``: outputs whose recorded code or inputs no longer match the tree,
  directly or through an upstream output that is stale.
- ``timings``: a Markdown table of where a run's time went, per rule, from the
  jobs' recorded clocks (the benchmark tables of docs/benchmarks.md), and how far its
  span is from the shortest any schedule could reach.

A broken record (truncated, not JSON) is named in each command's report, and the
audit goes on with the others; ``show`` and ``verify`` then exit 1.

Run it from the workflow's working directory. ``--json`` prints machine-readable
output. Parameters are not re-checked here: ``snakemake --list-changes params``
does that against the current configuration.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
import sys
from pathlib import Path
from typing import Any

from common import PROJECT_ROOT
from common.io import sha256_file, sha256_path
from common.provenance import (
    BrokenRecord,
    job_of,
    job_records,
    output_of,
    read_all_records,
    read_record,
)


@functools.cache
def _current_sha(path: str) -> str | None:
    """sha256 of a file (or unpacked directory) in the working directory now, None if gone."""
    return sha256_path(path) if Path(path).exists() else None


@functools.cache
def _current_code_sha(relative: str) -> str | None:
    path = PROJECT_ROOT / relative
    return sha256_file(path) if path.is_file() else None


def lineage(output: str, seen: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The record of ``output`` with each input's own lineage nested under ``inputs``."""
    try:
        record = read_record(output)
    except BrokenRecord as error:
        return {"output": output, "origin": f"BROKEN record {error.path}: {error.reason}",
                "broken_record": str(error.path), "sha256": _current_sha(output)}
    if record is None:
        return {"output": output, "origin": "raw (no provenance record)",
                "sha256": _current_sha(output)}
    if output in seen:
        raise ValueError(f"provenance cycle through {output}")
    inputs = []
    for entry in record["inputs"]:
        upstream = lineage(entry["path"], seen | {output})
        inputs.append({**entry, "matches_now": _current_sha(entry["path"]) == entry["sha256"],
                       "lineage": upstream})
    return {**record, "inputs": inputs}


def _format(node: dict[str, Any], depth: int = 0, shown: dict | None = None) -> list[str]:
    """Text lines for one node; its inputs' nodes follow, indented one level deeper.

    A job with several outputs is printed in full once; later outputs of the same
    job refer back to the first.
    """
    pad = "    " * depth
    if "rule" not in node:
        return [f"{pad}{node['output']}  sha256 {node['sha256']}  [{node['origin']}]"]
    shown = {} if shown is None else shown
    job_key = (node["rule"], json.dumps(node["wildcards"], sort_keys=True), node["started"])
    if job_key in shown:
        return [f"{pad}{node['output']}  sha256 {node['output_sha256']}  "
                f"[same job as {shown[job_key]}, above]"]
    shown[job_key] = node["output"]
    code, wandb = node["code"], node["wandb"]
    lines = [
        f"{pad}{node['output']}  sha256 {node['output_sha256']}",
        f"{pad}  rule      {node['rule']}  wildcards {json.dumps(node['wildcards'])}",
        f"{pad}  params    {json.dumps(node['params'], sort_keys=True)}",
        f"{pad}  code      git {code['commit']} dirty={code['dirty']} script {code['script']}",
    ]
    lines += [f"{pad}            {sha[:16]}  {path}" for path, sha in code["modules"].items()]
    packages = ", ".join(f"{name}=={version}" for name, version in node["packages"].items())
    lines += [
        f"{pad}  packages  {packages}",
        f"{pad}  device    {node['device']}  seed {node['seed']}",
        f"{pad}  time      {node['started']} -> {node['finished']} ({node['wall_seconds']} s)",
        f"{pad}  wandb     {wandb['mode']} run {wandb['run_id']} dir {wandb['dir']}",
    ]
    if not node["inputs"]:
        lines.append(f"{pad}  inputs    none: generated from parameters and seed")
    for entry in node["inputs"]:
        if not entry["matches_now"]:
            lines.append(f"{pad}  CHANGED   {entry['path']} differs from its recorded sha256 "
                         f"{entry['sha256']}")
        lines += _format(entry["lineage"], depth + 1, shown)
    return lines


def _broken_in(tree: dict[str, Any]) -> list[str]:
    """The broken records a lineage tree reached."""
    found = [tree["broken_record"]] if "broken_record" in tree else []
    for entry in tree.get("inputs", []):
        found += _broken_in(entry["lineage"])
    return found


def verify() -> list[dict[str, str]]:
    """Every recorded output or input whose bytes differ from the record, or that is missing,
    and every broken record (role ``record``)."""
    records, broken = read_all_records()
    mismatches = [{"record_of": output_of(error.path), "role": "record",
                   "path": str(error.path), "recorded": "a readable record",
                   "now": error.reason} for error in broken]
    for record in records:
        expected = [("output", record["output"], record["output_sha256"])]
        expected += [("input", entry["path"], entry["sha256"]) for entry in record["inputs"]]
        for role, path, sha in expected:
            now = _current_sha(path)
            if now != sha:
                mismatches.append({"record_of": record["output"], "role": role, "path": path,
                                   "recorded": sha, "now": now or "missing"})
    return mismatches


def stale() -> dict[str, list[str]]:
    """Map each stale output to the reasons it is stale."""
    readable, broken = read_all_records()
    records = {record["output"]: record for record in readable}
    unreadable = {output_of(error.path): error for error in broken}
    audited = records.keys() | unreadable.keys()

    @functools.cache
    def reasons(output: str) -> tuple[str, ...]:
        if output in unreadable:
            return (f"broken record {unreadable[output].path}: {unreadable[output].reason}",)
        record = records[output]
        found = []
        for path, sha in record["code"]["modules"].items():
            if _current_code_sha(path) != sha:
                found.append(f"code changed: {path}")
        for entry in record["inputs"]:
            if _current_sha(entry["path"]) != entry["sha256"]:
                found.append(f"input changed: {entry['path']}")
            elif entry["path"] in audited and reasons(entry["path"]):
                found.append(f"upstream stale: {entry['path']}")
        return tuple(found)

    return {output: list(reasons(output)) for output in sorted(audited) if reasons(output)}


def rule_timings(records: list[dict]) -> list[dict[str, Any]]:
    """Per rule, slowest first: jobs, summed job seconds (the job's own clock, from its
    ``with Job`` to its record), summed process seconds (from the process's start, so with
    imports and W&B; absent in records older than that field) and the longest job."""
    rows: dict[str, dict[str, Any]] = {}
    for record in job_records(records):
        row = rows.setdefault(record["rule"], {"rule": record["rule"], "jobs": 0, "seconds": 0.0,
                                               "process_seconds": 0.0, "longest": 0.0})
        process = record.get("execution", {}).get("process_seconds")
        row["jobs"] += 1
        row["seconds"] += record["wall_seconds"]
        row["process_seconds"] = (None if process is None or row["process_seconds"] is None
                                  else row["process_seconds"] + process)
        row["longest"] = max(row["longest"], record["wall_seconds"])
    return sorted(rows.values(), key=lambda row: (-row["seconds"], row["rule"]))


def _process_seconds(record: dict) -> float:
    """A job's seconds from its process's start (its own clock in records without them)."""
    process = record.get("execution", {}).get("process_seconds")
    return record["wall_seconds"] if process is None else process


def longest_chain(records: list[dict]) -> tuple[float, tuple[str, ...]]:
    """The chain of jobs, each reading an output of the one before, whose processes took the
    most seconds together, with its rules from first to last: however many cores, no
    schedule of these jobs ends sooner."""
    producers = {record["output"]: job_of(record) for record in records}
    jobs = {job_of(record): record for record in job_records(records)}

    @functools.cache
    def ending_with(job: tuple[str, str]) -> tuple[float, tuple[str, ...]]:
        record = jobs[job]
        before = {producers[item["path"]] for item in record.get("inputs", [])
                  if item["path"] in producers} - {job}
        seconds, rules = max((ending_with(other) for other in before), default=(0.0, ()))
        return seconds + _process_seconds(record), (*rules, record["rule"])

    return max((ending_with(job) for job in jobs), default=(0.0, ()))


def run_span(records: list[dict]) -> float:
    """Seconds from the first job's start to the last job's end (Snakemake's own start-up
    and its work between jobs included, set-up and the first job's imports not)."""
    started = min(dt.datetime.fromisoformat(record["started"]) for record in records)
    finished = max(dt.datetime.fromisoformat(record["finished"]) for record in records)
    return (finished - started).total_seconds()


def timings_markdown(records: list[dict], cores: int) -> str:
    """:func:`rule_timings` as a Markdown table with a total line, the run's span, and the
    two bounds no schedule on ``cores`` cores goes below: the jobs' process seconds shared
    by the cores, and the longest chain of jobs that wait for each other."""
    rows = rule_timings(records)
    total = sum(row["seconds"] for row in rows)

    def process(value):
        return "" if value is None else f"{value:.0f}"

    lines = ["| rule | jobs | job s | share | longest job s | process s |",
             "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {row['rule']} | {row['jobs']} | {row['seconds']:.0f} | "
              f"{100 * row['seconds'] / total:.1f} % | {row['longest']:.0f} | "
              f"{process(row['process_seconds'])} |" for row in rows]
    processes = [row["process_seconds"] for row in rows]
    all_process = None if None in processes else sum(processes)
    lines.append(f"| all | {sum(row['jobs'] for row in rows)} | {total:.0f} | 100 % | | "
                 f"{process(all_process)} |")
    lines.append(f"\nFirst job's start to last job's end: {run_span(records):.0f} s.")
    work = sum(_process_seconds(record) for record in job_records(records))
    chain, rules = longest_chain(records)
    lines.append(f"No schedule on {cores} cores ends sooner than the jobs' processes shared by "
                 f"the cores ({work:.0f} s / {cores} = {work / cores:.0f} s) or the longest "
                 f"chain of jobs each reading the one before's output ({chain:.0f} s: "
                 f"{' -> '.join(rules)}).")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m common.lineage", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    commands = parser.add_subparsers(dest="command", required=True)
    show_parser = commands.add_parser("show", help="print the lineage of one output")
    show_parser.add_argument("output", help="path of an output, relative to the working directory")
    commands.add_parser("verify", help="re-hash recorded inputs and outputs")
    commands.add_parser("stale", help="list outputs whose code or inputs changed")
    timings = commands.add_parser("timings", help="per-rule time of the recorded jobs (Markdown)")
    timings.add_argument("--cores", type=int, default=os.cpu_count(),
                         help="the cores the run had (default: this machine's)")
    args = parser.parse_args(argv)

    if args.command == "show":
        tree = lineage(args.output)
        if "rule" not in tree and "broken_record" not in tree:
            parser.error(f"no provenance record for {args.output!r}")
        print(json.dumps(tree, indent=2) if args.json else "\n".join(_format(tree)))
        return 1 if _broken_in(tree) else 0
    if args.command == "verify":
        mismatches = verify()
        if args.json:
            print(json.dumps(mismatches, indent=2))
        for item in [] if args.json else mismatches:
            if item["role"] == "record":
                print(f"BROKEN record {item['path']} (of {item['record_of']}): {item['now']}")
                continue
            print(f"MISMATCH {item['role']} {item['path']} (recorded for {item['record_of']}): "
                  f"recorded {item['recorded']}, now {item['now']}")
        if not args.json and not mismatches:
            print("all recorded inputs and outputs match")
        return 1 if mismatches else 0
    if args.command == "timings":
        records, broken = read_all_records()
        for error in broken:
            print(f"BROKEN {error}", file=sys.stderr)
        if not records:
            parser.error("no provenance records under results/provenance: run the workflow first")
        print(json.dumps(rule_timings(records), indent=2) if args.json
              else timings_markdown(records, args.cores))
        return 1 if broken else 0
    found = stale()
    if args.json:
        print(json.dumps(found, indent=2))
    for output, why in [] if args.json else found.items():
        print(f"{output}: {'; '.join(why)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

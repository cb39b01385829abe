"""Whether two runs' results trees hold the same results, wall-clock fields aside.

    python -m bench.same_results RUN_A/results RUN_B/results

For checking that a speed change changed nothing it should not: files with equal
bytes pass; a differing ``.pt`` file passes when every tensor is equal (``torch.equal``)
and every other value too, a ``.json`` file when every value is equal, a ``.csv``
file when its columns are the same and equal. Fields and columns whose names speak
of time (seconds, runtime, started, ...) are left out of the comparison, and so are
the provenance records, which hold each job's times and code hashes. Any other
differing file (figures, HTML) is listed as not comparable. Exits 1 when a file
differs or is missing.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import math
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import torch

#: Substrings of the field and column names that hold wall-clock values.
TIMING_WORDS = ("second", "time", "_ms", "duration", "started", "finished")


def is_timing(name: Any) -> bool:
    """Whether a field or column name holds a wall-clock value."""
    return any(word in str(name).lower() for word in TIMING_WORDS)


def same_value(a: Any, b: Any) -> bool:
    """Equal tensors, numbers (NaN equal to NaN), strings and containers of them; timing
    fields of dictionaries left out."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)
                and a.shape == b.shape and torch.equal(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        keys = {key for key in (*a, *b) if not is_timing(key)}
        return all(same_value(a.get(key), b.get(key)) for key in keys)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(map(same_value, a, b))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def same_table(a: Path, b: Path) -> bool:
    """Same columns, equal values in every column that is not a timing."""
    first, second = pd.read_csv(a), pd.read_csv(b)
    kept = [column for column in first.columns if not is_timing(column)]
    return list(first.columns) == list(second.columns) and first[kept].equals(second[kept])


def verdict(a: Path, b: Path) -> str | None:
    """None when the two files hold the same results, else why not."""
    if not b.is_file():
        return "missing"
    if filecmp.cmp(a, b, shallow=False):
        return None
    if a.suffix == ".pt":
        load = {"weights_only": False, "map_location": "cpu"}
        same = same_value(torch.load(a, **load), torch.load(b, **load))
    elif a.suffix == ".json":
        same = same_value(json.loads(a.read_text()), json.loads(b.read_text()))
    elif a.suffix == ".csv":
        same = same_table(a, b)
    else:
        return "not comparable"
    return None if same else "differs"


def differences(first: Path, second: Path) -> list[tuple[str, str]]:
    """(path relative to the tree, why) for every file of ``first`` whose results differ in
    ``second``; the provenance records are left out."""
    found = []
    for path in sorted(first.rglob("*")):
        relative = path.relative_to(first)
        if not path.is_file() or "provenance" in relative.parts:
            continue
        why = verdict(path, second / relative)
        if why:
            found.append((relative.as_posix(), why))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    arguments = parser.parse_args()
    found = differences(arguments.first, arguments.second)
    for relative, why in found:
        print(f"{why}: {relative}")
    differing = sum(why != "not comparable" for _, why in found)
    print(f"{differing} files differ or are missing; "
          f"{len(found) - differing} differ in bytes and are not comparable")
    sys.exit(1 if differing else 0)


if __name__ == "__main__":
    main()

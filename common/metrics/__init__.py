"""Evaluation metrics for attributions and decompositions, batched on the device.

Every metric returns one score per image and declares whether higher or lower
is better (the registry below), so tables and tests can rank methods without
knowing each metric's convention.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from common.metrics import comparison, faithfulness, localisation


@dataclass(frozen=True)
class Metric:
    """One per-image metric, its score direction and the kind of question it answers.

    Categories: "faithfulness" (model, x, attribution or decomposition, target),
    "localisation" (attribution, mask), "comparison" (map, reference map).
    ``settings`` maps the function's keyword arguments to the evaluation settings they
    take (:class:`common.metrics.evaluate.MetricSettings`, the config's ``metrics``);
    ``decomposes``: the metric scores a decomposition, so an evaluation of heatmaps
    hands it each map's :func:`~common.metrics.faithfulness.distinct_part`.
    """

    function: Callable
    higher_is_better: bool
    category: str
    description: str
    settings: Mapping[str, str] = field(default_factory=dict)
    decomposes: bool = False


METRICS: dict[str, Metric] = {
    "deletion_auc": Metric(faithfulness.deletion_auc, False, "faithfulness",
                           "score while the most important pixels are removed first",
                           {"steps": "deletion_steps"}),
    "insertion_auc": Metric(faithfulness.insertion_auc, True, "faithfulness",
                            "score while the most important pixels are restored first",
                            {"steps": "deletion_steps"}),
    "aopc": Metric(faithfulness.aopc, True, "faithfulness",
                   "mean logit drop, most relevant 9x9 regions first (Samek et al.)",
                   {"steps": "aopc_steps", "patch": "aopc_patch"}),
    "decomposition_auc": Metric(faithfulness.decomposition_auc, False, "faithfulness",
                                "accuracy of x - beta x_distinct over beta in [0, 1] (DXAI)",
                                decomposes=True),
    "pointing_game": Metric(localisation.pointing_game, True, "localisation",
                            "the map's maximum lies on the object (with a tolerance)",
                            {"tolerance": "pointing_tolerance"}),
    "energy_pointing_game": Metric(localisation.energy_pointing_game, True, "localisation",
                                   "share of positive relevance inside the object"),
    "iou": Metric(localisation.iou, True, "localisation",
                  "IoU of the map above half its peak with the object",
                  {"threshold": "iou_threshold"}),
    **{name: Metric(function, higher, "comparison", (function.__doc__ or "").split("\n")[0])
       for name, (function, higher) in comparison.COMPARISONS.items()},
}

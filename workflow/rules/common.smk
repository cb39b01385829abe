"""Wildcard constraints shared by the rule files."""

from common.data import DATASETS


wildcard_constraints:
    dataset="|".join(name for name, spec in DATASETS.items() if "train" in spec.splits),
    seed=r"\d+",

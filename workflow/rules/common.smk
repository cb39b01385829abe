"""Wildcard constraints shared by the rule files."""

from common.data import GENERATORS


wildcard_constraints:
    dataset="|".join(GENERATORS),
    seed=r"\d+",

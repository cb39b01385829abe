"""Wildcard constraints and input functions shared by the rule files."""

from snakemake.io import apply_wildcards

from common.data import DATASETS
from common.download import download_inputs
from common.provenance import report_labels

# The GPUs a job that computes with torch asks the scheduler for: one when the configuration's
# device is cuda, none otherwise, so that a cluster without GPUs is never asked for one (under
# auto, a job takes the GPU its machine shows it). Every rule that computes with torch declares
# this resource, and only such a job computes on the configured device (common/tracking.py).
# The device is no rule's parameter: where a job ran is in its provenance record, and moving
# to another machine or profile reruns nothing.
GPU = 1 if config["device"] == "cuda" else 0

wildcard_constraints:
    dataset="|".join(name for name, spec in DATASETS.items() if "train" in spec.splits),
    seed=r"\d+",


def traced_report(path: str, **settings):
    """Snakemake's report flag on ``path``, labelled in the HTML report with the provenance
    of the file it marks: commit, inputs' sha256 and W&B run (read when the report is made)."""
    return report(path, labels=lambda wildcards: report_labels(apply_wildcards(path, wildcards)),
                  **settings)


def dataset_sources(wildcards) -> list[str]:
    """The unpacked archive a dataset's root lies in (under resources/sources/), if any."""
    return download_inputs(config, config["datasets"][wildcards.dataset].get("root"))

"""Datasets under resources/data/: generated with ground truth, or shipped real images."""

from common.data import DATASETS
from common.paths import dataset_files, dataset_preview


rule make_dataset:
    """Build a labelled dataset's splits, manifest (sha256 of each file) and preview."""
    input:
        sources=dataset_sources,
    output:
        **dataset_files("{dataset}"),
        preview=traced_report(
            dataset_preview("{dataset}"),
            caption="../report/dataset_preview.rst",
            category="Datasets",
            subcategory="{dataset}",
        ),
    params:
        settings=lambda wildcards: config["datasets"][wildcards.dataset],
    log:
        "logs/datasets/{dataset}.log",
    resources:
        mem_mb=2000,
    conda:
        "../../envs/xai.yaml"
    script:
        "../scripts/make_dataset.py"


rule make_test_dataset:
    """A dataset with one unlabelled test split: the shipped photographs (or ImageNet images),
    or MexCulture142 with its gaze density maps (real only)."""
    input:
        sources=dataset_sources,
    output:
        **dataset_files("{dataset}", splits=["test"]),
        preview=traced_report(
            dataset_preview("{dataset}"),
            caption="../report/test_dataset_preview.rst",
            category="Datasets",
            subcategory="{dataset}",
        ),
    params:
        settings=lambda wildcards: config["datasets"][wildcards.dataset],
    log:
        "logs/datasets/{dataset}.log",
    wildcard_constraints:
        dataset="|".join(name for name, spec in DATASETS.items() if spec.splits == ("test",)),
    conda:
        "../../envs/xai.yaml"
    script:
        "../scripts/make_dataset.py"
